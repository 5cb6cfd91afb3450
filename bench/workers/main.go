// Command workers measures Easel's pools of `easel worker`s
// (`make bench-workers`, from the repository root): the throughput of
// leased jobs, how fast a job whose worker died goes to another, and what
// model affinity saves. It is a benchmark that prints figures and a
// verdict per target, not a test: it fails only when Easel, the workers or
// the jobs cannot run at all.
//
// It starts Easel in-process as the other benches do (a fresh database on
// the machine's Postgres, bin/versitygw over a temporary data dir) with a
// worker pool per phase (EASEL_WORKER_POOLS=tput,requeue-0,...,affoff,
// affon; EASEL_WORKER_HEARTBEAT=-heartbeat, Easel's default 5s;
// EASEL_RECONCILE_INTERVAL=1s), a worker key per pool and four checkpoints uploaded through the API
// (POST /prod/checkpoints, the part PUT to its presigned URL, PUT status
// Active), waiting until the library shows their SHA-256. Each pool gets
// an Async endpoint once its workers ask for jobs. A job is the ESD flow
// with a checkpoint: POST /prod/inferences, PUT of the parameters (a 64x64
// txt2img) to the presigned URL, PUT /prod/inferences/{id}/start, then GET
// /prod/inferences/{id} every -poll until it shows succeed; its latency
// runs from the POST to that GET. The workers are the real ones
// (worker.New with the webui backend), each beside its own A1111
// simulator (gpu/sim) on a loopback port with its own models folder,
// which they fill by fetching and verifying the checkpoints.
//
// Throughput (pool tput): -workers (64) workers over zero-delay
// simulators, one checkpoint. The simulators, the workers and the clients
// each run in a child process (this binary again, chosen by
// EASEL_BENCH_WORKERS_ROLE), so that /proc tells Easel's CPU (this
// process) from theirs. After warm-up rounds of -workers jobs (until every
// worker has fetched the checkpoint; not counted) it measures the idle
// commit rate with the workers long-polling, then -n direct POSTs of the
// same txt2img body a worker sends, from -c concurrent clients to the
// simulators (the baseline), -n1 of each from one client, and -n jobs
// from -c clients. It prints jobs/s, latency p50/p99 against the direct
// baseline (overhead = job minus direct), the queue wait and the
// worker's run as the database recorded them, database commits per job
// (xact_commit of pg_stat_database before and after, raw, without the
// clients' status GETs, which commit one each, and without Easel's own
// idle background, measured before any worker started; the target is on
// that net figure), rows written per job by table, the workers' protocol
// calls per job, and CPU time per job of each process: Easel, the
// Postgres backends of the bench database, the S3 gateway, the workers,
// the simulators and the clients.
//
// Lease-expiry requeue (pools requeue-<k>): -requeue-trials (4) trials at
// once, each on its own pool with its own endpoint and role. A worker
// whose simulator takes an hour per image leases the job and is cut off
// the network (its transport fails every call) right after Easel answered
// its first heartbeat, the worst moment: its lease was just extended. A
// second worker's first Lease call is held in its transport and let go so
// that, as a waiting Lease looks again every half interval, it last looked
// (k+0.5)/trials of half an interval before the lease expired: the trials
// sample the range from 1.5 to 2 intervals that Easel's design promises.
// It prints the time from each cut to the job's second lease (the
// database polled every 5 ms) in heartbeat intervals.
//
// Affinity (pools affoff, affon): -affinity-workers (8) fresh workers
// over simulators whose checkpoint switch takes -switch-delay (2s), and
// -affinity-n (256) jobs from -affinity-c (16) clients spread round robin
// over the four checkpoints, once with affinity off and once on. Two
// clients per worker keep a backlog of about one job per worker: affinity
// can only choose among queued jobs, so the deeper the backlog the more
// it saves. Off does not change Easel: the workers' transport removes
// cached and loaded from their POST /workers/v1/lease bodies, so Easel
// has nothing to prefer by. It prints the share of jobs that needed a switch (Inference.Switched,
// and the simulators' Switches counters), and the ratio off/on.
//
// Everything shares the machine's CPUs and stays on 127.0.0.1; the
// database, the data dir and the models folders are removed at the end.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"easel/actions"
	"easel/bench/internal/benchenv"
	"easel/policy"
)

type config struct {
	workers, n, clients, single int
	poll, heartbeat             time.Duration
	trials                      int
	affinityWorkers, affinityN  int
	affinityC                   int
	switchDelay                 time.Duration
	phases                      []string
	verbose                     bool
	profile                     string
}

// roles are the parts a re-executed binary plays.
var roles = map[string]part{"sims": simsChild, "workers": workersChild, "clients": clientsChild}

