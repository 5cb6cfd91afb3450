// Command dispatch measures what Easel adds to an inference
// (`make bench-dispatch`): the throughput and the end-to-end latency of
// Async jobs through the whole ESD flow, against the same requests sent
// straight to the simulator. It is a benchmark that prints figures, not a
// test: it fails only when Easel cannot start or be cleaned up.
//
// It starts Easel in-process as bench/api does (a fresh database on the
// machine's Postgres, bin/versitygw over a temporary data dir) with the
// WebUI pool "sim" made of -members (4) in-process A1111 simulators
// (gpu/sim, zero delay), each on its own 127.0.0.1 listener. A pool member
// runs one request at a time, so several members keep the pool from being
// the bottleneck. It creates one Async endpoint on the pool, waits for it
// to be InService, runs -c warm-up jobs (not counted), then:
//
//   - direct: -n POST /sdapi/v1/txt2img to the members (round robin) from
//     -c concurrent clients, and -n1 from one client (the bare cost of one
//     simulated image);
//   - jobs: -n1 jobs from one client, then -n jobs from -c concurrent
//     clients, each POST /prod/inferences (models {}), PUT of the
//     parameters to the presigned URL, PUT /prod/inferences/{id}/start,
//     then GET /prod/inferences/{id} every -poll until it shows succeed. A
//     job's latency runs from the POST to that GET. Parameters are a 64x64
//     txt2img, the same for direct POSTs.
//
// It prints jobs per second, p50/p99 latencies, Easel's overhead per job
// (the job p50 minus the direct p50 at the same concurrency, and their
// ratio), where a job's time goes (the client's calls, and from the
// database the queue wait from start to a worker picking it up and the
// worker's run), and, for the concurrent job phase, database commits per
// job: xact_commit of pg_stat_database for the bench database before and
// after. Every statement outside an explicit transaction commits, so the
// poller's GETs, River's own polling and leader election and the endpoint
// reconciler (EASEL_RECONCILE_INTERVAL=1s here) count too; the idle
// background rate is measured and shown, and a net figure without polls
// and background is printed next to the raw one. It also prints the CPU
// time per job of this process, the gateway and the database's backends
// (from /proc).
//
// With -c closed-loop clients the concurrent latency is -c divided by the
// throughput (Little's law): the one-client figures are the ones that show
// the per-job overhead. Client, Easel and the simulators share the process
// and the CPUs; the S3 gateway is a child process on the same CPUs.
// Everything stays on 127.0.0.1; the database and the data dir are removed
// at the end.
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
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"easel/bench/internal/benchenv"
	"easel/gpu/sim"
)

func main() {
	n := flag.Int("n", 2000, "jobs, and direct POSTs per direct run")
	clients := flag.Int("c", 32, "concurrent clients")
	members := flag.Int("members", 4, "simulator members in the WebUI pool")
	single := flag.Int("n1", 200, "jobs, and direct POSTs, of the one-client runs")
	poll := flag.Duration("poll", 5*time.Millisecond, "interval of a client's GET /prod/inferences/{id}")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the concurrent job phase to this file")
	flag.Parse()
	benchenv.Main("bench-dispatch", func(ctx context.Context) error {
		return run(ctx, config{n: *n, clients: *clients, members: *members, single: *single, poll: *poll, profile: *cpuProfile})
	})
}

type config struct {
	n, clients, members, single int
	poll                        time.Duration
	profile                     string
}

func run(ctx context.Context, cfg config) (err error) {
	n, clients, members, poll := cfg.n, cfg.clients, cfg.members, cfg.poll
	if n <= 0 || clients <= 0 || members <= 0 || cfg.single <= 0 || poll <= 0 {
		return errors.New("-n, -c, -members, -n1 and -poll must be positive")
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute) // bounded, whatever happens
	defer cancel()
	var simURLs []string
	for range members {
		u, stopSim, err := benchenv.Serve(&http.Server{Handler: sim.Handler(sim.Options{}), ReadHeaderTimeout: 10 * time.Second})
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, stopSim()) }()
		simURLs = append(simURLs, u)
	}

	easel, stopEasel, err := benchenv.Launch(ctx, "dispatch", map[string]string{
		"EASEL_WEBUI_POOLS":        "sim=" + strings.Join(simURLs, ","),
		"EASEL_RECONCILE_INTERVAL": "1s",
	})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopEasel()) }()

	tr := &http.Transport{MaxIdleConns: 4 * clients, MaxIdleConnsPerHost: 2 * clients, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	b := &bench{client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, base: easel.URL,
		admin: benchenv.As("admin"), poll: poll}

	if err := b.createEndpoint(ctx); err != nil {
		return err
	}
	db, err := pgx.Connect(ctx, easel.DBURL)
	if err != nil {
		return err
	}
	defer db.Close(context.Background())

	fmt.Printf("Easel dispatch benchmark: %d Async jobs and %d direct POSTs from %d concurrent clients, %d of each from 1 client\n",
		n, n, clients, cfg.single)
	fmt.Printf("GOMAXPROCS %d, NumCPU %d, %s; loadavg %s\n", runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.Version(), benchenv.Loadavg())
	fmt.Printf("WebUI pool \"sim\": %d in-process simulators (zero delay, one request at a time each in the pool);\n", members)
	fmt.Printf("txt2img 64x64, 1 image; job status polled every %s; client, Easel and simulators share the CPUs\n\n", poll)

	// Warm-up: connections, prepared statements, River's producer.
	if warm := b.jobs(ctx, clients, clients); warm.errors > 0 {
		return fmt.Errorf("warm-up jobs failed: %s", strings.Join(warm.samples, "; "))
	}

	direct := directRun(ctx, b.client, simURLs, n, clients)
	serial := directRun(ctx, b.client, simURLs, cfg.single, 1)
	one := b.jobs(ctx, cfg.single, 1)

	idle, err := idleCommitRate(ctx, db)
	if err != nil {
		return err
	}
	time.Sleep(benchenv.StatsFlush)
	before, err := benchenv.Commits(ctx, db)
	if err != nil {
		return err
	}
	gw := benchenv.GatewayPID(benchenv.GatewayBin(easel.Root), easel.DataDir)
	cpuBefore, err := cpuNow(ctx, db, gw)
	if err != nil {
		return err
	}
	b.polls.Store(0)
	if cfg.profile != "" {
		f, err := os.Create(cfg.profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	jobs := b.jobs(ctx, n, clients)
	pprof.StopCPUProfile()
	pollCount := b.polls.Load()
	cpuAfter, err := cpuNow(ctx, db, gw)
	if err != nil {
		return err
	}
	time.Sleep(benchenv.StatsFlush)
	after, err := benchenv.Commits(ctx, db)
	if err != nil {
		return err
	}
	if err := dbTimes(ctx, db, &jobs); err != nil {
		return err
	}
	if err := dbTimes(ctx, db, &one); err != nil {
		return err
	}
	report(figures{clients: clients, direct: direct, serial: serial, jobs: jobs, one: one, idle: idle,
		commits: after - before, polls: pollCount, cpuBefore: cpuBefore, cpuAfter: cpuAfter})
	return nil
}
