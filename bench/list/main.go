// Command list measures paging through a large inference history
// (`make bench-list`): GET /prod/inferences?limit=50 and its keyset
// continuation (exclusive_start_key), against OFFSET paging in the same
// run. It is a benchmark that prints figures, not a test: it fails only when
// Easel cannot start, the seed fails or a page is wrong.
//
// It starts Easel in-process as bench/api does (a fresh database on the
// machine's Postgres, bin/versitygw over a temporary data dir), creates
// through the API a role "lister" (inference:list) and the user user0 with
// it, inserts the users user1..user{-users - 1} and -jobs finished txt2img
// jobs (owners round robin, one second apart, oldest first, as they would
// have been recorded) with SQL, runs ANALYZE, then times, one request at a
// time:
//
//   - HTTP, as admin (service key, inference:all): a walk through the first
//     -pages pages following last_evaluated_key (p50/p99 over all pages),
//     then -r requests each of the first page and of page -pages;
//   - HTTP, as admin, ?username=user42 (one user's jobs): first and second
//     page, -r requests each;
//   - HTTP, as user0 (inference:list only, so only their own jobs without
//     any filter): first and second page, -r requests each;
//   - HTTP, the whole list without limit (streamed), 3 requests, for
//     scale: not a page;
//   - SQL on a separate connection, -r executions each: OFFSET paging
//     (first page, page -pages), Easel's own keyset query
//     (store.ListInferences' text) for the same pages and for user42, and a
//     plain row-comparison keyset query.
//
// Every page is checked: 50 rows, newest first, no job twice in the walk.
// SQL cases read every row with rows.Values; HTTP cases read the whole body.
// Everything stays on 127.0.0.1; the database and the data dir are removed
// at the end.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"easel/bench/internal/benchenv"
	"easel/policy"
)

const (
	pageSize = 50
	target   = 20 * time.Millisecond
)

func main() {
	jobs := flag.Int("jobs", 100000, "jobs to seed")
	users := flag.Int("users", 1000, "users owning them (user0..)")
	pages := flag.Int("pages", 1000, "pages of the keyset walk; the deep page measured is this one")
	repeats := flag.Int("r", 200, "requests or executions per measured case")
	flag.Parse()
	benchenv.Main("bench-list", func(ctx context.Context) error {
		return run(ctx, *jobs, *users, *pages, *repeats)
	})
}

