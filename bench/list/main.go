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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"easel/app"
	"easel/bench/internal/benchenv"
	"easel/policy"
)

const (
	serviceKey = "benchservicekey01234"
	pageSize   = 50
	target     = 20 * time.Millisecond
)

func main() {
	jobs := flag.Int("jobs", 100000, "jobs to seed")
	users := flag.Int("users", 1000, "users owning them (user0..)")
	pages := flag.Int("pages", 1000, "pages of the keyset walk; the deep page measured is this one")
	repeats := flag.Int("r", 200, "requests or executions per measured case")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *jobs, *users, *pages, *repeats); err != nil {
		fmt.Fprintln(os.Stderr, "bench-list:", err)
		os.Exit(1)
	}
}

type bench struct {
	client *http.Client
	base   string
}

func run(ctx context.Context, jobs, users, pages, repeats int) (err error) {
	if users < 43 || pages < 2 || repeats < 1 || jobs < pages*pageSize || jobs/users < 2*pageSize {
		return errors.New("need -users >= 43, -pages >= 2, -r >= 1, -jobs >= 50 x -pages and >= 100 jobs per user")
	}
	root, _ := os.Getwd()
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return errors.New("run from the repository root (go run ./bench/list)")
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute) // bounded, whatever happens
	defer cancel()
	dbURL, dropDB, err := benchenv.CreateDatabase(ctx, "list")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, dropDB()) }()
	dataDir, err := os.MkdirTemp("", "easel-bench-list-")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, os.RemoveAll(dataDir)) }()

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
	a, err := app.Open(ctx, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		return fmt.Errorf("open easel: %w", err)
	}
	defer a.Close()
	easelURL, stopEasel, err := benchenv.Serve(a.Web.HTTPServer("127.0.0.1:0"))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopEasel()) }()
	tr := &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	b := &bench{client: &http.Client{Transport: tr, Timeout: time.Minute}, base: easelURL}
	admin := http.Header{"X-Api-Key": {serviceKey}, "Username": {"admin"}}
	user0 := http.Header{"X-Api-Key": {serviceKey}, "Username": {"user0"}}

	db, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	seedStart := time.Now()
	if err := b.post(ctx, admin, "/prod/roles", map[string]any{"role_name": "lister", "creator": "admin",
		"permissions": []string{policy.InferenceList.String()}}); err != nil {
		return err
	}
	if err := b.post(ctx, admin, "/prod/users", map[string]any{"username": "user0", "creator": "admin",
		"password": "bench-user-password", "roles": []string{"lister"}}); err != nil {
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
			v = verdict(pct(r.r, 99) < target)
		}
		fmt.Printf("%-56s %6d %9.2f %9.2f  %s\n", r.name, len(r.r), ms(pct(r.r, 50)), ms(pct(r.r, 99)), v)
	}
	fmt.Printf("walk: first page %.2f ms, page %d %.2f ms (single requests)\n\n", ms(first), pages, ms(deepFirst))
	fmt.Printf("%-56s %6s %9s %9s\n", "SQL, same server, one connection", "n", "p50 ms", "p99 ms")
	for _, r := range sqlRows {
		slices.Sort(r.r)
		fmt.Printf("%-56s %6d %9.2f %9.2f\n", r.name, len(r.r), ms(pct(r.r, 50)), ms(pct(r.r, 99)))
	}
	fmt.Printf("\nloadavg after: %s\n", benchenv.Loadavg())
	fmt.Printf("target: p99 < 20 ms for any page\n")
	return nil
}