func main() {
	if role := os.Getenv(roleEnv); role != "" {
		start, ok := roles[role]
		if !ok {
			fmt.Fprintf(os.Stderr, "bench-workers: unknown %s %q\n", roleEnv, role)
			os.Exit(2)
		}
		benchenv.Main("bench-workers "+role, func(ctx context.Context) error { return child(ctx, start) })
		return
	}
	var cfg config
	var phases string
	flag.IntVar(&cfg.workers, "workers", 64, "workers of the throughput phase")
	flag.IntVar(&cfg.n, "n", 1000, "jobs, and direct POSTs, of the throughput phase")
	flag.IntVar(&cfg.clients, "c", 32, "concurrent clients of the throughput phase")
	flag.IntVar(&cfg.single, "n1", 100, "jobs, and direct POSTs, from one client")
	flag.DurationVar(&cfg.poll, "poll", 10*time.Millisecond, "interval of a client's GET /prod/inferences/{id}")
	flag.DurationVar(&cfg.heartbeat, "heartbeat", 5*time.Second, "EASEL_WORKER_HEARTBEAT (Easel's default: 5s)")
	flag.IntVar(&cfg.trials, "requeue-trials", 4, "jobs whose worker is cut off, at once")
	flag.IntVar(&cfg.affinityWorkers, "affinity-workers", 8, "workers of the affinity phase")
	flag.IntVar(&cfg.affinityN, "affinity-n", 256, "jobs of each affinity run (each switch costs -switch-delay)")
	flag.IntVar(&cfg.affinityC, "affinity-c", 16, "concurrent clients of the affinity phase")
	flag.DurationVar(&cfg.switchDelay, "switch-delay", 2*time.Second, "what a simulator takes to load another checkpoint")
	flag.StringVar(&phases, "phases", "throughput,requeue,affinity", "the phases to run, comma-separated")
	flag.BoolVar(&cfg.verbose, "v", false, "log the workers' warnings to stderr")
	flag.StringVar(&cfg.profile, "cpuprofile", "", "write a CPU profile of Easel (this process) during the measured throughput jobs to this file")
	flag.Parse()
	cfg.phases = strings.Split(phases, ",")
	benchenv.Main("bench-workers", func(ctx context.Context) error { return run(ctx, cfg) })
}

// pools are the worker pools: throughput's, one per requeue trial, and
// affinity off and on.
func pools(cfg config) []string {
	out := []string{"tput"}
	for k := range cfg.trials {
		out = append(out, requeuePool(k))
	}
	return append(out, "affoff", "affon")
}

func run(ctx context.Context, cfg config) (err error) {
	for _, p := range cfg.phases {
		if !slices.Contains([]string{"throughput", "requeue", "affinity"}, p) {
			return fmt.Errorf("-phases: unknown phase %q", p)
		}
	}
	if min(cfg.workers, cfg.n, cfg.clients, cfg.single, cfg.trials, cfg.affinityWorkers, cfg.affinityN, cfg.affinityC) <= 0 ||
		cfg.poll <= 0 || cfg.heartbeat <= 0 || cfg.switchDelay < 0 {
		return errors.New("counts and durations must be positive")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute) // bounded, whatever happens
	defer cancel()
	easel, stopEasel, err := benchenv.Launch(ctx, "workers", map[string]string{
		"EASEL_WORKER_POOLS":       strings.Join(pools(cfg), ","),
		"EASEL_WORKER_HEARTBEAT":   cfg.heartbeat.String(),
		"EASEL_RECONCILE_INTERVAL": "1s",
	})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopEasel()) }()
	dir, err := os.MkdirTemp("", "easel-bench-workers-models-")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()
	db, err := pgx.Connect(ctx, easel.DBURL)
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	keys := map[string]string{}
	for _, p := range pools(cfg) {
		key, _, err := easel.Actions.Keys.Create(ctx, policy.Principal{Service: true}, actions.KeyInput{Name: "bench-" + p, Pool: p})
		if err != nil {
			return fmt.Errorf("worker key of pool %s: %w", p, err)
		}
		keys[p] = key
	}
	admin := newClient(easel.URL, cfg.poll, 4)
	defer admin.http.CloseIdleConnections()
	models, err := admin.uploadCheckpoints(ctx, 4)
	if err != nil {
		return err
	}

	fmt.Printf("Easel worker pools benchmark; GOMAXPROCS %d, NumCPU %d, %s; loadavg %s\n",
		runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.Version(), benchenv.Loadavg())
	fmt.Printf("EASEL_WORKER_HEARTBEAT %s; job status polled every %s; txt2img 64x64, 1 image; 4 checkpoints of 256 KiB\n", cfg.heartbeat, cfg.poll)
	var v verdicts
	if slices.Contains(cfg.phases, "throughput") {
		f, err := throughput(ctx, easel, db, admin, cfg, keys["tput"], models[0], dir)
		if err != nil {
			return fmt.Errorf("throughput: %w", err)
		}
		v.throughput(f)
	}
	if slices.Contains(cfg.phases, "requeue") {
		trials, err := requeue(ctx, easel, cfg, keys, models[0], dir)
		if err != nil {
			return fmt.Errorf("requeue: %w", err)
		}
		v.requeue(cfg, trials)
	}
	if slices.Contains(cfg.phases, "affinity") {
		runs, err := affinity(ctx, easel, db, cfg, keys, models, dir)
		if err != nil {
			return fmt.Errorf("affinity: %w", err)
		}
		v.affinity(cfg, runs)
	}
	v.print()
	return nil
}
