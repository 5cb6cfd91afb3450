package web_test

import (
	"testing"

	"easel/internal/testenv"
)

// TestIdentityMatrix walks the contract's identity rules on a route that
// lists on someone's behalf (GET /roles) and one that does not (DELETE /roles).
func TestIdentityMatrix(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	mustRole(t, s, "viewer", "role:list")
	mustRole(t, s, "nobody", "train:list")
	mustUser(t, s, "admin", "alice", "viewer")
	mustUser(t, s, "admin", "bob", "nobody")
	mustUser(t, s, "admin", "carol", "viewer")
	aliceKey := s.UserKey(t, "alice")
	bobKey := s.UserKey(t, "bob")

	cases := []struct {
		name    string
		method  string
		path    string
		h       testenv.Headers
		body    any
		status  int
		message string
	}{
		{"no key", "GET", "/roles", nil, nil, 403, "Forbidden"},
		{"bad key", "GET", "/roles", testenv.Key("wrong"), nil, 403, "Forbidden"},
		{"user key", "GET", "/roles", testenv.Key(aliceKey), nil, 200, "OK"},
		{"user key naming itself", "GET", "/roles", testenv.Headers{"x-api-key": aliceKey, "username": "alice"}, nil, 200, "OK"},
		{"user key naming someone else", "GET", "/roles", testenv.Headers{"x-api-key": aliceKey, "username": "carol"}, nil, 403, "This key belongs to alice and cannot act as carol"},
		{"user key with someone else's bearer", "GET", "/roles", testenv.Headers{"x-api-key": aliceKey, "Authorization": bearer("carol")}, nil, 403, "This key belongs to alice and cannot act as carol"},
		{"service key with username header", "GET", "/roles", testenv.As("alice"), nil, 200, "OK"},
		{"service key with bearer hex", "GET", "/roles", testenv.Headers{"x-api-key": testenv.ServiceKey, "Authorization": bearer("alice")}, nil, 200, "OK"},
		{"username header wins over bearer", "GET", "/roles", testenv.Headers{"x-api-key": testenv.ServiceKey, "username": "bob", "Authorization": bearer("alice")}, nil, 403, "User bob has no permissions: [role:list]"},
		{"lower-case bearer hex", "GET", "/roles", testenv.Headers{"x-api-key": testenv.ServiceKey, "Authorization": "Bearer 616c696365"}, nil, 200, "OK"},
		{"service key without identity on a list route", "GET", "/roles", testenv.Key(testenv.ServiceKey), nil, 401,
			`Unauthorized: this request acts on behalf of a user; send the "username" header or "Authorization: Bearer <hex of the user name>"`},
		{"service key naming an unknown user", "GET", "/roles", testenv.As("mallory"), nil, 401,
			`Unauthorized: the user named by this request does not exist; send the "username" header or "Authorization: Bearer <hex of the user name>"`},
		{"user lacking the permission", "GET", "/roles", testenv.Key(bobKey), nil, 403, "User bob has no permissions: [role:list]"},
		{"service key without identity elsewhere acts as itself", "DELETE", "/roles", testenv.Key(testenv.ServiceKey), map[string]any{"role_name_list": []string{"nobody"}}, 204, ""},
		{"body creator names the user for a service key", "POST", "/roles", testenv.Key(testenv.ServiceKey), map[string]any{"role_name": "x", "creator": "bob", "permissions": []string{"train:list"}}, 403, "User bob has no permissions: [role:create]"},
		{"unknown body creator", "POST", "/roles", testenv.Key(testenv.ServiceKey), map[string]any{"role_name": "x", "creator": "mallory", "permissions": []string{"train:list"}}, 401,
			`Unauthorized: the user named by this request does not exist; send the "username" header or "Authorization: Bearer <hex of the user name>"`},
		{"header identity ignores the body creator", "POST", "/roles", testenv.As("admin"), map[string]any{"role_name": "y", "creator": "mallory", "permissions": []string{"train:list"}}, 201, "role created"},
		{"body creator never grants identity to a user key", "POST", "/roles", testenv.Key(bobKey), map[string]any{"role_name": "z", "creator": "admin", "permissions": []string{"train:list"}}, 403, "User bob has no permissions: [role:create]"},
		{"validation comes before identity", "POST", "/roles", testenv.Key(testenv.ServiceKey), map[string]any{"creator": "mallory"}, 400, `[object has missing required properties (["permissions","role_name"])]`},
	}
	for _, tc := range cases {
		r := s.Call(t, tc.method, tc.path, tc.h, tc.body)
		if r.Status != tc.status {
			t.Errorf("%s: got status %d, want %d: %s", tc.name, r.Status, tc.status, r.Body)
			continue
		}
		if tc.message != "" && r.Message(t) != tc.message {
			t.Errorf("%s: got message %q, want %q", tc.name, r.Message(t), tc.message)
		}
	}
	// The recorded creator is the acting user, never the body's.
	r := s.MustCall(t, 200, "GET", "/roles?role=y", testenv.As("admin"), nil)
	roles := r.JSON(t)["data"].(map[string]any)["roles"].([]any)
	if len(roles) != 1 || roles[0].(map[string]any)["creator"] != "admin" {
		t.Errorf("role y = %v, want creator admin", roles)
	}
}
