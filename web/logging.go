package web

import (
	"log/slog"
	"strings"
	"time"

	"easel/internal/logx"
	"easel/store"

	"github.com/labstack/echo/v4"
)

// logRequests writes one slog line per request, and puts the request id
// on the request's context for the lines written while serving it
// (logx.For), with the request's audit origin (store.Origin: the key id
// is added once the key is known).
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		id := c.Response().Header().Get(echo.HeaderXRequestID)
		// A client may send its own X-Request-Id: the audit log keeps at
		// most maxRequestID bytes of it.
		origin := &store.Origin{Via: s.via(c.Request().URL.Path), Address: c.RealIP(), RequestID: id[:min(len(id), maxRequestID)]}
		c.SetRequest(c.Request().WithContext(store.WithOrigin(logx.WithRequestID(c.Request().Context(), id), origin)))
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
			"request_id", id,
			"method", c.Request().Method,
			"route", c.Path(),
			"status", c.Response().Status,
			"duration_ms", float64(time.Since(start).Microseconds())/1000,
			"user", user,
		)
		return nil
	}
}

// maxRequestID bounds the request id an audit entry keeps.
const maxRequestID = 128

// via names how a request reaches Easel, for the audit log.
func (s *Server) via(path string) string {
	switch {
	case s.isAPI(path):
		return store.ViaAPI
	case isWorker(path):
		return store.ViaWorker
	}
	return store.ViaConsole
}
