package web_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"easel/internal/testenv"
)

func TestRolesLifecycle(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	admin := testenv.As("admin")

	r := s.MustCall(t, 200, "GET", "/roles", admin, nil)
	if got, want := listNames(t, r, "roles", "role_name"), []string{"IT Operator", "byoc"}; !cmp.Equal(got, want) {
		t.Errorf("seeded roles = %v, want %v", got, want)
	}
	data := r.JSON(t)["data"].(map[string]any)
	if data["previous_evaluated_key"] != "not_applicable" || data["last_evaluated_key"] != nil {
		t.Errorf("placeholder keys = %v / %v", data["previous_evaluated_key"], data["last_evaluated_key"])
	}

	r = s.MustCall(t, 201, "POST", "/roles", admin, map[string]any{"role_name": "Designer", "creator": "admin",
		"permissions": []string{"inference:all", "checkpoint:list", "inference:all"}})
	if r.Message(t) != "role created" || r.JSON(t)["data"] != nil {
		t.Errorf("create = %s, want message 'role created' and no data", r.Body)
	}
	// Overwrite is a full upsert; duplicates collapse; order kept.
	s.MustCall(t, 201, "POST", "/roles", admin, map[string]any{"role_name": "Designer", "creator": "admin",
		"permissions": []string{"checkpoint:all", "train:list"}})
	r = s.MustCall(t, 200, "GET", "/roles?role=Designer", admin, nil)
	roles := r.JSON(t)["data"].(map[string]any)["roles"].([]any)
	if len(roles) != 1 {
		t.Fatalf("GET /roles?role=Designer = %v", roles)
	}
	if got := roles[0].(map[string]any)["permissions"]; !cmp.Equal(got, []any{"checkpoint:all", "train:list"}) {
		t.Errorf("permissions after overwrite = %v", got)
	}

	mustUser(t, s, "admin", "dana", "Designer")
	s.MustCall(t, 204, "DELETE", "/roles", admin, map[string]any{"role_name_list": []string{"Designer", "never-existed"}})
	r = s.MustCall(t, 200, "GET", "/users?username=dana", admin, nil)
	user := r.JSON(t)["data"].(map[string]any)["users"].([]any)[0].(map[string]any)
	if got := user["roles"]; !cmp.Equal(got, []any{}) {
		t.Errorf("dana's roles after deleting Designer = %v, want []", got)
	}
	if got := user["permissions"]; !cmp.Equal(got, []any{}) {
		t.Errorf("dana's permissions = %v, want []", got)
	}
}

func TestDefaultRoleIsProtected(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	admin := testenv.As("admin")
	r := s.MustCall(t, 400, "DELETE", "/roles", admin, map[string]any{"role_name_list": []string{"byoc", "IT Operator"}})
	if r.Message(t) != "cannot delete default role" {
		t.Errorf("message = %q", r.Message(t))
	}
	r = s.MustCall(t, 400, "POST", "/roles", admin, map[string]any{"role_name": "IT Operator", "creator": "admin", "permissions": []string{"train:list"}})
	if r.Message(t) != "cannot modify default role" {
		t.Errorf("message = %q", r.Message(t))
	}
	// Nothing was deleted: byoc is still there, and IT Operator unchanged.
	names := listNames(t, s.MustCall(t, 200, "GET", "/roles", admin, nil), "roles", "role_name")
	if !slices.Contains(names, "byoc") || !slices.Contains(names, "IT Operator") {
		t.Errorf("roles after refused delete = %v", names)
	}
	// byoc is an ordinary row.
	s.MustCall(t, 204, "DELETE", "/roles", admin, map[string]any{"role_name_list": []string{"byoc"}})
}

func TestRoleGrantsAndOwnership(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	mustRole(t, s, "role-maker", "role:create", "role:list", "checkpoint:list")
	mustRole(t, s, "admin-made", "train:list")
	mustUser(t, s, "admin", "rita", "role-maker")
	rita := testenv.As("rita")

	cases := []struct {
		name    string
		body    map[string]any
		status  int
		message string
	}{
		{"grant held permission", map[string]any{"role_name": "r1", "creator": "rita", "permissions": []string{"checkpoint:list"}}, 201, "role created"},
		{"grant beyond own", map[string]any{"role_name": "r2", "creator": "rita", "permissions": []string{"checkpoint:all"}}, 400, "creator rita have not permission to create role with permission: [checkpoint:all]"},
		{"overwrite someone else's role", map[string]any{"role_name": "admin-made", "creator": "rita", "permissions": []string{"checkpoint:list"}}, 400, "creator rita not have permission to update role admin-made"},
		{"overwrite own role", map[string]any{"role_name": "r1", "creator": "rita", "permissions": []string{"role:list"}}, 201, "role created"},
	}
	for _, tc := range cases {
		r := s.Call(t, "POST", "/roles", rita, tc.body)
		if r.Status != tc.status || r.Message(t) != tc.message {
			t.Errorf("%s: got %d %q, want %d %q", tc.name, r.Status, r.Message(t), tc.status, tc.message)
		}
	}
	// rita sees roles she created or holds; not admin-made.
	names := listNames(t, s.MustCall(t, 200, "GET", "/roles", rita, nil), "roles", "role_name")
	if !cmp.Equal(names, []string{"r1", "role-maker"}) {
		t.Errorf("rita's visible roles = %v, want [r1 role-maker]", names)
	}
	// Without role:all she may delete only her own roles, all or nothing.
	r := s.MustCall(t, 403, "DELETE", "/roles", rita, map[string]any{"role_name_list": []string{"r1", "admin-made"}})
	if r.Message(t) != "User rita has no permissions: [role:all]" {
		t.Errorf("message = %q", r.Message(t))
	}
	names = listNames(t, s.MustCall(t, 200, "GET", "/roles", testenv.As("admin"), nil), "roles", "role_name")
	if !slices.Contains(names, "r1") {
		t.Errorf("r1 deleted by a refused all-or-nothing delete: %v", names)
	}
	s.MustCall(t, 204, "DELETE", "/roles", rita, map[string]any{"role_name_list": []string{"r1"}})
}
