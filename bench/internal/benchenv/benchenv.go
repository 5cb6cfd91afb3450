// Package benchenv is what the bench programs share: a throwaway database
// and data dir, Easel started in-process on a free loopback port, requests
// through the service key, percentiles, and a few readings of the machine.
package benchenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"easel/internal/testenv"
)

// RepoRoot finds go.mod from the working directory upwards.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root (go.mod) not found above the working directory")
		}
		dir = parent
	}
}

// CreateDatabase creates an empty database easel_bench_<name>_<pid> on the
// test server and returns its URL and the function that drops it.
func CreateDatabase(ctx context.Context, name string) (string, func() error, error) {
	admin := testenv.AdminURL()
	u, err := url.Parse(admin)
	if err != nil {
		return "", nil, fmt.Errorf("admin database URL: %w", err)
	}
	db := fmt.Sprintf("easel_bench_%s_%d", name, os.Getpid())
	exec := func(ctx context.Context, sql string) error {
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			return fmt.Errorf("connect to postgres %s: %w", admin, err)
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec(ctx, "CREATE DATABASE "+db); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", db, err)
	}
	drop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop database %s: %w", db, err)
		}
		return nil
	}
	u.Path = "/" + db
	return u.String(), drop, nil
}

// Serve runs srv on a free 127.0.0.1 port and returns its base URL and the
// function that shuts it down.
func Serve(srv *http.Server) (string, func() error, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	stop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			return err
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
	return "http://" + ln.Addr().String(), stop, nil
}
