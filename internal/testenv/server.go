package testenv

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"easel/app"
)

// Fixed credentials of every test server.
const (
	AdminPassword = "admin-password-1"
	ServiceKey    = "esdservicekey0123456"
)

// Server is a running Easel on real Postgres and S3.
type Server struct {
	App *app.App
	URL string
	// Log holds everything the server logged.
	Log *bytes.Buffer

	http *httptest.Server
	once sync.Once
}

// Option changes a test server's environment.
type Option func(env map[string]string)

// WithEnv sets one environment variable.
func WithEnv(name, value string) Option {
	return func(env map[string]string) { env[name] = value }
}

// NewServer starts Easel on a cloned database and a fresh bucket.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	return Start(t, Env(t, opts...))
}

// Env returns the environment of a test server: a cloned database, a fresh
// bucket and fixed credentials, changed by opts. Two servers started with
// the same Env share their data (a restart).
func Env(t testing.TB, opts ...Option) map[string]string {
	t.Helper()
	s3 := NewS3(t)
	env := map[string]string{
		"DATABASE_URL":         DatabaseURL(t),
		"EASEL_DATA_DIR":       t.TempDir(),
		"EASEL_S3_ENDPOINT":    s3.Endpoint,
		"EASEL_S3_ACCESS_KEY":  s3.AccessKey,
		"EASEL_S3_SECRET_KEY":  s3.SecretKey,
		"EASEL_S3_BUCKET":      s3.Bucket,
		"EASEL_ADMIN_PASSWORD": AdminPassword,
		"EASEL_API_KEY":        ServiceKey,
		"EASEL_SECRET":         "test-secret-0123456789",
	}
	for _, o := range opts {
		o(env)
	}
	return env
}

// Start runs Easel with env until the test ends (or Stop).
func Start(t testing.TB, env map[string]string) *Server {
	t.Helper()
	cfg, err := app.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &bytes.Buffer{}
	var w io.Writer = logs
	if os.Getenv("EASEL_TEST_LOG") != "" {
		w = io.MultiWriter(logs, os.Stderr)
	}
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(w, nil)), io.Discard)
	if err != nil {
		t.Fatalf("open easel: %v", err)
	}
	srv := httptest.NewServer(a.Web.Echo)
	s := &Server{App: a, URL: srv.URL, Log: logs, http: srv}
	t.Cleanup(s.Stop)
	return s
}

// Stop shuts the server down (again: no-op).
func (s *Server) Stop() {
	s.once.Do(func() {
		s.http.Close()
		s.App.Close()
	})
}

// Crash stops the server the hard way: running jobs are cancelled
// mid-flight instead of being allowed to finish.
func (s *Server) Crash() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.App.River.StopAndCancel(ctx)
	s.Stop()
}
