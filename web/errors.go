package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"easel/handlers"
	"easel/metrics"
	"easel/policy"
	"easel/store"
	"easel/views"
)

// handleError is the one place errors become responses.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if s.isAPI(c.Request().URL.Path) {
		s.apiError(err, c)
		return
	}
	if isWorker(c.Request().URL.Path) {
		s.workerError(err, c)
		return
	}
	s.pageError(err, c)
}

func (s *Server) apiError(err error, c echo.Context) {
	setAPIHeaders(c.Response().Header(), s.cfg.APIVersion)
	var he *echo.HTTPError
	switch {
	case errors.Is(err, errNoKey):
		_ = c.JSON(http.StatusForbidden, map[string]string{"message": "Forbidden"})
		return
	case errors.As(err, &he) && (he.Code == http.StatusNotFound || he.Code == http.StatusMethodNotAllowed):
		_ = c.JSON(http.StatusForbidden, map[string]string{"message": "Missing Authentication Token"})
		return
	case errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge:
		err = store.Errorf(store.EInvalid, "Request body too large")
	}
	status, ok := handlers.APIStatus(err)
	if !ok {
		s.logFailure(c, err)
		_ = c.JSON(http.StatusInternalServerError, handlers.Envelope{StatusCode: 500, Message: "Internal error."})
		return
	}
	msg := store.ErrorMessage(err)
	_ = c.JSON(status, handlers.Envelope{StatusCode: status, Message: msg})
}

func (s *Server) pageError(err error, c echo.Context) {
	htmx := c.Request().Header.Get("HX-Request") == "true"
	if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
		s.deps.Metrics.Refused(metrics.LimitConsoleBody)
		err = errBodyTooLarge
	}
	if errors.Is(err, errSignIn) || (store.ErrorCode(err) == store.EUnauthorized) {
		if htmx {
			c.Response().Header().Set("HX-Redirect", loginURL(c))
			_ = c.NoContent(http.StatusUnauthorized)
			return
		}
		_ = c.Redirect(http.StatusSeeOther, loginURL(c))
		return
	}
	status, ok := handlers.ConsoleStatus(err)
	msg := store.ErrorMessage(err)
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		status, ok = he.Code, true
		msg = http.StatusText(he.Code)
		if m, isString := he.Message.(string); isString && he.Code < 500 {
			msg = m
		}
	case !ok:
		s.logFailure(c, err)
		status, msg = http.StatusInternalServerError, "Internal error. It has been logged; please try again."
	}
	if status == http.StatusNotFound && msg == store.ErrNotFound.Message {
		msg = "This page or item does not exist, or you may not see it."
	}
	if htmx {
		c.Response().Header().Set("HX-Retarget", "#flash")
		c.Response().Header().Set("HX-Reswap", "innerHTML")
		_ = handlers.Render(c, status, views.Alert(msg))
		return
	}
	if _, ok := policy.FromContext(c.Request().Context()); !ok {
		// Unmatched paths skip the route middleware: find the user and the
		// CSRF token here so the error page still has its navigation.
		if name, err := s.sessions.user(c.Request()); err == nil && name != "" && s.deps.Policy.UserExists(name) {
			c.SetRequest(c.Request().WithContext(policy.NewContext(c.Request().Context(), policy.User(name))))
		}
	}
	if c.Get("csrf") == nil {
		if token, err := s.csrfToken(c); err == nil {
			c.Set("csrf", token)
		}
	}
	base := views.Base{Title: http.StatusText(status), CSRF: handlers.CSRFToken(c)}
	if p, ok := policy.FromContext(c.Request().Context()); ok {
		base = handlers.BaseView(c, s.deps.Policy, http.StatusText(status), "")
		base.User = p.Name()
	}
	_ = handlers.Render(c, status, views.Error(views.ErrorPage{Base: base, Status: status, Message: msg}))
}

func (s *Server) logFailure(c echo.Context, err error) {
	s.deps.Log.Error("request failed", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
		"user", c.Get("user"), "route", c.Path(), "error", err)
}
