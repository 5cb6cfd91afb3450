package embedded

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// secretEnv is what Easel's own environment may hold and no child may see.
var secretEnv = map[string]string{
	"EASEL_SECRET":          "leak-easel-secret",
	"EASEL_ADMIN_PASSWORD":  "leak-admin-password",
	"EASEL_API_KEY":         "leak-api-key",
	"DATABASE_URL":          "postgres://leak@db/easel",
	"AWS_ACCESS_KEY_ID":     "LEAKACCESSKEYID",
	"AWS_SECRET_ACCESS_KEY": "leak-aws-secret",
	"PGPASSWORD":            "leak-pg-password",
}

// setSecretEnv puts secretEnv into the test's environment (so the test
// cannot run in parallel).
func setSecretEnv(t *testing.T) {
	t.Helper()
	for k, v := range secretEnv {
		t.Setenv(k, v)
	}
	t.Setenv("LC_ALL", "C")
}

// environOf returns the environment pid was started with.
func environOf(t *testing.T, pid int) map[string]string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Fatalf("environment of the child: %v", err)
	}
	env := map[string]string{}
	for _, kv := range bytes.Split(b, []byte{0}) {
		if k, v, ok := strings.Cut(string(kv), "="); ok {
			env[k] = v
		}
	}
	return env
}

// checkChildEnv fails the test if env holds any of secretEnv, or lacks PATH
// and the locale.
func checkChildEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for k, v := range env {
		if _, ok := secretEnv[k]; ok {
			t.Errorf("child environment has %s=%s", k, v)
			continue
		}
		for _, secret := range secretEnv {
			if strings.Contains(v, secret) {
				t.Errorf("child environment has %s=%s", k, v)
			}
		}
	}
	if env["PATH"] != os.Getenv("PATH") || env["LC_ALL"] != "C" {
		t.Errorf("child environment PATH=%q LC_ALL=%q, want ours", env["PATH"], env["LC_ALL"])
	}
}

func skipUnlessLinux(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/<pid>/environ")
	}
}

func TestChildEnv(t *testing.T) {
	setSecretEnv(t)
	env := childEnv("ROOT_ACCESS_KEY=a")
	if env == nil || env[len(env)-1] != "ROOT_ACCESS_KEY=a" {
		t.Fatalf("childEnv(ROOT_ACCESS_KEY=a) = %q, want it last", env)
	}
	for _, kv := range env {
		if name, _, _ := strings.Cut(kv, "="); secretEnv[name] != "" {
			t.Errorf("childEnv() has %s", kv)
		}
	}
}

func TestS3GatewayEnvironment(t *testing.T) {
	skipUnlessLinux(t)
	setSecretEnv(t)
	bin := os.Getenv("EASEL_S3GW_BIN")
	if bin == "" {
		bin = filepath.Join("..", "bin", "versitygw")
	}
	g, err := StartS3Gateway(context.Background(), t.TempDir(), bin, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("versitygw (run `make bin/versitygw`): %v", err)
	}
	t.Cleanup(g.Stop)
	env := environOf(t, g.cmd.Process.Pid)
	checkChildEnv(t, env)
	if env["ROOT_ACCESS_KEY"] != g.AccessKey || env["ROOT_SECRET_KEY"] != g.SecretKey {
		t.Errorf("gateway ROOT_ACCESS_KEY=%q ROOT_SECRET_KEY=%q, want its credentials", env["ROOT_ACCESS_KEY"], env["ROOT_SECRET_KEY"])
	}
}

func TestPostgresEnvironment(t *testing.T) {
	skipUnlessLinux(t)
	if _, err := postgresBinDir(); err != nil {
		t.Skip(err)
	}
	setSecretEnv(t)
	p, err := StartPostgres(context.Background(), filepath.Join(t.TempDir(), "pg"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	checkChildEnv(t, environOf(t, p.cmd.Process.Pid))
}
