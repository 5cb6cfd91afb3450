package web_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"easel/internal/testenv"
)

// TestMetricsNeedTheToken: with EASEL_METRICS_TOKEN set, /metrics answers
// 401 to a missing or wrong bearer token and the text format to the right
// one; unset, it is open.
func TestMetricsNeedTheToken(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t, withMetricsToken)
	for _, auth := range []string{"", "Bearer wrong-token-0123456789", metricsToken, "Basic " + metricsToken, "Bearer " + metricsToken + "x"} {
		if status, body := getMetrics(t, s, auth); status != http.StatusUnauthorized || strings.Contains(body, "easel_") {
			t.Errorf("GET /metrics with Authorization %q: %d, want 401 and no metrics: %.200s", auth, status, body)
		}
	}
	if text := scrapeText(t, s); !strings.Contains(text, "# TYPE easel_http_requests_total counter") {
		t.Errorf("the scrape has no easel_http_requests_total: %.500s", text)
	}
	open := testenv.NewServer(t)
	if status, body := getMetrics(t, open, ""); status != http.StatusOK || !strings.Contains(body, "easel_limit_refusals_total") {
		t.Errorf("GET /metrics without EASEL_METRICS_TOKEN: %d, want 200 with the metrics", status)
	}
	if !strings.Contains(open.Log.String(), "GET /metrics is open") {
		t.Error("an open /metrics was not logged at start")
	}
	if strings.Contains(s.Log.String(), "GET /metrics is open") {
		t.Error("a token-protected /metrics was logged as open")
	}
}

// TestMetricsCountRequestsByRoutePattern: requests are counted under their
// route pattern (never the URL), method and status class, with latency
// histograms; unknown paths share one label; Postgres and S3 calls are
// timed by operation.
func TestMetricsCountRequestsByRoutePattern(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t, withMetricsToken)
	admin := testenv.As("admin")
	s.MustCall(t, 200, "GET", "/users", admin, nil)
	s.MustCall(t, 200, "GET", "/users?show_password=False", admin, nil)
	s.MustCall(t, 403, "GET", "/users", testenv.Key("not-a-key"), nil)
	missing := uuid.NewString()
	s.MustCall(t, 404, "GET", "/inferences/"+missing, admin, nil)
	for _, path := range []string{"/no/such/page/" + missing, "/another-" + missing} {
		res, err := http.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}

	text := scrapeText(t, s)
	if strings.Contains(text, missing) {
		t.Errorf("a raw URL reached the metrics' labels:\n%s", grepLines(text, missing))
	}
	fams := scrape(t, s)
	for _, c := range []struct {
		labels map[string]string
		want   float64
	}{
		{map[string]string{"route": "/prod/users", "method": "GET", "status": "2xx"}, 2},
		{map[string]string{"route": "/prod/users", "method": "GET", "status": "4xx"}, 1},
		{map[string]string{"route": "/prod/inferences/:id", "method": "GET", "status": "4xx"}, 1},
		{map[string]string{"route": "(unmatched)", "method": "GET", "status": "4xx"}, 2},
	} {
		if got := value(fams, "easel_http_requests_total", c.labels); got != c.want {
			t.Errorf("easel_http_requests_total%v = %v, want %v", c.labels, got, c.want)
		}
	}
	checkHistogram(t, fams, "easel_http_request_duration_seconds", map[string]string{"route": "/prod/users", "method": "GET"}, 3)
	checkHistogram(t, fams, "easel_http_request_duration_seconds", map[string]string{"route": "(unmatched)", "method": "GET"}, 2)

	// The store was reached at start (HeadBucket) and the database by
	// every request: both are timed by operation.
	if got := value(fams, "easel_s3_request_duration_seconds", map[string]string{"operation": "HeadBucket"}); got < 1 {
		t.Errorf("S3 HeadBucket calls timed: %v, want at least 1", got)
	}
	if got := value(fams, "easel_db_query_duration_seconds", map[string]string{"operation": "select users"}); got < 1 {
		t.Errorf("Postgres 'select users' statements timed: %v, want at least 1", got)
	}
	for _, m := range fams["easel_db_query_duration_seconds"].GetMetric() {
		if op := m.GetLabel()[0].GetValue(); len(op) > 60 || strings.ContainsAny(op, "$()\n") {
			t.Errorf("Postgres operation label %q is not a bounded name", op)
		}
	}
	if fams["go_goroutines"] == nil || fams["process_resident_memory_bytes"] == nil {
		t.Error("the Go runtime and process collectors are missing")
	}
}

// TestMetricsCountLoginFailuresAndRefusals: wrong passwords count as login
// failures; the throttle's and the body limit's refusals count by limit.
func TestMetricsCountLoginFailuresAndRefusals(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t, withMetricsToken)
	before := scrape(t, s)
	if got := value(before, "easel_login_failures_total", nil); got != 0 {
		t.Errorf("login failures before any sign-in: %v, want 0", got)
	}
	c, token := consoleClient(t, s)
	failedLogins(t, c, s, token, "admin", freeFailures)
	if got := login(t, c, s, token, "admin", testenv.AdminPassword); got != http.StatusTooManyRequests {
		t.Fatalf("sign-in after %d failures: %d, want 429", freeFailures, got)
	}
	res, err := c.Post(s.URL+"/users", "application/x-www-form-urlencoded", bytes.NewReader(make([]byte, 2<<20)))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 2 MiB console body: %d, want 413", res.StatusCode)
	}
	fams := scrape(t, s)
	for name, c := range map[string]struct {
		labels map[string]string
		want   float64
	}{
		"easel_login_failures_total":                  {nil, freeFailures},
		"easel_limit_refusals_total":                  {map[string]string{"limit": "login_throttle"}, 1},
		"easel_limit_refusals_total{console_body}":    {map[string]string{"limit": "console_body"}, 1},
		"easel_limit_refusals_total{login_busy}":      {map[string]string{"limit": "login_busy"}, 0},
		"easel_http_requests_total{/login POST 4xx}":  {map[string]string{"route": "/login", "method": "POST", "status": "4xx"}, freeFailures + 1},
		"easel_http_requests_total{/users POST 4xx}":  {map[string]string{"route": "/users", "method": "POST", "status": "4xx"}, 1},
		"easel_http_requests_total{/login GET 2xx}":   {map[string]string{"route": "/login", "method": "GET", "status": "2xx"}, 1},
		"easel_http_requests_total{/metrics GET 2xx}": {map[string]string{"route": "/metrics", "method": "GET", "status": "2xx"}, 1},
	} {
		family, _, _ := strings.Cut(name, "{")
		if got := value(fams, family, c.labels); got != c.want {
			t.Errorf("%s = %v, want %v", name, got, c.want)
		}
	}
}

func grepLines(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
