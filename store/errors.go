package store

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Code classifies an error for the one table in web/ that maps errors to
// HTTP statuses.
type Code string

// Error codes.
const (
	EInvalid      Code = "invalid"
	ENotFound     Code = "not_found"
	EConflict     Code = "conflict"
	EUnauthorized Code = "unauthorized"
	EForbidden    Code = "forbidden"
	ETooMany      Code = "too_many"
	EInternal     Code = "internal"
)

// Error is a domain error whose Message is safe to show to the caller.
type Error struct {
	Code    Code
	Message string
	// Field names the input field the error is about, when there is one.
	Field string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with a formatted, user-facing message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EInvalid error about one input field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Message: fmt.Sprintf(format, args...), Field: field}
}

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = &Error{Code: ENotFound, Message: "Not found"}

// ErrorCode returns the code of err, EInternal for errors that are not ours.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the user-facing message of err.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// translate turns Postgres errors into domain errors in one place.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return &Error{Code: EConflict, Message: "already exists"}
		case "22021", "22P05": // invalid UTF-8, or NUL in text
			return &Error{Code: EInvalid, Message: "text contains a character that cannot be stored (NUL or invalid UTF-8)"}
		}
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}
