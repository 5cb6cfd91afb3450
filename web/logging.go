package web

import (
	"log/slog"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// logRequests writes one slog line per request.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		user, _ := c.Get("user").(string)
		level := slog.LevelInfo
		if strings.HasPrefix(c.Path(), "/static") {
			level = slog.LevelDebug // every page pulls a few; they would bury the rest
		}
		s.deps.Log.Log(c.Request().Context(), level, "request",
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID),
			"method", c.Request().Method,
			"route", c.Path(),
			"status", c.Response().Status,
			"duration_ms", float64(time.Since(start).Microseconds())/1000,
			"user", user,
		)
		return nil
	}
}
