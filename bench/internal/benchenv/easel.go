package benchenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"

	"easel/app"
)

// ServiceKey is the API key (EASEL_API_KEY) of the Easel a bench starts.
const ServiceKey = "benchservicekey01234"

// Scratch creates what a bench runs on: the database of CreateDatabase and
// a temporary directory easel-bench-<name>-*. It returns the database URL,
// the directory and the function that removes both.
func Scratch(ctx context.Context, name string) (dbURL, dir string, cleanup func() error, err error) {
	dbURL, dropDB, err := CreateDatabase(ctx, name)
	if err != nil {
		return "", "", nil, err
	}
	dir, err = os.MkdirTemp("", "easel-bench-"+name+"-")
	if err != nil {
		return "", "", nil, errors.Join(err, dropDB())
	}
	return dbURL, dir, func() error { return errors.Join(os.RemoveAll(dir), dropDB()) }, nil
}

// Prepare checks that the working directory is the repository root
// (go run ./bench/<cmd>), then creates cmd's database and directory
// (Scratch). It returns the root, the database URL, the directory and the
// function that removes both.
func Prepare(ctx context.Context, cmd string) (root, dbURL, dir string, cleanup func() error, err error) {
	root, _ = os.Getwd()
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", "", "", nil, errors.New("run from the repository root (go run ./bench/" + cmd + ")")
	}
	dbURL, dir, cleanup, err = Scratch(ctx, cmd)
	return root, dbURL, dir, cleanup, err
}

// GatewayBin is the S3 gateway binary of the repository at root.
func GatewayBin(root string) string { return filepath.Join(root, "bin", "versitygw") }

// Env is the environment of a bench's Easel: the database at dbURL, the
// data dir, the gateway of the repository at root, the admin password, the
// service key and a secret. Programs add their own settings to it.
func Env(root, dbURL, dataDir string) map[string]string {
	return map[string]string{
		"DATABASE_URL":         dbURL,
		"EASEL_ADDR":           "127.0.0.1:0",
		"EASEL_DATA_DIR":       dataDir,
		"EASEL_S3GW_BIN":       GatewayBin(root),
		"EASEL_ADMIN_PASSWORD": "bench-admin-password",
		"EASEL_API_KEY":        ServiceKey,
		"EASEL_SECRET":         "bench-secret-0123456789abcdef",
	}
}

// Open opens Easel in-process the way `easel serve` does (app.LoadConfig
// and app.Open) over env. Logs go through the production JSON handler, so
// formatting costs what it costs in production; only the writing is skipped
// (io.Discard).
func Open(ctx context.Context, env map[string]string) (*app.App, error) {
	cfg, err := app.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	a, err := app.Open(ctx, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		return nil, fmt.Errorf("open easel: %w", err)
	}
	return a, nil
}

// Start opens Easel over env (Open) and serves it on a free 127.0.0.1 port
// (Serve). It returns the app, its base URL and the function that shuts the
// server down and closes the app.
func Start(ctx context.Context, env map[string]string) (*app.App, string, func() error, error) {
	a, err := Open(ctx, env)
	if err != nil {
		return nil, "", nil, err
	}
	url, stop, err := Serve(a.Web.HTTPServer("127.0.0.1:0"))
	if err != nil {
		a.Close()
		return nil, "", nil, err
	}
	return a, url, func() error {
		defer a.Close()
		return stop()
	}, nil
}

// Easel is a bench's Easel, started by Launch.
type Easel struct {
	*app.App
	URL     string // its base URL
	Root    string // the repository
	DBURL   string // its database
	DataDir string // its data dir
}

// Launch prepares cmd's database and data dir (Prepare) and starts Easel
// over them (Start) with Env and extra. It returns Easel and the function
// that stops it, then removes the database and the data dir.
func Launch(ctx context.Context, cmd string, extra map[string]string) (*Easel, func() error, error) {
	root, dbURL, dataDir, cleanup, err := Prepare(ctx, cmd)
	if err != nil {
		return nil, nil, err
	}
	env := Env(root, dbURL, dataDir)
	maps.Copy(env, extra)
	a, url, stop, err := Start(ctx, env)
	if err != nil {
		return nil, nil, errors.Join(err, cleanup())
	}
	e := &Easel{App: a, URL: url, Root: root, DBURL: dbURL, DataDir: dataDir}
	return e, func() error { return errors.Join(stop(), cleanup()) }, nil
}
