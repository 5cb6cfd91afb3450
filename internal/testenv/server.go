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
	// stopServing and served belong to a server started by StartServing.
	stopServing context.CancelFunc
	served      chan error
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

// StartServing runs Easel with env the way `easel serve` does (App.Serve
// on a free loopback port, graceful shutdown included) until the test ends
// or Shutdown.
func StartServing(t testing.TB, env map[string]string) *Server {
	t.Helper()
	env["EASEL_ADDR"] = "127.0.0.1:0"
	cfg, err := app.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &bytes.Buffer{}
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(&syncWriter{w: logs}, nil)), io.Discard)
	if err != nil {
		t.Fatalf("open easel: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{App: a, Log: logs, stopServing: cancel, served: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() { s.served <- a.Serve(ctx, func(a string) { addr <- a }) }()
	select {
	case got := <-addr:
		s.URL = "http://" + got
	case err := <-s.served:
		a.Close()
		t.Fatalf("serve: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Shutdown ends a server of StartServing as a signal ends `easel serve`:
// it returns when App.Serve does, with its error. The app stays open
// until Stop.
func (s *Server) Shutdown() error {
	s.stopServing()
	err := <-s.served
	s.served <- err // for Stop, or a second Shutdown
	return err
}

// syncWriter lets the serving goroutines and the test share the log.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// Stop shuts the server down (again: no-op).
func (s *Server) Stop() {
	s.once.Do(func() {
		if s.http != nil {
			s.http.Close()
		} else {
			_ = s.Shutdown()
		}
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