func run(ctx context.Context, jobs, users, pages, repeats int) (err error) {
	if users < 43 || pages < 2 || repeats < 1 || jobs < pages*pageSize || jobs/users < 2*pageSize {
		return errors.New("need -users >= 43, -pages >= 2, -r >= 1, -jobs >= 50 x -pages and >= 100 jobs per user")
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute) // bounded, whatever happens
	defer cancel()
	a, stopEasel, err := benchenv.Launch(ctx, "list", nil)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopEasel()) }()
	tr := &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	b := &bench{client: &http.Client{Transport: tr, Timeout: time.Minute}, base: a.URL}
	admin, user0 := benchenv.As("admin"), benchenv.As("user0")

	db, err := pgx.Connect(ctx, a.DBURL)
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	seedStart := time.Now()
	if err := benchenv.Post(ctx, b.client, b.base, "/prod/roles", admin, map[string]any{"role_name": "lister",
		"creator": "admin", "permissions": []string{policy.InferenceList.String()}}); err != nil {
		return err
	}
	if err := benchenv.Post(ctx, b.client, b.base, "/prod/users", admin, map[string]any{"username": "user0",
		"creator": "admin", "password": "bench-user-password", "roles": []string{"lister"}}); err != nil {
		return err
	}
	if err := seed(ctx, db, jobs, users); err != nil {
		return err
	}
	if err := a.Policy.Reload(ctx); err != nil { // the users inserted with SQL
		return err
	}
	seeded := time.Since(seedStart)

	fmt.Printf("Easel list benchmark: %d jobs of %d users, pages of %d, %d requests or executions per case, one at a time\n",
		jobs, users, pageSize, repeats)
	fmt.Printf("GOMAXPROCS %d, NumCPU %d, %s; loadavg %s\n", runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.Version(), benchenv.Loadavg())
	fmt.Printf("seeded in %s (2 API calls, SQL, ANALYZE); client and server share the process and the CPUs\n\n",
		seeded.Round(time.Millisecond))

	// The walk: every page once, following last_evaluated_key.
	var walk []time.Duration
	seen := make(map[string]bool, pages*pageSize)
	var key, deepKey string
	for p := 1; p <= pages; p++ {
		if p == pages {
			deepKey = key
		}
		d, pg, err := b.page(ctx, admin, "", key)
		if err != nil {
			return fmt.Errorf("walk, page %d: %w", p, err)
		}
		for _, id := range pg.ids {
			if seen[id] {
				return fmt.Errorf("walk, page %d: job %s listed twice", p, id)
			}
			seen[id] = true
		}
		if len(pg.ids) != pageSize || pg.next == "" {
			return fmt.Errorf("walk, page %d: %d rows, next key %q", p, len(pg.ids), pg.next)
		}
		walk = append(walk, d)
		key = pg.next
	}
	first, deepFirst := walk[0], walk[pages-1]
	slices.Sort(walk)

	user42, err := b.secondKey(ctx, admin, "user42")
	if err != nil {
		return err
	}
	own, err := b.secondKey(ctx, user0, "")
	if err != nil {
		return err
	}

	httpRows := []timing{
		{name: fmt.Sprintf("walk: all %d pages (keyset), p50/p99 over pages", pages), r: walk, page: true},
	}
	for _, c := range []struct {
		name      string
		h         http.Header
		user, key string
	}{
		{"first page, as admin", admin, "", ""},
		{fmt.Sprintf("page %d (keyset), as admin", pages), admin, "", deepKey},
		{"?username=user42 first page, as admin", admin, "user42", ""},
		{"?username=user42 page 2 (keyset), as admin", admin, "user42", user42},
		{"own jobs (no filter) first page, as user0", user0, "", ""},
		{"own jobs (no filter) page 2, as user0", user0, "", own},
	} {
		r, err := b.repeat(ctx, repeats, c.h, c.user, c.key)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		httpRows = append(httpRows, timing{name: c.name, r: r, page: true})
	}
	all, err := b.whole(ctx, admin, jobs)
	if err != nil {
		return err
	}
	httpRows = append(httpRows, timing{name: fmt.Sprintf("whole list, no limit (%d rows; not a page)", jobs), r: all})

	sqlRows, err := sqlCases(ctx, db, repeats, pages, deepKey)
	if err != nil {
		return err
	}

	fmt.Printf("%-56s %6s %9s %9s  %s\n", "HTTP GET /prod/inferences?limit=50", "n", "p50 ms", "p99 ms", "p99 < 20 ms")
	for _, r := range httpRows {
		slices.Sort(r.r)
		v := ""
		if r.page {
			v = benchenv.Verdict(benchenv.Pct(r.r, 99) < target)
		}
		fmt.Printf("%-56s %6d %9.2f %9.2f  %s\n", r.name, len(r.r), benchenv.MS(benchenv.Pct(r.r, 50)), benchenv.MS(benchenv.Pct(r.r, 99)), v)
	}
	fmt.Printf("walk: first page %.2f ms, page %d %.2f ms (single requests)\n\n", benchenv.MS(first), pages, benchenv.MS(deepFirst))
	fmt.Printf("%-56s %6s %9s %9s\n", "SQL, same server, one connection", "n", "p50 ms", "p99 ms")
	for _, r := range sqlRows {
		slices.Sort(r.r)
		fmt.Printf("%-56s %6d %9.2f %9.2f\n", r.name, len(r.r), benchenv.MS(benchenv.Pct(r.r, 50)), benchenv.MS(benchenv.Pct(r.r, 99)))
	}
	fmt.Printf("\nloadavg after: %s\n", benchenv.Loadavg())
	fmt.Printf("target: p99 < 20 ms for any page\n")
	return nil
}
