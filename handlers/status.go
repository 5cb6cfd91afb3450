package handlers

import (
	"net/http"

	"easel/store"
)

// statuses is the one table from domain error codes to HTTP statuses: for
// the API (ESD's contract knows only 400, 401, 403 and 404 for a client's
// mistakes) and for the console (pages, htmx fragments, script JSON).
var statuses = map[store.Code]struct{ api, console int }{
	store.EInvalid:      {http.StatusBadRequest, http.StatusUnprocessableEntity},
	store.EConflict:     {http.StatusBadRequest, http.StatusConflict},
	store.ETooMany:      {http.StatusBadRequest, http.StatusTooManyRequests},
	store.ENotFound:     {http.StatusNotFound, http.StatusNotFound},
	store.EUnauthorized: {http.StatusUnauthorized, http.StatusUnauthorized},
	store.EForbidden:    {http.StatusForbidden, http.StatusForbidden},
}

// APIStatus returns the API status of err; ok=false when err is not a
// client's mistake (then it is ours: 500).
func APIStatus(err error) (status int, ok bool) {
	s, ok := statuses[store.ErrorCode(err)]
	return s.api, ok
}

// ConsoleStatus returns the console status of err; ok=false when err is
// not a client's mistake (then it is ours: 500).
func ConsoleStatus(err error) (status int, ok bool) {
	s, ok := statuses[store.ErrorCode(err)]
	return s.console, ok
}
