package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"easel/internal/testenv"
)

type readiness struct {
	Status string `json:"status"`
	Checks map[string]struct {
		OK    bool    `json:"ok"`
		MS    float64 `json:"ms"`
		Error string  `json:"error"`
	} `json:"checks"`
}

// getReady GETs path with c and the Authorization auth ("" none).
func getReady(t *testing.T, c *http.Client, s *testenv.Server, path, auth string) (int, readiness, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var r readiness
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("GET %s: %d, not JSON: %s", path, res.StatusCode, body)
	}
	return res.StatusCode, r, string(body)
}

var readyChecks = []string{"database", "object_store", "migrations", "job_queue"}

// TestHealthAndReadiness: /healthz says alive; /readyz checks the
// database, the store, the schema and the job queue, and shows which and
// how long only to the metrics token or a user with user:all. With the
// job queue stopped, it answers 503 and says why.
func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t, withMetricsToken)
	anon := http.DefaultClient
	if code, _, body := getReady(t, anon, s, "/healthz", ""); code != http.StatusOK || strings.TrimSpace(body) != `{"status":"ok"}` {
		t.Errorf("GET /healthz: %d %s", code, body)
	}
	mustUser(t, s, "admin", "ann")
	ann := signIn(t, s, "ann", "pw-ann")
	admin := signIn(t, s, "admin", testenv.AdminPassword)
	for name, c := range map[string]struct {
		client *http.Client
		auth   string
	}{
		"anonymous": {anon, ""}, "a wrong token": {anon, "Bearer not-the-metrics-token"}, "ann, without user:all": {ann, ""},
	} {
		if code, _, body := getReady(t, c.client, s, "/readyz", c.auth); code != http.StatusOK || strings.TrimSpace(body) != `{"status":"ok"}` {
			t.Errorf("GET /readyz as %s: %d %s, want 200 and the status alone", name, code, body)
		}
	}
	for name, c := range map[string]struct {
		client *http.Client
		auth   string
	}{
		"the metrics token": {anon, "Bearer " + metricsToken}, "admin": {admin, ""},
	} {
		code, r, body := getReady(t, c.client, s, "/readyz", c.auth)
		if code != http.StatusOK || r.Status != "ok" || len(r.Checks) != len(readyChecks) {
			t.Errorf("GET /readyz as %s: %d %s, want 200 with every check", name, code, body)
		}
		for _, check := range readyChecks {
			if got, ok := r.Checks[check]; !ok || !got.OK || got.Error != "" || got.MS < 0 {
				t.Errorf("GET /readyz as %s: check %s = %+v", name, check, got)
			}
		}
	}

	stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.App.River.Stop(stop); err != nil {
		t.Fatal(err)
	}
	if code, _, body := getReady(t, anon, s, "/readyz", ""); code != http.StatusServiceUnavailable || strings.TrimSpace(body) != `{"status":"not ready"}` {
		t.Errorf("GET /readyz, jobs stopped, anonymous: %d %s, want 503 and the status alone", code, body)
	}
	code, r, body := getReady(t, anon, s, "/readyz", "Bearer "+metricsToken)
	if code != http.StatusServiceUnavailable || r.Status != "not ready" || r.Checks["job_queue"].OK || !strings.Contains(r.Checks["job_queue"].Error, "stopped") {
		t.Errorf("GET /readyz, jobs stopped, with the token: %d %s, want 503 naming the job queue", code, body)
	}
	for _, check := range []string{"database", "object_store", "migrations"} {
		if !r.Checks[check].OK {
			t.Errorf("with only the job queue stopped, %s = %+v", check, r.Checks[check])
		}
	}
	if code, _, _ := getReady(t, anon, s, "/healthz", ""); code != http.StatusOK {
		t.Errorf("GET /healthz while not ready: %d, want 200 (alive)", code)
	}
}
