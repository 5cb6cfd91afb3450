package web_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"easel/internal/testenv"
	"easel/store"
)

func TestUsersLifecycle(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	admin := testenv.As("admin")
	mustRole(t, s, "viewer", "checkpoint:list", "inference:create")

	r := s.MustCall(t, 201, "POST", "/users", admin, map[string]any{"username": "Eve Smith", "creator": "admin",
		"password": "", "roles": []string{"viewer"}, "permissions": []string{"ignored:all"}})
	if r.Message(t) != "Created" {
		t.Errorf("message = %q", r.Message(t))
	}
	r = s.MustCall(t, 200, "GET", "/users?username=Eve%20Smith", admin, nil)
	u := r.JSON(t)["data"].(map[string]any)["users"].([]any)[0].(map[string]any)
	want := map[string]any{"username": "Eve Smith", "roles": []any{"viewer"}, "creator": "admin",
		"permissions": []any{"checkpoint:list", "inference:create"}, "password": "********"}
	if diff := cmp.Diff(want, u); diff != "" {
		t.Errorf("user (-want +got):\n%s", diff)
	}
	// Overwrite without roles clears them.
	s.MustCall(t, 201, "POST", "/users", admin, map[string]any{"username": "Eve Smith", "creator": "admin"})
	r = s.MustCall(t, 200, "GET", "/users?username=Eve%20Smith", admin, nil)
	if got := r.JSON(t)["data"].(map[string]any)["users"].([]any)[0].(map[string]any)["roles"]; !cmp.Equal(got, []any{}) {
		t.Errorf("roles after overwrite = %v, want []", got)
	}
	s.MustCall(t, 204, "DELETE", "/users", admin, map[string]any{"user_name_list": []string{"Eve Smith", "ghost"}})
	s.MustCall(t, 400, "GET", "/users?username=Eve%20Smith", admin, nil)
}

func TestUserVisibility(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	mustRole(t, s, "managers", "user:create", "user:list", "checkpoint:list")
	mustRole(t, s, "plain", "checkpoint:list")
	mustUser(t, s, "admin", "mia", "managers")
	mustUser(t, s, "admin", "paul", "plain")
	mustUser(t, s, "mia", "mike", "plain")

	cases := []struct {
		who  string
		path string
		want []string
	}{
		{"admin", "/users", []string{"admin", "mia", "mike", "paul"}},
		{"mia", "/users", []string{"mia", "mike"}},
		{"paul", "/users", []string{"paul"}},
		{"paul", "/users?username=paul", []string{"paul"}},
		{"admin", "/users?username=mike", []string{"mike"}},
	}
	for _, tc := range cases {
		got := listNames(t, s.MustCall(t, 200, "GET", tc.path, testenv.As(tc.who), nil), "users", "username")
		if !cmp.Equal(got, tc.want) {
			t.Errorf("%s GET %s = %v, want %v", tc.who, tc.path, got, tc.want)
		}
	}
	r := s.MustCall(t, 403, "GET", "/users?username=paul", testenv.As("mia"), nil)
	if r.Message(t) != "User mia has no permissions: [user:all]" {
		t.Errorf("message = %q", r.Message(t))
	}
	r = s.MustCall(t, 400, "GET", "/users?username=nobody", testenv.As("admin"), nil)
	if r.Message(t) != `user: "nobody" not exist` {
		t.Errorf("message = %q", r.Message(t))
	}
	// mia (user:create, not user:all) may change and delete only users she created.
	r = s.MustCall(t, 400, "POST", "/users", testenv.As("mia"), map[string]any{"username": "paul", "creator": "mia", "roles": []string{}})
	if r.Message(t) != "username paul has already exists, creator mia does not have permissions to change it" {
		t.Errorf("message = %q", r.Message(t))
	}
	s.MustCall(t, 403, "DELETE", "/users", testenv.As("mia"), map[string]any{"user_name_list": []string{"mike", "paul"}})
	s.MustCall(t, 204, "DELETE", "/users", testenv.As("mia"), map[string]any{"user_name_list": []string{"mike"}})
}

func TestUserGrantChecks(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	mustRole(t, s, "managers", "user:create", "checkpoint:list")
	mustRole(t, s, "powerful", "checkpoint:all")
	mustUser(t, s, "admin", "mia", "managers")
	mia := testenv.As("mia")

	r := s.MustCall(t, 403, "POST", "/users", mia, map[string]any{"username": "x", "creator": "mia", "roles": []string{"powerful"}})
	if r.Message(t) != "creator has no permission to assign permission [checkpoint:all] to others" {
		t.Errorf("message = %q", r.Message(t))
	}
	r = s.MustCall(t, 400, "POST", "/users", mia, map[string]any{"username": "x", "creator": "mia", "roles": []string{"nope", "powerful"}})
	if r.Message(t) != `user roles "nope" not exist` {
		t.Errorf("unknown roles come before grants: message = %q", r.Message(t))
	}
	s.MustCall(t, 201, "POST", "/users", mia, map[string]any{"username": "x", "creator": "mia", "roles": []string{"managers"}})
	s.MustCall(t, 400, "GET", "/users?username=y", testenv.As("admin"), nil)
}

