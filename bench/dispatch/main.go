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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"easel/app"
	"easel/bench/internal/benchenv"
	"easel/gpu/sim"
)

const serviceKey = "benchservicekey01234"

// statsFlush is how long to wait before reading pg_stat_database: other
// backends report their counters at most once a second when they go idle.
const statsFlush = 1500 * time.Millisecond

func main() {
	n := flag.Int("n", 2000, "jobs, and direct POSTs per direct run")
	clients := flag.Int("c", 32, "concurrent clients")
	members := flag.Int("members", 4, "simulator members in the WebUI pool")
	single := flag.Int("n1", 200, "jobs, and direct POSTs, of the one-client runs")
	poll := flag.Duration("poll", 5*time.Millisecond, "interval of a client's GET /prod/inferences/{id}")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the concurrent job phase to this file")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, config{n: *n, clients: *clients, members: *members, single: *single, poll: *poll, profile: *cpuProfile}); err != nil {
		fmt.Fprintln(os.Stderr, "bench-dispatch:", err)
		os.Exit(1)
	}
}

type config struct {
	n, clients, members, single int
	poll                        time.Duration
	profile                     string
}

// params are the txt2img parameters of every job and direct POST but the
// seed: small, so drawing is cheap.
func params(seed int) []byte {
	b, _ := json.Marshal(map[string]any{"prompt": "a lighthouse at dusk", "width": 64, "height": 64,
		"steps": 1, "batch_size": 1, "seed": seed})
	return b
}

type bench struct {
	client *http.Client
	base   string // Easel's URL
	admin  http.Header
	poll   time.Duration
	polls  atomic.Int64 // GETs of job statuses
}

