package testenv

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"

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
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	return &Server{App: a, URL: srv.URL, Log: logs}
}
