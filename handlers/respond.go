package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"easel/policy"
	"easel/store"
)

// Envelope is ESD's response body: statusCode, then data and message when
// they are set.
type Envelope struct {
	StatusCode int    `json:"statusCode"`
	Data       any    `json:"data,omitempty"`
	Message    string `json:"message,omitempty"`
}

var defaultMessages = map[int]string{
	http.StatusOK: "OK", http.StatusCreated: "Created", http.StatusAccepted: "Accepted",
	http.StatusNoContent: "No Content", http.StatusBadRequest: "Bad Request",
	http.StatusForbidden: "Forbidden", http.StatusNotFound: "Not Found",
}

// Respond writes an envelope; a 204 carries no body.
func Respond(c echo.Context, status int, data any, message string) error {
	if status == http.StatusNoContent {
		return c.NoContent(status)
	}
	if message == "" {
		message = defaultMessages[status]
	}
	body, err := json.Marshal(Envelope{StatusCode: status, Data: data, Message: message})
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	// One write with a length: no chunked encoding for larger lists.
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(len(body)))
	return c.JSONBlob(status, body)
}

// decodeBody decodes the JSON body into v: an API body was read and
// validated already, a console body is bounded by the server; a body over
// that bound is returned as the *http.MaxBytesError it is (413).
func decodeBody(c echo.Context, v any) error {
	dec := json.NewDecoder(c.Request().Body)
	if err := dec.Decode(v); err != nil {
		if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
			return fmt.Errorf("decode body: %w", err)
		}
		return store.Errorf(store.EInvalid, "Invalid request body: %s", err.Error())
	}
	return nil
}

// actor returns the principal the identity middleware resolved.
func actor(c echo.Context) policy.Principal {
	p, _ := policy.FromContext(c.Request().Context())
	return p
}
