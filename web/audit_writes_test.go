package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"easel/internal/testenv"
	"easel/secrets"
	"easel/store"
)

// auditByRequest returns the audit entries of the request with id rid.
func auditByRequest(t *testing.T, s *testenv.Server, rid string) []store.AuditEntry {
	t.Helper()
	all, err := store.ListAudit(t.Context(), s.App.Store.DB(), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditEntry
	for _, a := range all {
		if a.RequestID == rid {
			out = append(out, a)
		}
	}
	return out
}

// TestEveryAPIWriteIsAudited performs each write of the API and checks
// that it left an audit entry carrying the response's request id, the key
// used, the client address and how it came. A write path that forgets to
// audit fails here.
func TestEveryAPIWriteIsAudited(t *testing.T) {
	t.Parallel()
	s := simPoolServer(t)
	admin := testenv.As("admin")
	svc, err := store.FindKeyByHash(t.Context(), s.App.Store.DB(), secrets.HashKey(testenv.ServiceKey))
	if err != nil {
		t.Fatal(err)
	}
	mustActiveModel(t, s, "Lora", "style.safetensors")
	lora := checkpointsOf(t, s, admin, "?types=Lora")[0]["id"].(string)
	var upload string
	steps := []struct {
		name, method, path string
		body               any
		status             int
		action             string
		after              func(testenv.Response)
	}{
		{"create role", "POST", "/roles", map[string]any{"role_name": "viewers", "creator": "admin", "permissions": []string{"checkpoint:list"}}, 201, "role.upsert", nil},
		{"create user", "POST", "/users", map[string]any{"username": "ann", "creator": "admin", "password": "ann-password-1", "roles": []string{"viewers"}}, 201, "user.upsert", nil},
		{"change password", "POST", "/users", map[string]any{"username": "ann", "creator": "admin", "password": "ann-password-2", "roles": []string{"viewers"}}, 201, "user.upsert", nil},
		{"start upload", "POST", "/checkpoints", map[string]any{"checkpoint_type": "Lora",
			"filenames": []map[string]any{{"filename": "new.safetensors", "parts_number": 1}}, "params": map[string]any{"creator": "admin"}}, 201, "checkpoint.upload",
			func(r testenv.Response) {
				upload = r.JSON(t)["data"].(map[string]any)["checkpoint"].(map[string]any)["id"].(string)
			}},
		{"rename model", "PUT", "/checkpoints/" + lora, map[string]any{"name": "renamed.safetensors"}, 202, "checkpoint.update", nil},
		{"create endpoint", "POST", "/endpoints", map[string]any{"endpoint_name": "a1", "endpoint_type": "Async", "instance_type": "studio",
			"initial_instance_count": 1, "assign_to_roles": []string{"viewers"}}, 202, "endpoint.create", nil},
		{"delete endpoint", "DELETE", "/endpoints", map[string]any{"endpoint_name_list": []string{"esd-async-a1"}, "username": "admin"}, 204, "endpoint.delete", nil},
		{"delete upload", "DELETE", "/checkpoints", nil, 204, "checkpoint.delete", nil},
		{"delete user", "DELETE", "/users", map[string]any{"user_name_list": []string{"ann"}}, 204, "user.delete", nil},
		{"delete role", "DELETE", "/roles", map[string]any{"role_name_list": []string{"viewers"}}, 204, "role.delete", nil},
	}
	for _, st := range steps {
		body := st.body
		if st.name == "delete upload" {
			body = map[string]any{"checkpoint_id_list": []string{upload}}
		}
		r := s.MustCall(t, st.status, st.method, st.path, admin, body)
		if st.after != nil {
			st.after(r)
		}
		rid := r.Header.Get("X-Request-Id")
		if rid == "" {
			t.Fatalf("%s: no X-Request-Id header", st.name)
		}
		entries := auditByRequest(t, s, rid)
		if len(entries) == 0 {
			t.Errorf("%s (%s %s): no audit entry with request id %s", st.name, st.method, st.path, rid)
			continue
		}
		a := entries[0]
		if a.Action != st.action || a.Actor != "admin" || a.Via != store.ViaAPI || a.KeyID != svc.ID || a.Address != "127.0.0.1" {
			t.Errorf("%s: entry %+v, want action %s by admin via api, key %s, address 127.0.0.1", st.name, a, st.action, svc.ID)
		}
	}
}

// TestPasswordChangeIsAuditedWithoutThePassword: the summary says the
// password changed, and neither it nor its hash is in the log.
func TestPasswordChangeIsAuditedWithoutThePassword(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	admin := testenv.As("admin")
	mustRole(t, s, "viewers", "checkpoint:list")
	mustUser(t, s, "admin", "bo", "viewers")
	r := s.MustCall(t, 201, "POST", "/users", admin, map[string]any{"username": "bo", "creator": "admin", "password": "secret-password-9", "roles": []string{}})
	entries := auditByRequest(t, s, r.Header.Get("X-Request-Id"))
	if len(entries) != 1 {
		t.Fatalf("password change: %d entries, want 1", len(entries))
	}
	a := entries[0]
	if string(a.Before) != `{"roles": ["viewers"]}` || string(a.After) != `{"roles": [], "password_changed": true}` {
		t.Errorf("password change: before %s after %s", a.Before, a.After)
	}
	all, _ := store.ListAudit(t.Context(), s.App.Store.DB(), store.AuditFilter{})
	for _, e := range all {
		row := e.Detail + string(e.Before) + string(e.After)
		if strings.Contains(row, "secret-password-9") || strings.Contains(row, "$argon2") || strings.Contains(row, "$2a$") {
			t.Errorf("audit entry %s holds the password or its hash: %s", e.Action, row)
		}
	}
}

// TestConsoleWritesAreAudited: sign-in, key creation and revocation and
// sign-out from the console are audited with the console's request id;
// the endpoint's status change by its deploy job names the job.
func TestConsoleWritesAreAudited(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	c, token := consoleClient(t, s)
	res := loginTo(t, c, s, token, "admin", testenv.AdminPassword, "/")
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", res.StatusCode)
	}
	checkConsole := func(what string, res *http.Response, action string) {
		t.Helper()
		entries := auditByRequest(t, s, res.Header.Get("X-Request-Id"))
		if len(entries) == 0 || entries[0].Action != action || entries[0].Via != store.ViaConsole || entries[0].Address != "127.0.0.1" {
			t.Errorf("%s: entries %+v, want one %s via console from 127.0.0.1", what, entries, action)
		}
	}
	checkConsole("sign-in", res, "session.signin")
	page := pageToken(t, c, s.URL+"/keys")
	res, err := c.PostForm(s.URL+"/keys", url.Values{"_csrf": {page}, "name": {"laptop"}})
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, res)
	checkConsole("key create", res, "key.create")
	keys, err := store.ListKeys(t.Context(), s.App.Store.DB(), storeKeysOf("admin"))
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys of admin: %v %v", keys, err)
	}
	req, _ := http.NewRequest(http.MethodDelete, s.URL+"/keys/"+keys[0].ID.String(), nil)
	req.Header.Set("X-CSRF-Token", page)
	req.Header.Set("HX-Request", "true")
	res, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, res)
	checkConsole("key revoke", res, "key.revoke")
	req, _ = http.NewRequest(http.MethodPost, s.URL+"/logout", strings.NewReader(url.Values{"_csrf": {page}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, res)
	checkConsole("sign-out", res, "session.signout")
}

var jobRequestID = regexp.MustCompile(`^job-[0-9]+$`)

// TestJobWritesAreAudited: an endpoint's deploy and reconcile jobs record
// its status changes as Easel's, naming the job.
func TestJobWritesAreAudited(t *testing.T) {
	t.Parallel()
	s := simPoolServer(t)
	s.MustCall(t, 202, "POST", "/endpoints", testenv.As("admin"), map[string]any{"endpoint_name": "j1", "endpoint_type": "Async",
		"instance_type": "studio", "initial_instance_count": 1, "assign_to_roles": []string{"byoc"}})
	waitEndpoint(t, s, "esd-async-j1", "InService")
	entries, err := store.ListAudit(t.Context(), s.App.Store.DB(), store.AuditFilter{Action: "endpoint.status", Target: "esd-async-j1"})
	if err != nil || len(entries) == 0 {
		t.Fatalf("endpoint.status entries: %v %v", entries, err)
	}
	a := entries[0]
	if a.Actor != store.SystemActor || !strings.HasPrefix(a.Via, "job:endpoint_") || !jobRequestID.MatchString(a.RequestID) ||
		string(a.After) != `{"status": "InService"}` {
		t.Errorf("status change entry %+v, want Easel's via an endpoint job, after InService", a)
	}
}