func run(ctx context.Context, cfg config) (err error) {
	n, clients, members, poll := cfg.n, cfg.clients, cfg.members, cfg.poll
	if n <= 0 || clients <= 0 || members <= 0 || cfg.single <= 0 || poll <= 0 {
		return errors.New("-n, -c, -members, -n1 and -poll must be positive")
	}
	root, _ := os.Getwd()
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return errors.New("run from the repository root (go run ./bench/dispatch)")
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute) // bounded, whatever happens
	defer cancel()
	dbURL, dropDB, err := benchenv.CreateDatabase(ctx, "dispatch")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, dropDB()) }()
	dataDir, err := os.MkdirTemp("", "easel-bench-dispatch-")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, os.RemoveAll(dataDir)) }()

	var simURLs []string
	for range members {
		u, stopSim, err := benchenv.Serve(&http.Server{Handler: sim.Handler(sim.Options{}), ReadHeaderTimeout: 10 * time.Second})
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, stopSim()) }()
		simURLs = append(simURLs, u)
	}

	env := map[string]string{
		"DATABASE_URL":             dbURL,
		"EASEL_ADDR":               "127.0.0.1:0",
		"EASEL_DATA_DIR":           dataDir,
		"EASEL_S3GW_BIN":           filepath.Join(root, "bin", "versitygw"),
		"EASEL_ADMIN_PASSWORD":     "bench-admin-password",
		"EASEL_API_KEY":            serviceKey,
		"EASEL_SECRET":             "bench-secret-0123456789abcdef",
		"EASEL_WEBUI_POOLS":        "sim=" + strings.Join(simURLs, ","),
		"EASEL_RECONCILE_INTERVAL": "1s",
	}
	appCfg, err := app.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	a, err := app.Open(ctx, appCfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		return fmt.Errorf("open easel: %w", err)
	}
	defer a.Close()
	easelURL, stopEasel, err := benchenv.Serve(a.Web.HTTPServer("127.0.0.1:0"))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopEasel()) }()

	tr := &http.Transport{MaxIdleConns: 4 * clients, MaxIdleConnsPerHost: 2 * clients, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	b := &bench{client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, base: easelURL,
		admin: http.Header{"X-Api-Key": {serviceKey}, "Username": {"admin"}}, poll: poll}

	if err := b.createEndpoint(ctx); err != nil {
		return err
	}
	db, err := pgx.Connect(ctx, dbURL)
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
	time.Sleep(statsFlush)
	before, err := commits(ctx, db)
	if err != nil {
		return err
	}
	gw := benchenv.GatewayPID(filepath.Join(root, "bin", "versitygw"), dataDir)
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
	time.Sleep(statsFlush)
	after, err := commits(ctx, db)
	if err != nil {
		return err
	}
	if err := dbTimes(ctx, db, &jobs); err != nil {
		return err
	}
	if err := dbTimes(ctx, db, &one); err != nil {
		return err
	}

	fmt.Printf("%-44s %8s %9s %9s %8s\n", "run", "per s", "p50 ms", "p99 ms", "errors")
	row := func(name string, r result) {
		fmt.Printf("%-44s %8.1f %9.2f %9.2f %8d\n", name, r.rate(), ms(r.percentile(50)), ms(r.percentile(99)), r.errors)
		for _, e := range r.samples {
			fmt.Printf("    error: %s\n", e)
		}
	}
	row(fmt.Sprintf("direct POST txt2img, %d clients", clients), direct)
	row(fmt.Sprintf("Easel Async job end to end, %d clients", clients), jobs.result)
	row("direct POST txt2img, 1 client", serial)
	row("Easel Async job end to end, 1 client", one.result)

	fmt.Printf("\nwhere a job's time goes (ms)%*s %9s %9s %9s %9s\n", 15, "",
		fmt.Sprintf("p50 c=%d", clients), fmt.Sprintf("p99 c=%d", clients), "p50 c=1", "p99 c=1")
	for _, s := range []struct {
		name string
		a, b []time.Duration
	}{
		{"POST /prod/inferences", jobs.create, one.create},
		{"PUT params to the presigned URL", jobs.upload, one.upload},
		{"PUT /prod/inferences/{id}/start", jobs.start, one.start},
		{"start answered -> GET shows succeed", jobs.wait, one.wait},
		{"db: start_time -> run_time (queue wait)", jobs.queued, one.queued},
		{"db: run_time -> complete_time (worker)", jobs.ran, one.ran},
	} {
		slices.Sort(s.a)
		slices.Sort(s.b)
		fmt.Printf("  %-42s %9.2f %9.2f %9.2f %9.2f\n", s.name, ms(pct(s.a, 50)), ms(pct(s.a, 99)), ms(pct(s.b, 50)), ms(pct(s.b, 99)))
	}

	ok := len(jobs.latencies)
	over := jobs.percentile(50) - direct.percentile(50)
	overOne := one.percentile(50) - serial.percentile(50)
	fmt.Printf("\noverhead per job (p50 job - p50 direct, %d clients): %.2f ms; ratio %.1fx\n",
		clients, ms(over), ratio(jobs.percentile(50), direct.percentile(50)))
	fmt.Printf("overhead per job (p50 job - p50 direct, 1 client):   %.2f ms; ratio %.1fx\n",
		ms(overOne), ratio(one.percentile(50), serial.percentile(50)))
	fmt.Printf("throughput: %.1f jobs/s, Easel at %.0f%% of direct (%d clients)\n", jobs.rate(), 100*jobs.rate()/direct.rate(), clients)

	delta := after - before
	window := jobs.elapsed + statsFlush
	background := idle * window.Seconds()
	fmt.Printf("\ndatabase commits: %d during the job phase (%s + %s stats flush) = %.1f per job\n",
		delta, jobs.elapsed.Round(time.Millisecond), statsFlush, float64(delta)/float64(max(ok, 1)))
	fmt.Printf("  of which status GETs: %d (%.1f per job, one commit each)\n", pollCount, float64(pollCount)/float64(max(ok, 1)))
	fmt.Printf("  background when idle (River polling and leader election, reconciler): %.1f/s, ~%.0f in the window\n", idle, background)
	fmt.Printf("  net: %.1f commits per job without polls and background\n",
		(float64(delta)-float64(pollCount)-background)/float64(max(ok, 1)))
	self, gateway, pg := cpuAfter.since(cpuBefore)
	perJob := func(d time.Duration) float64 { return ms(d) / float64(max(ok, 1)) }
	fmt.Printf("\nCPU time per job during the job phase (%d CPUs = %.0f CPU-ms per second of wall time):\n",
		runtime.NumCPU(), 1000*float64(runtime.NumCPU()))
	fmt.Printf("  this process (clients, pollers, Easel, simulators): %6.2f ms\n", perJob(self))
	fmt.Printf("  S3 gateway (versitygw):                               %6.2f ms\n", perJob(gateway))
	fmt.Printf("  Postgres backends of the bench database:             %6.2f ms\n", perJob(pg))
	fmt.Printf("  total %.2f ms per job: the CPUs allow at most %.0f jobs/s at this cost\n",
		perJob(self+gateway+pg), float64(runtime.NumCPU())*1000/max(perJob(self+gateway+pg), 0.001))
	fmt.Printf("loadavg after: %s\n", benchenv.Loadavg())
	fmt.Printf("\ntargets: overhead p50 < 10 ms: %s with %d clients, %s with 1 client; >= 100 jobs/s: %s\n",
		verdict(over < 10*time.Millisecond), clients, verdict(overOne < 10*time.Millisecond), verdict(jobs.rate() >= 100))
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// createEndpoint creates the Async endpoint on the pool and waits until
// it is InService.
func (b *bench) createEndpoint(ctx context.Context) error {
	status, body, err := b.call(ctx, http.MethodPost, "/prod/endpoints", map[string]any{"endpoint_name": "bench",
		"endpoint_type": "Async", "instance_type": "sim", "initial_instance_count": 1, "assign_to_roles": []string{"IT Operator"}})
	if err != nil {
		return err
	}
	if status != http.StatusAccepted {
		return fmt.Errorf("POST /prod/endpoints: %d %s", status, body)
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		status, body, err := b.call(ctx, http.MethodGet, "/prod/endpoints", nil)
		if err != nil {
			return err
		}
		var out struct {
			Data struct {
				Endpoints []struct {
					Name   string `json:"endpoint_name"`
					Status string `json:"endpoint_status"`
				} `json:"endpoints"`
			} `json:"data"`
		}
		if status != http.StatusOK || json.Unmarshal(body, &out) != nil {
			return fmt.Errorf("GET /prod/endpoints: %d %s", status, body)
		}
		for _, e := range out.Data.Endpoints {
			switch {
			case e.Name == "esd-async-bench" && e.Status == "InService":
				return nil
			case e.Name == "esd-async-bench" && e.Status == "Failed":
				return errors.New("the endpoint failed")
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.New("the endpoint is not InService after a minute")
}

// call sends a JSON request to Easel as admin and returns the answer.
func (b *bench) call(ctx context.Context, method, path string, in any) (int, []byte, error) {
	var body io.Reader
	if in != nil {
		raw, _ := json.Marshal(in)
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, body)
	if err != nil {
		return 0, nil, err
	}
	req.Header = b.admin.Clone()
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := b.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	return res.StatusCode, out, err
}

type result struct {
	latencies []time.Duration // sorted, successes only
	elapsed   time.Duration
	errors    int
	samples   []string
}

func (r result) rate() float64 { return float64(len(r.latencies)) / r.elapsed.Seconds() }

func (r result) percentile(p float64) time.Duration { return pct(r.latencies, p) }

// pct is the nearest-rank percentile p of sorted durations.
func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d))*p/100+0.5) - 1
	return d[max(0, min(i, len(d)-1))]
}

