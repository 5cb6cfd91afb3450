// Package embedded starts the private Postgres cluster and the versitygw S3
// gateway that Easel runs on when no external ones are configured.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres is a running private cluster.
type Postgres struct {
	// URL is the connection string of the cluster's "easel" database.
	URL string
	cmd *exec.Cmd
	log *slog.Logger
}

// running returns the port of a postmaster already serving dir (another
// easel process, e.g. the server while the CLI runs), 0 when none.
func running(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 4 {
		return 0
	}
	pid, err1 := strconv.Atoi(strings.TrimSpace(lines[0]))
	port, err2 := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err1 != nil || err2 != nil || syscall.Kill(pid, 0) != nil {
		return 0
	}
	return port
}

// StartPostgres initialises (first time) and starts a cluster in dir using
// the machine's PostgreSQL binaries. As root it runs them as user postgres,
// since initdb refuses root.
func StartPostgres(ctx context.Context, dir string, log *slog.Logger) (*Postgres, error) {
	bin, err := postgresBinDir()
	if err != nil {
		return nil, err
	}
	cred, err := dropRootCredential(dir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		log.Info("initialising private postgres cluster", "dir", dir)
		initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", dir, "-U", "easel",
			"--auth=trust", "--encoding=UTF8", "--locale=C")
		initdb.Env = childEnv()
		initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		if out, err := initdb.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("initdb: %w: %s", err, out)
		}
	}
	if port := running(dir); port != 0 {
		log.Info("using the private postgres cluster already running", "port", port)
		return &Postgres{URL: fmt.Sprintf("postgres://easel@127.0.0.1:%d/easel?sslmode=disable", port), log: log}, nil
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", dir, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=")
	cmd.Env = childEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGTERM}
	logFile, err := os.OpenFile(filepath.Join(filepath.Dir(dir), "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("postgres log: %w", err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	go func() { _ = cmd.Wait(); logFile.Close() }()
	p := &Postgres{cmd: cmd, log: log}
	admin := fmt.Sprintf("postgres://easel@127.0.0.1:%d/postgres?sslmode=disable", port)
	if err := waitAndCreateDB(ctx, admin); err != nil {
		p.Stop()
		return nil, err
	}
	p.URL = fmt.Sprintf("postgres://easel@127.0.0.1:%d/easel?sslmode=disable", port)
	log.Info("private postgres started", "port", port, "dir", dir)
	return p, nil
}

// Owned reports whether this process started the cluster (and so is its
// only user), rather than attaching to one another process runs.
func (p *Postgres) Owned() bool { return p != nil && p.cmd != nil }

// Stop shuts the cluster down (fast mode) and waits for it.
func (p *Postgres) Stop() {
	if p == nil || p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if p.cmd.Process.Signal(syscall.Signal(0)) != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = p.cmd.Process.Kill()
}

func waitAndCreateDB(ctx context.Context, url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := pgx.Connect(ctx, url)
		if err == nil {
			defer conn.Close(ctx)
			var exists bool
			if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'easel')`).Scan(&exists); err != nil {
				return fmt.Errorf("check database: %w", err)
			}
			if !exists {
				if _, err := conn.Exec(ctx, `CREATE DATABASE easel`); err != nil {
					return fmt.Errorf("create database: %w", err)
				}
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not start: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// postgresBinDir returns the newest /usr/lib/postgresql/<v>/bin.
func postgresBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi < vj
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql), or set DATABASE_URL")
}

// dropRootCredential returns the credential to run the server with: nil for
// a non-root user, user postgres for root (dir is chowned to it).
func dropRootCredential(dir string) (*syscall.Credential, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("postgres dir: %w", err)
	}
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs a postgres system user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, fmt.Errorf("chown postgres dir: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("chmod postgres dir: %w", err)
	}
	// Every parent must be traversable by user postgres.
	for p := filepath.Dir(dir); p != "/" && p != "."; p = filepath.Dir(p) {
		if st, err := os.Stat(p); err == nil && st.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(p, st.Mode().Perm()|0o011); err != nil {
				return nil, fmt.Errorf("make %s traversable: %w", p, err)
			}
		}
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
