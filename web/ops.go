package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"easel/policy"
)

// ReadyCheck is one thing GET /readyz checks: nil from Check means ready.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// readyTimeout bounds the checks of one /readyz.
const readyTimeout = 5 * time.Second

// healthz says the process is alive and serving: it checks nothing else,
// so a slow database never gets a live replica restarted.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// checkResult is one check as an authorised caller of /readyz sees it.
type checkResult struct {
	OK    bool    `json:"ok"`
	MS    float64 `json:"ms"`
	Error string  `json:"error,omitempty"`
}

// readyz runs every ReadyCheck at once within readyTimeout: 200 when all
// pass, else 503. Which check failed, why and how long each took are shown
// only to the holder of the metrics token or a signed-in user with
// user:all; others get the status alone.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), readyTimeout)
	defer cancel()
	results := make(map[string]checkResult, len(s.deps.Ready))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, rc := range s.deps.Ready {
		wg.Go(func() {
			start := time.Now()
			err := rc.Check(ctx)
			r := checkResult{OK: err == nil, MS: float64(time.Since(start).Microseconds()) / 1000}
			if err != nil {
				r.Error = err.Error()
				s.deps.Log.Warn("readyz: check failed", "check", rc.Name, "error", err)
			}
			mu.Lock()
			results[rc.Name] = r
			mu.Unlock()
		})
	}
	wg.Wait()
	status, code := "ok", http.StatusOK
	for _, r := range results {
		if !r.OK {
			status, code = "not ready", http.StatusServiceUnavailable
		}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	if !s.mayReadDetails(c) {
		return c.JSON(code, map[string]string{"status": status})
	}
	return c.JSON(code, map[string]any{"status": status, "checks": results})
}

// mayReadDetails: the metrics token (when one is set), or a console
// session of a user with user:all.
func (s *Server) mayReadDetails(c echo.Context) bool {
	if s.cfg.MetricsToken != "" && s.bearerIsMetricsToken(c.Request()) {
		return true
	}
	p, ok := policy.FromContext(c.Request().Context())
	return ok && s.deps.Policy.Can(p, policy.UserAll)
}

// serveMetrics is GET /metrics: the Prometheus text, for the bearer of
// EASEL_METRICS_TOKEN when it is set (401 otherwise), else for anyone.
func (s *Server) serveMetrics(c echo.Context) error {
	if s.cfg.MetricsToken != "" && !s.bearerIsMetricsToken(c.Request()) {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="easel metrics"`)
		return c.String(http.StatusUnauthorized, "The metrics need Authorization: Bearer <EASEL_METRICS_TOKEN>.\n")
	}
	s.metricsHandler.ServeHTTP(c.Response(), c.Request())
	return nil
}

// bearerIsMetricsToken compares in constant time (of the hashes, so the
// token's length does not show either).
func (s *Server) bearerIsMetricsToken(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(s.cfg.MetricsToken))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// observeRequests records each answered request by route pattern (echo's
// c.Path(), never the URL), method and status class. It runs outside
// logRequests, which has turned any error into the response.
func (s *Server) observeRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !s.deps.Metrics.Enabled() {
			return next(c)
		}
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		s.deps.Metrics.ObserveHTTP(c.Path(), c.Request().Method, c.Response().Status, time.Since(start))
		return nil
	}
}
