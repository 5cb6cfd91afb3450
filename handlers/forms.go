package handlers

import (
	"errors"

	"easel/store"
	"easel/views"
)

// formErrors turns a domain error into messages next to the form's fields
// and the status to answer with; ok=false for errors that are not the
// user's to fix (they go to the central error handler).
func formErrors(err error) (errs views.FormErrors, status int, ok bool) {
	var e *store.Error
	if !errors.As(err, &e) || e.Code == store.EUnauthorized || e.Code == store.ETooMany {
		return nil, 0, false
	}
	status, ok = ConsoleStatus(err)
	if !ok {
		return nil, 0, false
	}
	return views.FormErrors{e.Field: e.Message}, status, true
}