// seed inserts users user1.. and the jobs, and analyzes the tables.
func seed(ctx context.Context, db *pgx.Conn, jobs, users int) error {
	if _, err := db.Exec(ctx, `INSERT INTO users (username, creator)
		SELECT 'user' || g, 'admin' FROM generate_series(1, $1 - 1) g`, users); err != nil {
		return fmt.Errorf("seed users: %w", err)
	}
	if _, err := db.Exec(ctx, `
		INSERT INTO inferences (id, task_type, inference_type, status, owner, endpoint_id, endpoint_name,
			endpoint_instance_type, endpoint_backend, params_key, used_models, image_names, prompt,
			create_time, start_time, run_time, complete_time)
		SELECT id, 'txt2img', 'Async', 'succeed', 'user' || (g % $2), $3, 'esd-async-bench', 'sim', 'webui',
			'txt2img/infer_v2/' || id || '/api_param.json', '{}', ARRAY['image_0.png'], 'a lighthouse, take ' || g,
			t, t, t + interval '10 ms', t + interval '500 ms'
		FROM (SELECT gen_random_uuid() AS id, g, now() - ($1 - g) * interval '1 second' AS t
		      FROM generate_series(0, $1 - 1) g) s
		ORDER BY g`, jobs, users, uuid.New()); err != nil {
		return fmt.Errorf("seed jobs: %w", err)
	}
	if _, err := db.Exec(ctx, `ANALYZE users, inferences`); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}

func (b *bench) post(ctx context.Context, h http.Header, path string, body any) error {
	raw, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.base+path, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header = h.Clone()
	req.Header.Set("Content-Type", "application/json")
	res, err := b.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST %s: %d %s", path, res.StatusCode, out)
	}
	return nil
}

// timing is the latencies of one measured case.
type timing struct {
	name string
	r    []time.Duration
	page bool // a page, under the target
}

type page struct {
	ids  []string
	next string
}

