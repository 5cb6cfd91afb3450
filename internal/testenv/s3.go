package testenv

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"easel/embedded"
)

var (
	gatewayOnce sync.Once
	gateway     *embedded.S3Gateway
	gatewayErr  error
	bucketSeq   atomic.Int64
)

// RepoRoot returns the repository root (where go.mod is).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// GatewayBin returns the versitygw binary the tests use: EASEL_S3GW_BIN or
// bin/versitygw (built by `make`).
func GatewayBin() string {
	if b := os.Getenv("EASEL_S3GW_BIN"); b != "" {
		return b
	}
	return filepath.Join(RepoRoot(), "bin", "versitygw")
}

// S3 is a bucket on the shared test gateway.
type S3 struct {
	Endpoint, AccessKey, SecretKey, Bucket string
}

// NewS3 returns a fresh, unique bucket name on the process's versitygw (the
// bucket itself is created by whoever uses it, as Easel does at start).
func NewS3(t testing.TB) S3 {
	t.Helper()
	gatewayOnce.Do(func() {
		dir, err := os.MkdirTemp("", "easel-s3-")
		if err != nil {
			gatewayErr = err
			return
		}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		gateway, gatewayErr = embedded.StartS3Gateway(context.Background(), dir, GatewayBin(), log)
	})
	if gatewayErr != nil {
		t.Fatalf("versitygw (run `make bin/versitygw`): %v", gatewayErr)
	}
	return S3{Endpoint: gateway.Endpoint, AccessKey: gateway.AccessKey, SecretKey: gateway.SecretKey,
		Bucket: fmt.Sprintf("t%d-%d", os.Getpid(), bucketSeq.Add(1))}
}

// StopGateway stops the shared gateway; call it from TestMain.
func StopGateway() {
	if gateway != nil {
		gateway.Stop()
	}
}
