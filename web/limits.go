package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"easel/metrics"
)

// consoleBodyLimit is the largest body a console request may send: forms
// and small JSON. Model files never pass through: browsers send them
// straight to the object store through presigned URLs.
const consoleBodyLimit = 1 << 20

var errBodyTooLarge = echo.NewHTTPError(http.StatusRequestEntityTooLarge,
	"The request is too large: the console accepts at most 1 MiB. Model files are uploaded straight to storage from the Models page.")

// limitConsoleBody bounds every console request body before anything reads
// or parses it (session, CSRF, handlers). API routes read their bodies
// bounded themselves (readBody) and keep ESD's answer.
func (s *Server) limitConsoleBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if s.isAPI(r.URL.Path) {
			return next(c)
		}
		if r.ContentLength > consoleBodyLimit {
			s.deps.Metrics.Refused(metrics.LimitConsoleBody)
			return errBodyTooLarge
		}
		r.Body = http.MaxBytesReader(c.Response().Writer, r.Body, consoleBodyLimit)
		return next(c)
	}
}