// page GETs one page and checks it is newest first.
func (b *bench) page(ctx context.Context, h http.Header, user, key string) (time.Duration, page, error) {
	q := url.Values{"limit": {fmt.Sprint(pageSize)}}
	if user != "" {
		q.Set("username", user)
	}
	if key != "" {
		q.Set("exclusive_start_key", key)
	}
	begin := time.Now()
	body, err := b.get(ctx, h, "/prod/inferences?"+q.Encode())
	d := time.Since(begin)
	if err != nil {
		return d, page{}, err
	}
	var out struct {
		Data struct {
			Inferences []struct {
				ID         string   `json:"InferenceJobId"`
				CreateTime string   `json:"createTime"`
				Owners     []string `json:"owner_group_or_role"`
			} `json:"inferences"`
			Next string `json:"last_evaluated_key"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return d, page{}, fmt.Errorf("answer is not the list JSON: %w", err)
	}
	p := page{next: out.Data.Next}
	for i, r := range out.Data.Inferences {
		if i > 0 && r.CreateTime > out.Data.Inferences[i-1].CreateTime {
			return d, p, errors.New("rows are not newest first")
		}
		if user != "" && (len(r.Owners) != 1 || r.Owners[0] != user) {
			return d, p, fmt.Errorf("row of %v in the list of %s", r.Owners, user)
		}
		p.ids = append(p.ids, r.ID)
	}
	return d, p, nil
}

func (b *bench) get(ctx context.Context, h http.Header, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header = h.Clone()
	res, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d %.300s", path, res.StatusCode, body)
	}
	return body, nil
}

// secondKey returns the exclusive_start_key of a listing's second page.
func (b *bench) secondKey(ctx context.Context, h http.Header, user string) (string, error) {
	_, p, err := b.page(ctx, h, user, "")
	if err == nil && (len(p.ids) != pageSize || p.next == "") {
		err = fmt.Errorf("%d rows, next key %q", len(p.ids), p.next)
	}
	if err != nil {
		return "", fmt.Errorf("first page of %s as %s: %w", user, h.Get("Username"), err)
	}
	return p.next, nil
}

// repeat GETs one page n times.
func (b *bench) repeat(ctx context.Context, n int, h http.Header, user, key string) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for range n {
		d, p, err := b.page(ctx, h, user, key)
		if err != nil {
			return nil, err
		}
		if len(p.ids) != pageSize {
			return nil, fmt.Errorf("%d rows, want %d", len(p.ids), pageSize)
		}
		out = append(out, d)
	}
	return out, nil
}

// whole GETs the list without a limit three times.
func (b *bench) whole(ctx context.Context, h http.Header, jobs int) ([]time.Duration, error) {
	var out []time.Duration
	for range 3 {
		begin := time.Now()
		body, err := b.get(ctx, h, "/prod/inferences")
		d := time.Since(begin)
		if err != nil {
			return nil, err
		}
		var list struct {
			Data struct {
				Inferences []json.RawMessage `json:"inferences"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &list); err != nil || len(list.Data.Inferences) != jobs {
			return nil, fmt.Errorf("whole list: %d rows, want %d (%v)", len(list.Data.Inferences), jobs, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// listQuery is store.ListInferences' query, verbatim.
const listQuery = `
		SELECT i.id, i.task_type, i.inference_type, i.status, i.owner, i.endpoint_id, i.endpoint_name,
	i.endpoint_instance_type, i.endpoint_backend, i.params_key, i.used_models, i.image_names, i.sagemaker_raw,
	i.prompt, i.async_handle, i.create_time, i.start_time, i.run_time, i.complete_time FROM inferences i
		WHERE ($1 = '' OR i.owner = $1)
		  AND ($2 = '' OR i.status = $2)
		  AND ($3 = '' OR i.endpoint_name = $3)
		  AND ($4::timestamptz IS NULL OR i.create_time >= $4)
		  AND ($5::uuid IS NULL OR (i.create_time, i.id) < (SELECT create_time, id FROM inferences WHERE id = $5))
		ORDER BY i.create_time DESC, i.id DESC
		LIMIT $6`

const columns = `i.id, i.task_type, i.inference_type, i.status, i.owner, i.endpoint_id, i.endpoint_name,
	i.endpoint_instance_type, i.endpoint_backend, i.params_key, i.used_models, i.image_names, i.sagemaker_raw,
	i.prompt, i.async_handle, i.create_time, i.start_time, i.run_time, i.complete_time`

// sqlCases times OFFSET and keyset queries directly.
func sqlCases(ctx context.Context, db *pgx.Conn, n, pages int, deepKey string) ([]timing, error) {
	var keyTime time.Time
	if err := db.QueryRow(ctx, `SELECT create_time FROM inferences WHERE id = $1`, deepKey).Scan(&keyTime); err != nil {
		return nil, err
	}
	offset := `SELECT ` + columns + ` FROM inferences i ORDER BY i.create_time DESC, i.id DESC LIMIT 50 OFFSET $1`
	plain := `SELECT ` + columns + ` FROM inferences i WHERE (i.create_time, i.id) < ($1, $2)
		ORDER BY i.create_time DESC, i.id DESC LIMIT 50`
	var nilUUID *uuid.UUID
	deep := uuid.MustParse(deepKey)
	cases := []struct {
		name string
		sql  string
		args []any
	}{
		{"OFFSET 0 (first page)", offset, []any{0}},
		{fmt.Sprintf("OFFSET %d (page %d)", (pages-1)*pageSize, pages), offset, []any{(pages - 1) * pageSize}},
		{"Easel keyset query, first page", listQuery, []any{"", "", "", nil, nilUUID, pageSize}},
		{fmt.Sprintf("Easel keyset query, page %d", pages), listQuery, []any{"", "", "", nil, &deep, pageSize}},
		{"Easel keyset query, owner user42, first page", listQuery, []any{"user42", "", "", nil, nilUUID, pageSize}},
		{fmt.Sprintf("plain (create_time, id) < ($1, $2), page %d", pages), plain, []any{keyTime, deep}},
	}
	var out []timing
	for _, c := range cases {
		r := make([]time.Duration, 0, n)
		for range n {
			begin := time.Now()
			rows, err := db.Query(ctx, c.sql, c.args...)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
			got := 0
			for rows.Next() {
				if _, err := rows.Values(); err != nil {
					rows.Close()
					return nil, fmt.Errorf("%s: %w", c.name, err)
				}
				got++
			}
			rows.Close()
			if err := rows.Err(); err != nil || got != pageSize {
				return nil, fmt.Errorf("%s: %d rows, %v", c.name, got, err)
			}
			r = append(r, time.Since(begin))
		}
		out = append(out, timing{name: c.name, r: r})
	}
	return out, nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// pct is the nearest-rank percentile p of sorted durations.
func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d))*p/100+0.5) - 1
	return d[max(0, min(i, len(d)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
