package web_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"easel/internal/testenv"
	"easel/store"
)

// auditPage returns the ids and last_evaluated_key of one GET /audit.
func auditPage(t *testing.T, s *testenv.Server, query string) ([]int64, string) {
	t.Helper()
	r := s.MustCall(t, 200, "GET", "/audit"+query, testenv.As("admin"), nil)
	data := r.JSON(t)["data"].(map[string]any)
	var ids []int64
	for _, it := range data["audit"].([]any) {
		id, err := strconv.ParseInt(it.(map[string]any)["id"].(string), 10, 64)
		if err != nil {
			t.Fatalf("audit id: %v", err)
		}
		ids = append(ids, id)
	}
	last, _ := data["last_evaluated_key"].(string)
	return ids, last
}

func mustAudit(t *testing.T, s *testenv.Server, actor, action, target string) {
	t.Helper()
	if err := store.Audit(context.Background(), s.App.Store.DB(), actor, action, target, ""); err != nil {
		t.Error(err)
	}
}

// TestAuditAPIPagesWithoutGapsWhileWritesGoOn: paging newest first by id
// sees every entry that existed when it began exactly once, in order,
// while new entries are written meanwhile.
func TestAuditAPIPagesWithoutGapsWhileWritesGoOn(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	for i := range 40 {
		mustAudit(t, s, "pat", "test.page", fmt.Sprintf("t%d", i))
	}
	before, err := store.ListAudit(t.Context(), s.App.Store.DB(), store.AuditFilter{Action: "test.page"})
	if err != nil || len(before) != 40 {
		t.Fatalf("entries before paging: %d %v", len(before), err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
				mustAudit(t, s, "pat", "test.page", fmt.Sprintf("late%d", i))
			}
		}
	})
	seen := map[int64]bool{}
	var order []int64
	ids, last := auditPage(t, s, "?action=test.page&limit=7")
	for pages := 1; ; pages++ {
		for _, id := range ids {
			if seen[id] {
				t.Errorf("entry %d listed twice", id)
			}
			seen[id] = true
			order = append(order, id)
		}
		if last == "" || pages > 100 {
			break
		}
		ids, last = auditPage(t, s, "?action=test.page&limit=7&exclusive_start_key="+last)
	}
	close(stop)
	wg.Wait()
	for i := 1; i < len(order); i++ {
		if order[i] >= order[i-1] {
			t.Fatalf("ids not strictly newest first at %d: %v", i, order)
		}
	}
	for _, a := range before {
		if !seen[a.ID] {
			t.Errorf("entry %d (%s) was never listed", a.ID, a.Target)
		}
	}
}

func TestAuditAPIFilters(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	mustAudit(t, s, "ann", "gadget.create", "k1")
	mustAudit(t, s, "ann", "gadget.revoke", "k1")
	mustAudit(t, s, "bob", "gadget.create", "k2")
	mustAudit(t, s, "bob", "role.upsert", "r1")
	count := func(q string) int {
		ids, _ := auditPage(t, s, q)
		return len(ids)
	}
	for q, want := range map[string]int{
		"?user=ann": 2, "?user=bob&action=gadget": 1, "?action=gadget.create": 2, "?action=gadget": 3, "?target=k1": 2,
		"?since=2000-01-01&until=2999-01-01T00:00:00Z&user=bob": 2, "?until=2000-01-01&user=bob": 0,
		"?action=g%25": 0, "?action=gadget.c%25": 0,
	} {
		if got := count(q); got != want {
			t.Errorf("GET /audit%s: %d entries, want %d", q, got, want)
		}
	}
	r := s.MustCall(t, 200, "GET", "/audit?user=ann&limit=1", testenv.As("admin"), nil)
	item := r.JSON(t)["data"].(map[string]any)["audit"].([]any)[0].(map[string]any)
	if item["action"] != "gadget.revoke" || item["via"] != "system" || item["key_id"] != nil {
		t.Errorf("newest of ann: %v", item)
	}
}

func TestAuditAPIBadParameters(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	for q, param := range map[string]string{
		"?limit=0": "limit", "?limit=abc": "limit", "?limit=1001": "limit", "?since=yesterday": "since",
		"?until=31/01/2026": "until", "?exclusive_start_key=abc": "exclusive_start_key", "?exclusive_start_key=-4": "exclusive_start_key",
		"?since=2026-02-01&until=2026-01-01": "until",
	} {
		r := s.MustCall(t, 400, "GET", "/audit"+q, testenv.As("admin"), nil)
		if !strings.HasPrefix(r.Message(t), param+" ") {
			t.Errorf("GET /audit%s: message %q, want one naming %s", q, r.Message(t), param)
		}
	}
}

// TestAuditAPIPermission: audit:list or user:all reads the log; neither
// is refused.
func TestAuditAPIPermission(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	mustRole(t, s, "auditors", "audit:list")
	mustRole(t, s, "people", "user:all")
	mustRole(t, s, "others", "user:create", "role:all", "checkpoint:all")
	mustUser(t, s, "admin", "aud", "auditors")
	mustUser(t, s, "admin", "hr", "people")
	mustUser(t, s, "admin", "ops", "others")
	s.MustCall(t, 200, "GET", "/audit", testenv.As("aud"), nil)
	s.MustCall(t, 200, "GET", "/audit", testenv.As("hr"), nil)
	r := s.MustCall(t, 403, "GET", "/audit", testenv.As("ops"), nil)
	if r.Message(t) != "User ops has no permissions: [audit:list]" {
		t.Errorf("message = %q", r.Message(t))
	}
	r = s.MustCall(t, 400, "POST", "/roles", testenv.As("admin"), map[string]any{"role_name": "x", "creator": "admin", "permissions": []string{"audit:create"}})
	if !strings.Contains(r.Message(t), `unknown action "create"`) {
		t.Errorf("audit:create: message %q", r.Message(t))
	}
}