// collector gathers what concurrent workers measure.
type collector struct {
	mu sync.Mutex
	result
}

func (c *collector) add(d time.Duration, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		c.latencies = append(c.latencies, d)
		return
	}
	c.errors++
	if e := err.Error(); len(c.samples) < 5 && !slices.Contains(c.samples, e) {
		c.samples = append(c.samples, e)
	}
}

// parallel runs do(i) for i in [0, n) from clients goroutines.
func parallel(n, clients int, do func(i int)) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range min(clients, n) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				do(i)
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// directRun POSTs n txt2img requests to the simulators, round robin.
func directRun(ctx context.Context, client *http.Client, sims []string, n, clients int) result {
	var c collector
	c.elapsed = parallel(n, clients, func(i int) {
		begin := time.Now()
		err := directPost(ctx, client, sims[i%len(sims)], i)
		c.add(time.Since(begin), err)
	})
	slices.Sort(c.latencies)
	return c.result
}

func directPost(ctx context.Context, client *http.Client, sim string, seed int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sim+"/sdapi/v1/txt2img", bytes.NewReader(params(seed)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var out struct {
		Images []string `json:"images"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK || len(out.Images) != 1 {
		return fmt.Errorf("direct txt2img: status %d, %d images, %v", res.StatusCode, len(out.Images), err)
	}
	return nil
}

// jobsResult is a job run: end-to-end latencies and the client's steps.
type jobsResult struct {
	result
	ids                         []string
	create, upload, start, wait []time.Duration
	queued, ran                 []time.Duration // from the database
}

// jobs runs n jobs through the ESD flow from clients goroutines.
func (b *bench) jobs(ctx context.Context, n, clients int) jobsResult {
	var c collector
	var mu sync.Mutex
	var out jobsResult
	c.elapsed = parallel(n, clients, func(i int) {
		begin := time.Now()
		s, err := b.job(ctx, i)
		c.add(time.Since(begin), err)
		if err == nil {
			mu.Lock()
			out.ids = append(out.ids, s.id)
			out.create, out.upload = append(out.create, s.create), append(out.upload, s.upload)
			out.start, out.wait = append(out.start, s.start), append(out.wait, s.wait)
			mu.Unlock()
		}
	})
	slices.Sort(c.latencies)
	out.result = c.result
	return out
}

type steps struct {
	id                          string
	create, upload, start, wait time.Duration
}

// job runs one job: create, upload the parameters, start, poll.
func (b *bench) job(ctx context.Context, seed int) (steps, error) {
	var s steps
	t := time.Now()
	status, body, err := b.call(ctx, http.MethodPost, "/prod/inferences",
		map[string]any{"task_type": "txt2img", "inference_type": "Async", "models": map[string]any{}})
	if err != nil {
		return s, err
	}
	var created struct {
		Data struct {
			Inference struct {
				ID        string `json:"id"`
				UploadURL string `json:"api_params_s3_upload_url"`
			} `json:"inference"`
		} `json:"data"`
	}
	if status != http.StatusCreated || json.Unmarshal(body, &created) != nil {
		return s, fmt.Errorf("POST /prod/inferences: %d %.200s", status, body)
	}
	s.id = created.Data.Inference.ID
	s.create, t = time.Since(t), time.Now()

	req, err := http.NewRequestWithContext(ctx, http.MethodPut, created.Data.Inference.UploadURL, bytes.NewReader(params(seed)))
	if err != nil {
		return s, err
	}
	res, err := b.client.Do(req)
	if err != nil {
		return s, fmt.Errorf("PUT params: %w", err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return s, fmt.Errorf("PUT params: %d", res.StatusCode)
	}
	s.upload, t = time.Since(t), time.Now()

	if status, body, err = b.call(ctx, http.MethodPut, "/prod/inferences/"+s.id+"/start", nil); err != nil {
		return s, err
	}
	if status != http.StatusAccepted {
		return s, fmt.Errorf("PUT /prod/inferences/{id}/start: %d %.200s", status, body)
	}
	s.start, t = time.Since(t), time.Now()

	deadline := time.Now().Add(time.Minute)
	for {
		b.polls.Add(1)
		status, body, err := b.call(ctx, http.MethodGet, "/prod/inferences/"+s.id, nil)
		if err != nil {
			return s, err
		}
		var got struct {
			Data struct {
				Status string   `json:"status"`
				Raw    *string  `json:"sagemakerRaw"`
				Images []string `json:"img_presigned_urls"`
			} `json:"data"`
		}
		if status != http.StatusOK || json.Unmarshal(body, &got) != nil {
			return s, fmt.Errorf("GET /prod/inferences/{id}: %d %.200s", status, body)
		}
		switch got.Data.Status {
		case "succeed":
			if len(got.Data.Images) != 1 {
				return s, fmt.Errorf("job %s succeeded with %d images, want 1", s.id, len(got.Data.Images))
			}
			s.wait = time.Since(t)
			return s, nil
		case "failed":
			raw := ""
			if got.Data.Raw != nil {
				raw = *got.Data.Raw
			}
			return s, fmt.Errorf("job failed: %s", raw)
		}
		if time.Now().After(deadline) {
			return s, fmt.Errorf("job %s still %s after a minute", s.id, got.Data.Status)
		}
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-time.After(b.poll):
		}
	}
}

// commits reads the bench database's committed transactions.
func commits(ctx context.Context, db *pgx.Conn) (int64, error) {
	var n int64
	err := db.QueryRow(ctx, `SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read xact_commit: %w", err)
	}
	return n, nil
}

// idleCommitRate measures the commits per second of an idle Easel.
func idleCommitRate(ctx context.Context, db *pgx.Conn) (float64, error) {
	time.Sleep(statsFlush)
	a, err := commits(ctx, db)
	if err != nil {
		return 0, err
	}
	begin := time.Now()
	time.Sleep(5 * time.Second)
	b, err := commits(ctx, db)
	if err != nil {
		return 0, err
	}
	// Our own two reads commit too.
	return float64(b-a-1) / time.Since(begin).Seconds(), nil
}

// dbTimes reads, for the jobs of r, start -> run and run -> complete as
// the database recorded them.
func dbTimes(ctx context.Context, db *pgx.Conn, r *jobsResult) error {
	rows, err := db.Query(ctx, `SELECT (extract(epoch FROM run_time - start_time) * 1e6)::bigint,
			(extract(epoch FROM complete_time - run_time) * 1e6)::bigint FROM inferences
		WHERE id = ANY ($1::uuid[]) AND run_time IS NOT NULL AND complete_time IS NOT NULL`, r.ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var queued, ran int64 // µs
		if err := rows.Scan(&queued, &ran); err != nil {
			return err
		}
		r.queued = append(r.queued, time.Duration(queued)*time.Microsecond)
		r.ran = append(r.ran, time.Duration(ran)*time.Microsecond)
	}
	return rows.Err()
}

// cpuUse is the CPU time used so far by this process, the S3 gateway and
// each Postgres backend of the bench database.
type cpuUse struct {
	self, gateway time.Duration
	backends      map[string]time.Duration
}

func cpuNow(ctx context.Context, db *pgx.Conn, gateway string) (cpuUse, error) {
	u := cpuUse{self: cpuTime("self"), gateway: cpuTime(gateway), backends: map[string]time.Duration{}}
	rows, err := db.Query(ctx, `SELECT pid::text FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return u, err
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	for _, pid := range pids {
		u.backends[pid] = cpuTime(pid)
	}
	return u, err
}

// since returns the CPU time used since before: by this process, the
// gateway and the backends (those started meanwhile count from zero; those
// gone meanwhile are missed).
func (u cpuUse) since(before cpuUse) (self, gateway, backends time.Duration) {
	for pid, t := range u.backends {
		backends += t - before.backends[pid]
	}
	return u.self - before.self, u.gateway - before.gateway, backends
}

// cpuTime reads utime+stime of a process from /proc (USER_HZ = 100).
func cpuTime(pid string) time.Duration {
	if pid == "" {
		return 0
	}
	b, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return 0
	}
	// pid (comm) state ppid ...: utime and stime are fields 14 and 15.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
