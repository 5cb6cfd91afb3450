package handlers

import (
	"errors"
	"net/http"

	"easel/store"
	"easel/views"
)

// formErrors turns a domain error into messages next to the form's fields
// and the status to answer with; ok=false for errors that are not the
// user's to fix (they go to the central error handler).
func formErrors(err error) (errs views.FormErrors, status int, ok bool) {
	var e *store.Error
	if !errors.As(err, &e) {
		return nil, 0, false
	}
	status = map[store.Code]int{
		store.EInvalid: formStatus, store.EForbidden: http.StatusForbidden,
		store.EConflict: http.StatusConflict, store.ENotFound: http.StatusNotFound,
	}[e.Code]
	if status == 0 {
		return nil, 0, false
	}
	return views.FormErrors{e.Field: e.Message}, status, true
}
