// Command api measures the throughput, the latency and the idle memory of
// Easel's ESD API (`make bench-api`). It is a benchmark that prints figures,
// not a test: it fails only when Easel cannot start or be cleaned up.
//
// It starts Easel in-process the way `easel serve` does (app.LoadConfig and
// app.Open) on a fresh database of the machine's Postgres (TEST_DATABASE_URL,
// or postgres@127.0.0.1:5432) and the embedded S3 gateway (bin/versitygw),
// seeds 50 users through the API, then loads, one after the other and for
// the same duration each, with the same number of concurrent keep-alive
// clients:
//
//   - a bare echo handler answering a small JSON object (the baseline: what
//     Go's HTTP stack, echo and the load generator cost on this machine);
//   - GET /prod/ping (API key lookup, identity and permission checks);
//   - GET /prod/users as admin through the service key (51 users);
//   - GET /prod/roles as admin through the service key.
//
// Then it loads GET /prod/users with the metrics on and off (alternating
// rounds in the same process, metrics.Set.SetEnabled) and prints the
// throughput of each and their ratio: the cost of the metrics on the hot
// path (target: at most 5 % lost). The audit trail writes nothing on that
// request; what it adds, the audit origin put on the request's context, is
// timed against the same loop without it and set against the request's
// CPU time (audit_cost.go).
//
// For each it prints requests per second, the p50 and p99 latency of the
// individual requests, the errors (anything but 200) and the throughput
// relative to the baseline. Then it prints the resident memory of the idle
// process after a GC. Client and server share the process and the CPUs, so
// the figures are those of the whole process; request logs go through the
// production JSON handler into io.Discard.
//
// Everything stays on 127.0.0.1; the database is dropped at the end.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/labstack/echo/v4"

	"easel/bench/internal/benchenv"
)

// seedUsers is how many users seed creates (GET /prod/users then lists
// them and admin).
const seedUsers = 50

func main() {
	duration := flag.Duration("d", 5*time.Second, "load duration of each target")
	clients := flag.Int("c", 32, "concurrent clients")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (server and load) to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench-api:", err)
			os.Exit(1)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "bench-api:", err)
			os.Exit(1)
		}
	}
	benchenv.Main("bench-api", func(ctx context.Context) error {
		err := run(ctx, *duration, *clients)
		pprof.StopCPUProfile()
		return err
	})
}

func run(ctx context.Context, duration time.Duration, clients int) (err error) {
	if duration <= 0 || clients <= 0 {
		return errors.New("-d and -c must be positive")
	}
	root, err := benchenv.RepoRoot()
	if err != nil {
		return err
	}
	dbURL, dataDir, cleanup, err := benchenv.Scratch(ctx, "api")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, cleanup()) }()

	// Request logs go through the production JSON handler (benchenv.Open).
	easel, easelURL, stopEasel, err := benchenv.Start(ctx, benchenv.Env(root, dbURL, dataDir))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopEasel()) }()
	bare := echo.New()
	bare.HideBanner, bare.HidePort = true, true
	bare.GET("/", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"message": "pong"})
	})
	bareURL, stopBare, err := benchenv.Serve(&http.Server{Handler: bare, ReadHeaderTimeout: 10 * time.Second})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopBare()) }()

	tr := &http.Transport{MaxIdleConns: 2 * clients, MaxIdleConnsPerHost: 2 * clients, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	asAdmin := benchenv.As("admin")
	if err := seed(ctx, client, easelURL, asAdmin); err != nil {
		return err
	}
	listed, err := countUsers(ctx, client, easelURL, asAdmin)
	if err != nil {
		return err
	}
	if listed != seedUsers+1 {
		return fmt.Errorf("GET /prod/users lists %d users after seeding, want %d", listed, seedUsers+1)
	}

	fmt.Printf("Easel API benchmark: %d concurrent keep-alive clients, %s per target (after a %s warm-up)\n",
		clients, duration, warmup(duration))
	fmt.Printf("GOMAXPROCS %d, NumCPU %d, %s; client and server share the process and the CPUs\n",
		runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.Version())
	fmt.Printf("request logging: production JSON handler writing to io.Discard (log I/O not measured)\n\n")

	targets := []target{
		{name: "bare echo handler (baseline)", url: bareURL + "/"},
		{name: "GET /prod/ping (x-api-key)", url: easelURL + "/prod/ping", header: http.Header{"X-Api-Key": {benchenv.ServiceKey}}},
		{name: fmt.Sprintf("GET /prod/users (as admin, %d users)", listed), url: easelURL + "/prod/users", header: asAdmin},
		{name: "GET /prod/roles (as admin)", url: easelURL + "/prod/roles", header: asAdmin},
	}
	fmt.Printf("%-38s %10s %9s %9s %8s %9s\n", "target", "req/s", "p50 ms", "p99 ms", "errors", "vs bare")
	var baseline float64
	for i, t := range targets {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r := load(ctx, client, t, clients, duration)
		if i == 0 {
			baseline = r.rps()
		}
		fmt.Printf("%-38s %10.0f %9.2f %9.2f %8d %8.1f%%\n", t.name, r.rps(),
			benchenv.MS(r.percentile(50)), benchenv.MS(r.percentile(99)), r.errors, 100*r.rps()/baseline)
		for _, e := range r.samples {
			fmt.Printf("    error: %s\n", e)
		}
	}

	cpuPerRequest, err := metricsOverhead(ctx, client, targets[2], easel.Metrics, clients, duration)
	if err != nil {
		return err
	}
	auditOriginCost(cpuPerRequest)

	tr.CloseIdleConnections()
	runtime.GC()
	time.Sleep(2 * time.Second)
	runtime.GC()
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	fmt.Printf("\nidle process RSS: %.1f MB (Easel and the load generator share this process)\n",
		float64(rss("/proc/self/status"))/1e6)
	fmt.Printf("Go heap in use:   %.1f MB (HeapInuse; Sys %.1f MB)\n", float64(mem.HeapInuse)/1e6, float64(mem.Sys)/1e6)
	if n := childrenRSS(); n > 0 {
		fmt.Printf("S3 gateway (versitygw, separate process, not counted above): %.1f MB RSS\n", float64(n)/1e6)
	}
	fmt.Printf("\ntarget: GET /prod/users >= 20%% of bare, p99 < 10 ms; idle RSS < 100 MB\n")
	return nil
}
