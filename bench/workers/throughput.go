package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"easel/bench/internal/benchenv"
)

// throughputFigures are what the throughput phase measured.
type throughputFigures struct {
	workers, clients, ready, warmRounds int
	direct, serial                      result // direct POSTs, -c clients and 1
	jobs, one                           result // jobs, -c clients and 1
	idleEasel, idleWorkers              float64
	commits                             int64            // during the concurrent job phase
	writes                              map[string]int64 // rows written per table, idem
	calls                               callCounts
	cpu                                 map[string]time.Duration
	backends                            time.Duration
}

// throughput runs the throughput phase on pool "tput": -workers workers
// beside as many simulators, the simulators, the workers and the clients
// each in a child process (this binary again), Easel in this one.
func throughput(ctx context.Context, e *benchenv.Easel, db *pgx.Conn, admin *client, cfg config, key string, model checkpoint, dir string) (f throughputFigures, err error) {
	f = throughputFigures{workers: cfg.workers, clients: cfg.clients}
	if f.idleEasel, err = idleCommitRate(ctx, db, 3*time.Second); err != nil {
		return f, err
	}
	var dirs []string
	for i := range cfg.workers {
		dirs = append(dirs, filepath.Join(dir, fmt.Sprintf("tput-%02d", i)))
	}
	var simURLs []string
	sims, err := startChild("sims", simsConfig{Dirs: dirs}, &simURLs)
	if err != nil {
		return f, err
	}
	defer func() { err = errors.Join(err, sims.close()) }()
	var boxes []boxConfig
	for i, d := range dirs {
		boxes = append(boxes, boxConfig{Server: e.URL, Key: key, Name: filepath.Base(d), Sim: simURLs[i], Dir: d, Verbose: cfg.verbose})
	}
	workers, err := startChild("workers", workersConfig{Boxes: boxes}, nil)
	if err != nil {
		return f, err
	}
	defer func() { err = errors.Join(err, workers.close()) }()
	clients, err := startChild("clients", map[string]any{"Base": e.URL, "Poll": cfg.poll, "Conns": max(cfg.clients, cfg.workers)}, nil)
	if err != nil {
		return f, err
	}
	defer func() { err = errors.Join(err, clients.close()) }()
	endpoint, err := admin.createEndpoint(ctx, "tput", "byoc")
	if err != nil {
		return f, err
	}
	defer func() { err = errors.Join(err, admin.deleteEndpoint(ctx, endpoint)) }()
	jobs := func(n, c int) (result, error) {
		var r result
		err := clients.do("jobs", jobsCmd{N: n, C: c, Endpoint: endpoint, Models: []string{model.name}, Timeout: time.Minute}, &r)
		if err == nil && r.Errors > 0 {
			err = fmt.Errorf("%d of %d jobs failed: %s", r.Errors, n, strings.Join(r.Samples, "; "))
		}
		return r, err
	}
	direct := func(n, c int, sims []string) (result, error) {
		var r result
		err := clients.do("direct", directCmd{N: n, C: c, Sims: sims, Model: model.name}, &r)
		if err == nil && r.Errors > 0 {
			err = fmt.Errorf("%d of %d direct POSTs failed: %s", r.Errors, n, strings.Join(r.Samples, "; "))
		}
		return r, err
	}

	// Warm-up (not counted): connections, prepared statements, and every
	// worker fetching the checkpoint, so that the direct POSTs find it.
	var ready []string
	for f.warmRounds = 1; ; f.warmRounds++ {
		if _, err := jobs(cfg.workers, cfg.workers); err != nil {
			return f, fmt.Errorf("warm-up: %w", err)
		}
		if ready, err = loadedSims(ctx, admin.http, simURLs); err != nil {
			return f, err
		}
		if len(ready) == len(simURLs) || f.warmRounds == 5 {
			break
		}
	}
	f.ready = len(ready)
	if f.idleWorkers, err = idleCommitRate(ctx, db, 3*time.Second); err != nil {
		return f, err
	}
	if f.direct, err = direct(cfg.n, cfg.clients, ready); err != nil {
		return f, err
	}
	if f.serial, err = direct(cfg.single, 1, ready); err != nil {
		return f, err
	}
	if f.one, err = jobs(cfg.single, 1); err != nil {
		return f, err
	}

	if err := sleep(ctx, benchenv.StatsFlush); err != nil {
		return f, err
	}
	before, err := benchenv.Commits(ctx, db)
	if err != nil {
		return f, err
	}
	writesBefore, err := rowWrites(ctx, db)
	if err != nil {
		return f, err
	}
	var callsBefore, callsAfter callCounts
	if err := workers.do("calls", nil, &callsBefore); err != nil {
		return f, err
	}
	procs := map[string]string{"easel": "self", "sims": sims.pid(), "workers": workers.pid(), "clients": clients.pid(),
		"gateway": benchenv.GatewayPID(benchenv.GatewayBin(e.Root), e.DataDir)}
	cpuBefore, err := cpuNow(ctx, db, procs)
	if err != nil {
		return f, err
	}
	stopProfile, err := startProfile(cfg.profile)
	if err != nil {
		return f, err
	}
	f.jobs, err = jobs(cfg.n, cfg.clients)
	if err = errors.Join(err, stopProfile()); err != nil {
		return f, err
	}
	cpuAfter, err := cpuNow(ctx, db, procs)
	if err != nil {
		return f, err
	}
	if err := workers.do("calls", nil, &callsAfter); err != nil {
		return f, err
	}
	if err := sleep(ctx, benchenv.StatsFlush); err != nil {
		return f, err
	}
	after, err := benchenv.Commits(ctx, db)
	if err != nil {
		return f, err
	}
	if f.writes, err = rowWrites(ctx, db); err != nil {
		return f, err
	}
	for t, n := range writesBefore {
		f.writes[t] -= n
	}
	f.commits, f.calls = after-before, callsAfter.minus(callsBefore)
	f.cpu, f.backends = cpuAfter.since(cpuBefore)
	if err := dbTimes(ctx, db, &f.jobs); err != nil {
		return f, err
	}
	return f, dbTimes(ctx, db, &f.one)
}

// loadedSims returns the simulators that have a checkpoint loaded.
func loadedSims(ctx context.Context, client *http.Client, urls []string) ([]string, error) {
	var out []string
	for _, u := range urls {
		st, err := simStats(ctx, client, u)
		if err != nil {
			return nil, err
		}
		if st.Loaded != "" {
			out = append(out, u)
		}
	}
	return slices.Clip(out), nil
}

// startProfile starts a CPU profile of this process into path ("": none)
// and returns the function that ends it.
func startProfile(path string) (func() error, error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return func() error { pprof.StopCPUProfile(); return f.Close() }, nil
}
