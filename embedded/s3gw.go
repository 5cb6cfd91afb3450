package embedded

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// S3Gateway is a running versitygw serving a posix directory.
type S3Gateway struct {
	// Endpoint is the gateway's URL, e.g. http://127.0.0.1:41234.
	Endpoint  string
	AccessKey string
	SecretKey string
	cmd       *exec.Cmd
	done      chan struct{}
}

type s3Credentials struct {
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
}

// StartS3Gateway starts versitygw over dir (objects in dir/data, metadata
// in dir/meta). The root credentials are generated once and kept in
// dir/credentials.json.
func StartS3Gateway(ctx context.Context, dir, bin string, log *slog.Logger) (*S3Gateway, error) {
	path, err := findGateway(bin)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{filepath.Join(dir, "data"), filepath.Join(dir, "meta")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("s3 dir: %w", err)
		}
	}
	creds, err := loadOrCreateCredentials(filepath.Join(dir, "credentials.json"))
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(path, "--port", addr, "--quiet", "posix",
		"--sidecar", filepath.Join(dir, "meta"), filepath.Join(dir, "data"))
	cmd.Env = childEnv("ROOT_ACCESS_KEY="+creds.AccessKey, "ROOT_SECRET_KEY="+creds.SecretKey)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	logFile, err := os.OpenFile(filepath.Join(dir, "versitygw.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("s3 gateway log: %w", err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	g := &S3Gateway{Endpoint: "http://" + addr, AccessKey: creds.AccessKey, SecretKey: creds.SecretKey,
		cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logFile.Close(); close(g.done) }()
	if err := waitListening(ctx, addr, g.done); err != nil {
		g.Stop()
		return nil, fmt.Errorf("versitygw did not start (see %s): %w", filepath.Join(dir, "versitygw.log"), err)
	}
	log.Info("embedded s3 gateway started", "endpoint", g.Endpoint, "dir", dir)
	return g, nil
}

// Stop terminates the gateway and waits for it.
func (g *S3Gateway) Stop() {
	if g == nil || g.cmd.Process == nil {
		return
	}
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.done:
	case <-time.After(10 * time.Second):
		_ = g.cmd.Process.Kill()
		<-g.done
	}
}

// findGateway looks for versitygw: the configured path, next to our own
// binary, in ./bin, then on PATH.
func findGateway(configured string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	var candidates []string
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Dir(exe), "versitygw"))
	}
	candidates = append(candidates, filepath.Join("bin", "versitygw"))
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c, nil
		}
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	return "", errors.New("versitygw not found: run `make` (builds bin/versitygw), set EASEL_S3GW_BIN, or set EASEL_S3_ENDPOINT")
}

func loadOrCreateCredentials(path string) (s3Credentials, error) {
	var c s3Credentials
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &c); err != nil {
			return c, fmt.Errorf("read %s: %w", path, err)
		}
		return c, nil
	}
	c = s3Credentials{AccessKey: "easel" + randomHex(8), SecretKey: randomHex(20)}
	b, _ := json.Marshal(c)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return c, fmt.Errorf("write %s: %w", path, err)
	}
	return c, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func waitListening(ctx context.Context, addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-exited:
			return errors.New("process exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return err
		}
	}
}
