package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"easel/handlers"
	"easel/policy"
	"easel/secrets"
	"easel/store"
	"easel/workerproto"
)

// workerRoutes is the lease protocol (workerproto), outside the API base
// path: only worker keys may call it.
func (s *Server) workerRoutes(h handlerSet) {
	for _, r := range []struct {
		path    string
		handler echo.HandlerFunc
	}{
		{workerproto.PathHello, h.workers.Hello},
		{workerproto.PathLease, h.workers.Lease},
		{workerproto.PathHeartbeat, h.workers.Heartbeat},
		{workerproto.PathComplete, h.workers.Complete},
		{workerproto.PathFail, h.workers.Fail},
		{workerproto.PathUpload, h.workers.Upload},
	} {
		s.guards[http.MethodPost+" "+r.path] = policy.WorkerKey
		s.Echo.POST(r.path, r.handler, s.requireWorkerKey)
	}
}

// isWorker reports whether path is a lease protocol route.
func isWorker(path string) bool { return strings.HasPrefix(path, "/workers/v1/") }

// requireWorkerKey resolves Authorization: Bearer <worker key>.
func (s *Server) requireWorkerKey(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		secret, ok := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
		if !ok || secret == "" {
			return errNoWorkerKey
		}
		k, ok := s.deps.Policy.Key(secrets.HashKey(secret))
		if !ok || k.Pool == "" {
			return errNoWorkerKey
		}
		c.Set("worker_key", k)
		if o := store.OriginRef(c.Request().Context()); o != nil {
			o.KeyID = k.ID
		}
		c.Set("user", "worker:"+k.Pool)
		return next(c)
	}
}

var errNoWorkerKey = store.Errorf(store.EUnauthorized, "a worker key is required: Authorization: Bearer <worker key>")

// workerError answers a worker in JSON, {"error": message}.
func (s *Server) workerError(err error, c echo.Context) {
	status, ok := handlers.ConsoleStatus(err)
	var he *echo.HTTPError
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		status, ok = he.Code, true
	case errors.As(err, &tooLarge):
		status, ok = http.StatusRequestEntityTooLarge, true
	}
	if !ok {
		s.logFailure(c, err)
		_ = c.JSON(http.StatusInternalServerError, map[string]string{"error": "internal error"})
		return
	}
	_ = c.JSON(status, map[string]string{"error": store.ErrorMessage(err)})
}
