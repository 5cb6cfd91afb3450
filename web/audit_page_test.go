package web_test

import (
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"easel/internal/testenv"
	"easel/jobs"
	"easel/store"
)

// TestAuditPage: the page says changes as sentences with their details in
// a disclosure, filters, and pages to older entries by keyset.
func TestAuditPage(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	mustRole(t, s, "viewers", "checkpoint:list")
	for range 60 {
		mustAudit(t, s, "pat", "gadget.create", "g")
	}
	c := signIn(t, s, "admin", testenv.AdminPassword)
	page := getPage(t, c, s.URL+"/audit?user=admin")
	for _, want := range []string{`data-testid="nav-audit"`, `aria-current="page"`, "<strong>admin</strong>", "saved role",
		`data-testid="audit-details"`, "the API", `data-testid="audit-request-id"`, `data-testid="audit-after"`, "checkpoint:list"} {
		if !strings.Contains(page, want) {
			t.Errorf("audit page for admin lacks %q", want)
		}
	}
	if strings.Contains(page, "gadget") || strings.Contains(page, "<style") || strings.Contains(page, "<script>") {
		t.Error("the filtered page shows other users' entries, or inline style or script")
	}
	page = getPage(t, c, s.URL+"/audit?user=pat")
	if n := strings.Count(page, `data-testid="audit-entry"`); n != 50 || !strings.Contains(page, `data-testid="audit-older"`) {
		t.Fatalf("first page of pat: %d entries, older link %v; want 50 and a link", n, strings.Contains(page, "audit-older"))
	}
	older := strings.ReplaceAll(regexpFind(t, page, `data-testid="audit-older"`, `href="([^"]+)"`), "&amp;", "&")
	page = getPage(t, c, s.URL+older)
	if n := strings.Count(page, `data-testid="audit-entry"`); n != 10 || strings.Contains(page, `data-testid="audit-older"`) {
		t.Errorf("second page of pat (%s): %d entries, want the last 10 and no older link", older, n)
	}
	res, err := c.Get(s.URL + "/audit?since=someday")
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "since must be a time") {
		t.Errorf("bad since: %d", res.StatusCode)
	}
}

// regexpFind returns the first group of re in the tag of page that holds
// marker.
func regexpFind(t *testing.T, page, marker, re string) string {
	t.Helper()
	i := strings.Index(page, marker)
	if i < 0 {
		t.Fatalf("no %s on the page", marker)
	}
	start := strings.LastIndex(page[:i], "<")
	end := start + strings.Index(page[start:], ">")
	m := regexp.MustCompile(re).FindStringSubmatch(page[start:end])
	if m == nil {
		t.Fatalf("%s: no %s in %s", marker, re, page[start:end])
	}
	return m[1]
}

// TestAuditPageNeedsPermission: someone without audit:list or user:all
// gets 403 and no navigation link; audit:list alone is enough.
func TestAuditPageNeedsPermission(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	mustRole(t, s, "others", "user:create", "role:all", "checkpoint:all")
	mustRole(t, s, "auditors", "audit:list")
	s.MustCall(t, 201, "POST", "/users", testenv.As("admin"), map[string]any{"username": "ops", "password": "ops-password-1", "roles": []string{"others"}, "creator": "admin"})
	s.MustCall(t, 201, "POST", "/users", testenv.As("admin"), map[string]any{"username": "aud", "password": "aud-password-1", "roles": []string{"auditors"}, "creator": "admin"})
	ops := signIn(t, s, "ops", "ops-password-1")
	if strings.Contains(getPage(t, ops, s.URL+"/"), `data-testid="nav-audit"`) {
		t.Error("a user without audit:list or user:all sees the Audit link")
	}
	for _, path := range []string{"/audit", "/audit.csv"} {
		res, err := ops.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		if body := readAll(t, res); res.StatusCode != http.StatusForbidden || strings.Contains(body, "session.signin") {
			t.Errorf("GET %s without permission: %d, want 403 and no entries", path, res.StatusCode)
		}
	}
	aud := signIn(t, s, "aud", "aud-password-1")
	if page := getPage(t, aud, s.URL+"/audit"); !strings.Contains(page, `data-testid="nav-audit"`) || !strings.Contains(page, "signed in to the console") {
		t.Error("an auditor does not see the Audit link or the sign-ins")
	}
	roles := getPage(t, signIn(t, s, "admin", testenv.AdminPassword), s.URL+"/roles")
	if !strings.Contains(roles, `value="audit:list"`) || strings.Contains(roles, `value="audit:create"`) {
		t.Error("the permission matrix lacks audit:list, or offers audit:create")
	}
}

// TestAuditCSV: the export has a header row, every matching entry, and
// cells a spreadsheet would run as formulas defused.
func TestAuditCSV(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	for _, target := range []string{"=HYPERLINK(\"http://x\")", "+1", "-1", "@SUM(A1)", "plain"} {
		mustAudit(t, s, "eve", "gadget.create", target)
	}
	c := signIn(t, s, "admin", testenv.AdminPassword)
	res, err := c.Get(s.URL + "/audit.csv?user=eve")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("CSV: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
	}
	rows, err := csv.NewReader(res.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 || strings.Join(rows[0], ",") != "id,at,user,action,target,detail,via,key_id,address,request_id,before,after" {
		t.Fatalf("CSV rows: %q", rows)
	}
	var targets []string
	for _, r := range rows[1:] {
		targets = append(targets, r[4])
	}
	want := []string{"plain", "'@SUM(A1)", "'-1", "'+1", "'=HYPERLINK(\"http://x\")"}
	if strings.Join(targets, "|") != strings.Join(want, "|") {
		t.Errorf("CSV targets %q, want %q", targets, want)
	}
	res, err = c.Get(s.URL + "/audit.csv?user=nobody")
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, res); res.StatusCode != http.StatusOK || strings.Count(body, "\n") != 1 {
		t.Errorf("empty CSV: %d %q, want the header row alone", res.StatusCode, body)
	}
}

// TestAuditRetention: the prune deletes, in batches, the entries older
// than the retention by the store's clock and keeps the younger ones.
func TestAuditRetention(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	db := s.App.Store.DB()
	now := time.Now().UTC().Truncate(time.Second)
	_, err := db.Exec(context.Background(), `INSERT INTO audit_log (at, actor, action, target)
		SELECT $1::timestamptz - make_interval(days => 400), 'old', 'gadget.create', 'o' || g FROM generate_series(1, 2500) g
		UNION ALL SELECT $1::timestamptz - make_interval(days => 364), 'young', 'gadget.create', 'y'`, now)
	if err != nil {
		t.Fatal(err)
	}
	clock := *s.App.Store
	clock.Now = func() time.Time { return now }
	d := jobs.Deps{Store: &clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Cfg: jobs.Config{AuditRetention: 365 * 24 * time.Hour}}
	n, err := jobs.PruneAudit(t.Context(), d)
	if err != nil || n != 2500 {
		t.Fatalf("prune: deleted %d (%v), want 2500", n, err)
	}
	for actor, want := range map[string]int{"old": 0, "young": 1} {
		left, err := store.ListAudit(t.Context(), db, store.AuditFilter{Actor: actor})
		if err != nil || len(left) != want {
			t.Errorf("entries of %s after the prune: %d (%v), want %d", actor, len(left), err, want)
		}
	}
	// Today's entries (the server's start) are far younger than the retention.
	if left, _ := store.ListAudit(t.Context(), db, store.AuditFilter{Action: "user.upsert"}); len(left) == 0 {
		t.Error("the prune removed today's entries")
	}
}