func TestLastAdministratorStays(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	admin := testenv.As("admin")
	want := `cannot remove the last administrator: at least one user must keep role "IT Operator"`
	r := s.MustCall(t, 400, "DELETE", "/users", admin, map[string]any{"user_name_list": []string{"admin"}})
	if r.Message(t) != want {
		t.Errorf("delete message = %q", r.Message(t))
	}
	r = s.MustCall(t, 400, "POST", "/users", admin, map[string]any{"username": "admin", "creator": "admin", "roles": []string{"byoc"}})
	if r.Message(t) != want {
		t.Errorf("demote message = %q", r.Message(t))
	}
	// With a second administrator, the first may go.
	mustUser(t, s, "admin", "root2", "IT Operator")
	s.MustCall(t, 204, "DELETE", "/users", testenv.As("root2"), map[string]any{"user_name_list": []string{"admin"}})
}

func TestBootstrapInitial(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	// The 1.4.0 WebUI: service key, no header, body creator = the new user.
	r := s.MustCall(t, 201, "POST", "/users", testenv.Key(testenv.ServiceKey),
		map[string]any{"initial": true, "username": "webadmin", "password": "pw", "roles": []string{"IT Operator"}, "creator": "webadmin"})
	data := r.JSON(t)["data"].(map[string]any)
	if diff := cmp.Diff(map[string]any{"username": "webadmin", "roles": []any{"IT Operator"}}, data["user"]); diff != "" {
		t.Errorf("data.user (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{"IT Operator", "byoc"}, data["all_roles"]); diff != "" {
		t.Errorf("data.all_roles (-want +got):\n%s", diff)
	}
	got := listNames(t, s.MustCall(t, 200, "GET", "/users?username=webadmin", testenv.As("webadmin"), nil), "users", "username")
	if !cmp.Equal(got, []string{"webadmin"}) {
		t.Errorf("webadmin can read itself: %v", got)
	}
	// The 1.4.0 WebUI sends the same with Authorization: Bearer <hex of the new user>.
	s.MustCall(t, 201, "POST", "/users", testenv.Headers{"x-api-key": testenv.ServiceKey, "Authorization": bearer("webadmin2")},
		map[string]any{"initial": true, "username": "webadmin2", "password": "pw", "roles": []string{"IT Operator"}, "creator": "webadmin2"})
	// Naming some other unknown user by header is still 401.
	s.MustCall(t, 401, "POST", "/users", testenv.Headers{"x-api-key": testenv.ServiceKey, "Authorization": bearer("ghost")},
		map[string]any{"initial": true, "username": "webadmin3", "password": "pw", "creator": "webadmin3"})
	// A user without user:all cannot bootstrap (or reset) an account.
	mustRole(t, s, "managers", "user:create")
	mustUser(t, s, "admin", "mia", "managers")
	r = s.MustCall(t, 403, "POST", "/users", testenv.As("mia"),
		map[string]any{"initial": true, "username": "admin", "password": "stolen", "creator": "mia"})
	if r.Message(t) != "User mia has no permissions: [user:all]" {
		t.Errorf("message = %q", r.Message(t))
	}
	// Naming an unknown creator that is not the user being created is 401.
	s.MustCall(t, 401, "POST", "/users", testenv.Key(testenv.ServiceKey),
		map[string]any{"initial": true, "username": "a", "password": "pw", "creator": "b"})
}

func TestShowPassword(t *testing.T) {
	t.Parallel()
	plain := testenv.NewServer(t)
	mustUser(t, plain, "admin", "sam")
	r := plain.MustCall(t, 200, "GET", "/users?username=sam&show_password=True", testenv.As("admin"), nil)
	if pw := r.JSON(t)["data"].(map[string]any)["users"].([]any)[0].(map[string]any)["password"]; pw != "********" {
		t.Errorf("without the compat mode password = %v, want ********", pw)
	}

	s := testenv.NewServer(t, testenv.WithEnv("EASEL_ESD_REVEAL_PASSWORDS", "1"))
	mustRole(t, s, "listers", "user:list", "user:create")
	mustUser(t, s, "admin", "sam")
	mustUser(t, s, "admin", "lee", "listers")
	for _, tc := range []struct {
		who, query, want string
	}{
		{"admin", "show_password=True", "pw-sam"},
		{"admin", "show_password=1", "pw-sam"},
		{"admin", "show_password=False", "********"},
		{"admin", "", "********"},
		{"sam", "show_password=True", "********"},
	} {
		r := s.MustCall(t, 200, "GET", "/users?username=sam&"+tc.query, testenv.As(tc.who), nil)
		if pw := r.JSON(t)["data"].(map[string]any)["users"].([]any)[0].(map[string]any)["password"]; pw != tc.want {
			t.Errorf("%s %s: password = %v, want %v", tc.who, tc.query, pw, tc.want)
		}
	}
	// The store keeps only the hash and the sealed copy, never plaintext.
	u, err := store.FindUser(t.Context(), s.App.Store.DB(), "sam")
	if err != nil {
		t.Fatal(err)
	}
	if u.PasswordHash == "pw-sam" || string(u.PasswordSealed) == "pw-sam" || len(u.PasswordSealed) == 0 {
		t.Errorf("stored password hash %q / sealed %q", u.PasswordHash, u.PasswordSealed)
	}
}
