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
	"bufio"
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
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

	"easel/app"
	"easel/bench/internal/benchenv"
)

const (
	serviceKey = "benchservicekey01234"
	seedUsers  = 50
)

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
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *duration, *clients); err != nil {
		fmt.Fprintln(os.Stderr, "bench-api:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(ctx context.Context, duration time.Duration, clients int) (err error) {
	if duration <= 0 || clients <= 0 {
		return errors.New("-d and -c must be positive")
	}
	root, err := benchenv.RepoRoot()
	if err != nil {
		return err
	}
	dbURL, dropDB, err := benchenv.CreateDatabase(ctx, "api")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, dropDB()) }()
	dataDir, err := os.MkdirTemp("", "easel-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)

	env := map[string]string{
		"DATABASE_URL":         dbURL,
		"EASEL_ADDR":           "127.0.0.1:0",
		"EASEL_DATA_DIR":       dataDir,
		"EASEL_S3GW_BIN":       filepath.Join(root, "bin", "versitygw"),
		"EASEL_ADMIN_PASSWORD": "bench-admin-password",
		"EASEL_API_KEY":        serviceKey,
		"EASEL_SECRET":         "bench-secret-0123456789abcdef",
	}
	cfg, err := app.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	// The production JSON handler, so formatting costs what it costs in
	// production; only the writing is skipped.
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	a, err := app.Open(ctx, cfg, logger, io.Discard)
	if err != nil {
		return fmt.Errorf("open easel: %w", err)
	}
	defer a.Close()

	easelURL, stopEasel, err := benchenv.Serve(a.Web.HTTPServer("127.0.0.1:0"))
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

	asAdmin := http.Header{"X-Api-Key": {serviceKey}, "Username": {"admin"}}
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
		{name: "GET /prod/ping (x-api-key)", url: easelURL + "/prod/ping", header: http.Header{"X-Api-Key": {serviceKey}}},
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
			ms(r.percentile(50)), ms(r.percentile(99)), r.errors, 100*r.rps()/baseline)
		for _, e := range r.samples {
			fmt.Printf("    error: %s\n", e)
		}
	}

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

// seed creates the users GET /prod/users then lists (with admin: 51).
func seed(ctx context.Context, client *http.Client, base string, h http.Header) error {
	for i := range seedUsers {
		body, _ := json.Marshal(map[string]any{"username": fmt.Sprintf("bench-user-%02d", i),
			"creator": "admin", "password": "x", "roles": []string{}})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/prod/users", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header = h.Clone()
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("seed users: %w", err)
		}
		out, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			return fmt.Errorf("seed users: POST /prod/users: %d %s", res.StatusCode, out)
		}
	}
	return nil
}

// countUsers returns how many users GET /prod/users lists.
func countUsers(ctx context.Context, client *http.Client, base string, h http.Header) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/prod/users", nil)
	if err != nil {
		return 0, err
	}
	req.Header = h.Clone()
	res, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("list users: %w", err)
	}
	defer res.Body.Close()
	var out struct {
		Data struct {
			Users []json.RawMessage `json:"users"`
		} `json:"data"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("list users: status %d: %v", res.StatusCode, err)
	}
	return len(out.Data.Users), nil
}

type target struct {
	name, url string
	header    http.Header
}

type result struct {
	latencies []time.Duration // sorted
	elapsed   time.Duration
	errors    int
	samples   []string // a few distinct error descriptions
}

func (r result) rps() float64 {
	return float64(len(r.latencies)) / r.elapsed.Seconds()
}

// percentile is the nearest-rank percentile p of the latencies.
func (r result) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.latencies))*p/100+0.5) - 1
	return r.latencies[max(0, min(i, len(r.latencies)-1))]
}

func warmup(d time.Duration) time.Duration { return min(d/5, time.Second) }

// load runs clients workers against t for a warm-up, then for d, and
// returns every request's latency (errors included) measured in the second
// phase.
func load(ctx context.Context, client *http.Client, t target, clients int, d time.Duration) result {
	wctx, cancel := context.WithTimeout(ctx, warmup(d))
	hammer(wctx, client, t, clients)
	cancel()
	lctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	per := hammer(lctx, client, t, clients)
	r := result{elapsed: time.Since(start)}
	errs := map[string]bool{}
	for _, w := range per {
		r.latencies = append(r.latencies, w.latencies...)
		r.errors += w.errors
		for _, e := range w.samples {
			if !errs[e] && len(r.samples) < 5 {
				errs[e] = true
				r.samples = append(r.samples, e)
			}
		}
	}
	slices.Sort(r.latencies)
	return r
}

// hammer sends requests from clients goroutines until ctx is done.
func hammer(ctx context.Context, client *http.Client, t target, clients int) []result {
	per := make([]result, clients)
	var wg sync.WaitGroup
	for i := range per {
		wg.Go(func() {
			w := &per[i]
			for ctx.Err() == nil {
				begin := time.Now()
				status, err := get(client, t)
				if err != nil && ctx.Err() != nil {
					return // a request cut off by our own deadline
				}
				w.latencies = append(w.latencies, time.Since(begin))
				switch {
				case err != nil:
					w.errors++
					w.samples = appendOnce(w.samples, err.Error())
				case status != http.StatusOK:
					w.errors++
					w.samples = appendOnce(w.samples, "status "+strconv.Itoa(status))
				}
			}
		})
	}
	wg.Wait()
	return per
}

func get(client *http.Client, t target) (int, error) {
	req, err := http.NewRequest(http.MethodGet, t.url, nil)
	if err != nil {
		return 0, err
	}
	req.Header = t.header.Clone()
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		return 0, err
	}
	return res.StatusCode, nil
}

func appendOnce(s []string, e string) []string {
	if len(s) >= 5 || slices.Contains(s, e) {
		return s
	}
	return append(s, e)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// rss reads VmRSS (bytes) from a /proc/<pid>/status file; 0 when unknown.
func rss(statusFile string) int64 {
	f, err := os.Open(statusFile)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// childrenRSS sums the RSS of this process's children (the S3 gateway).
func childrenRSS() int64 {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	self := strconv.Itoa(os.Getpid())
	var total int64
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may contain spaces.
		_, rest, ok := strings.Cut(string(b), ") ")
		if f := strings.Fields(rest); ok && len(f) > 1 && f[1] == self {
			total += rss(filepath.Join(dir, "status"))
		}
	}
	return total
}
