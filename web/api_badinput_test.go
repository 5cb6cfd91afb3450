package web_test

import (
	"strings"
	"testing"

	"easel/internal/testenv"
)

// TestBadInputChangesNothing sends client mistakes to every write route and
// checks each gets a clear 4xx in the envelope and leaves the data as it was.
func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	admin := testenv.As("admin")
	mustRole(t, s, "limited", "user:create", "user:list", "role:create", "role:list", "checkpoint:list")
	mustUser(t, s, "admin", "lim", "limited")
	before := snapshot(t, s)

	huge := `{"role_name":"big","creator":"admin","permissions":["` + strings.Repeat("a", 10<<20) + `"]}`
	cases := []struct {
		name, method, path string
		h                  testenv.Headers
		body               any
		status             int
		message            string
	}{
		{"malformed JSON", "POST", "/roles", admin, `{"role_name": "x",`, 400, "Invalid request body: malformed JSON: unexpected end of input"},
		{"not an object", "POST", "/users", admin, `[1,2]`, 400, `[instance type (array) does not match any allowed primitive type (allowed: ["object"])]`},
		{"trailing garbage", "POST", "/roles", admin, `{"role_name":"x","creator":"admin","permissions":["a:b"]} x`, 400, "Invalid request body: unexpected data after the JSON value"},
		{"wrong type", "POST", "/roles", admin, map[string]any{"role_name": 5, "creator": "admin", "permissions": "user:all"}, 400,
			`[instance type (string) does not match any allowed primitive type (allowed: ["array"]), instance type (integer) does not match any allowed primitive type (allowed: ["string"])]`},
		{"empty string", "POST", "/roles", admin, map[string]any{"role_name": "", "creator": "admin", "permissions": []string{"user:list"}}, 400, `[string "" is too short (length: 0, required minimum: 1)]`},
		{"empty list", "DELETE", "/roles", admin, map[string]any{"role_name_list": []string{}}, 400, "[array is too short (must have at least 1 elements but instance has 0 elements)]"},
		{"too many names", "DELETE", "/users", admin, map[string]any{"user_name_list": make([]string, 101)}, 400, "array is too long (must have at most 100 elements but instance has 101 elements)"},
		{"10 MB body", "POST", "/roles", admin, huge, 400, "Request body too large: the limit is 1048576 bytes"},
		{"empty body", "DELETE", "/users", admin, "", 400, `[object has missing required properties (["user_name_list"])]`},
		{"initial not a boolean", "POST", "/users", admin, map[string]any{"username": "u", "creator": "admin", "initial": "yes"}, 400, `[instance type (string) does not match any allowed primitive type (allowed: ["boolean"])]`},
		{"permission without colon", "POST", "/roles", admin, map[string]any{"role_name": "x", "creator": "admin", "permissions": []string{"useradmin"}}, 400, `invalid permission "useradmin": want <resource>:<action>`},
		{"unknown resource", "POST", "/roles", admin, map[string]any{"role_name": "x", "creator": "admin", "permissions": []string{"cluster:all"}}, 400, `unknown resource "cluster"`},
		{"unknown role", "POST", "/users", admin, map[string]any{"username": "u", "creator": "admin", "roles": []string{"ghost"}}, 400, `user roles "ghost" not exist`},
		{"grant beyond own (user)", "POST", "/users", testenv.As("lim"), map[string]any{"username": "u", "creator": "lim", "roles": []string{"IT Operator"}}, 403, "creator has no permission to assign permission"},
		{"grant beyond own (role)", "POST", "/roles", testenv.As("lim"), map[string]any{"role_name": "x", "creator": "lim", "permissions": []string{"user:all"}}, 400, "have not permission to create role with permission: [user:all]"},
		{"delete the last admin", "DELETE", "/users", admin, map[string]any{"user_name_list": []string{"admin", "lim"}}, 400, "cannot remove the last administrator"},
		{"delete default role among others", "DELETE", "/roles", admin, map[string]any{"role_name_list": []string{"limited", "IT Operator"}}, 400, "cannot delete default role"},
		{"Bearer of invalid hex", "GET", "/users", testenv.Headers{"x-api-key": testenv.ServiceKey, "Authorization": "Bearer XYZ"}, nil, 401, "Unauthorized"},
	}
	for _, tc := range cases {
		r := s.Call(t, tc.method, tc.path, tc.h, tc.body)
		if r.Status != tc.status {
			t.Errorf("%s: got status %d, want %d: %.300s", tc.name, r.Status, tc.status, r.Body)
			continue
		}
		if msg := r.Message(t); !strings.Contains(msg, tc.message) {
			t.Errorf("%s: got message %q, want it to contain %q", tc.name, msg, tc.message)
		}
	}
	if after := snapshot(t, s); after != before {
		t.Errorf("bad input changed data:\nbefore %s\nafter  %s", before, after)
	}
}

// snapshot renders every user and role as the API shows them.
func snapshot(t *testing.T, s *testenv.Server) string {
	t.Helper()
	users := s.MustCall(t, 200, "GET", "/users", testenv.As("admin"), nil)
	roles := s.MustCall(t, 200, "GET", "/roles", testenv.As("admin"), nil)
	return string(users.Body) + string(roles.Body)
}
