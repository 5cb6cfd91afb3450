package web_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"easel/actions"
	"easel/internal/testenv"
	"easel/policy"
	"easel/store"
)

// rolesOf returns the roles of name as the API lists them to admin.
func rolesOf(t *testing.T, s *testenv.Server, name string) []string {
	t.Helper()
	r := s.MustCall(t, 200, "GET", "/users?username="+name, testenv.As("admin"), nil)
	var out []string
	for _, v := range r.JSON(t)["data"].(map[string]any)["users"].([]any)[0].(map[string]any)["roles"].([]any) {
		out = append(out, v.(string))
	}
	return out
}

func passwordHash(t *testing.T, s *testenv.Server, name string) string {
	t.Helper()
	u, err := store.FindUser(context.Background(), s.App.Store.DB(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u.PasswordHash
}

// Item 1: user:all alone is not administrator power.
func TestUserAllCannotBecomeAdministrator(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	mustRole(t, s, "useradmins", "user:all")
	mustRole(t, s, "ops", policy.DefaultPermissions()...)
	mustUser(t, s, "admin", "mia", "useradmins")
	mustUser(t, s, "admin", "root2", store.DefaultRole)
	mustUser(t, s, "admin", "olga", "ops")
	mia := testenv.As("mia")
	adminHash := passwordHash(t, s, "admin")

	// Bootstrapping herself into IT Operator.
	r := s.MustCall(t, 403, "POST", "/users", mia, map[string]any{"username": "mia", "initial": true, "creator": "mia"})
	if !strings.Contains(r.Message(t), "grant role IT Operator") {
		t.Errorf("self bootstrap: message = %q", r.Message(t))
	}
	if got := rolesOf(t, s, "mia"); !slices.Equal(got, []string{"useradmins"}) {
		t.Errorf("mia's roles after the refused bootstrap = %v", got)
	}
	// Resetting admin's password by bootstrap, or by an overwrite that drops
	// admin's roles (a second administrator exists, so that check passes).
	s.MustCall(t, 403, "POST", "/users", mia, map[string]any{"username": "admin", "initial": true, "password": "stolen", "creator": "mia"})
	r = s.MustCall(t, 403, "POST", "/users", mia, map[string]any{"username": "admin", "password": "stolen", "roles": []string{}, "creator": "mia"})
	if !strings.Contains(r.Message(t), "change user admin") {
		t.Errorf("overwrite admin: message = %q", r.Message(t))
	}
	if passwordHash(t, s, "admin") != adminHash {
		t.Error("admin's password changed")
	}
	if got := rolesOf(t, s, "admin"); !slices.Equal(got, []string{store.DefaultRole}) {
		t.Errorf("admin's roles = %v", got)
	}
	// Deleting a stronger user.
	s.MustCall(t, 403, "DELETE", "/users", mia, map[string]any{"user_name_list": []string{"root2"}})
	if got := rolesOf(t, s, "root2"); !slices.Equal(got, []string{store.DefaultRole}) {
		t.Errorf("root2 after the refused delete: %v", got)
	}
	// Users she may manage stay manageable.
	mustUser(t, s, "mia", "intern")
	s.MustCall(t, 204, "DELETE", "/users", mia, map[string]any{"user_name_list": []string{"intern"}})

	// A user holding every permission may bootstrap, like a service key.
	s.MustCall(t, 201, "POST", "/users", testenv.As("olga"), map[string]any{"username": "newbie", "initial": true, "password": "pw", "creator": "olga"})
	if got := rolesOf(t, s, "newbie"); !slices.Equal(got, []string{store.DefaultRole}) {
		t.Errorf("newbie's roles = %v", got)
	}
}

// Item 1: keys. A service key needs every permission; a key acting as
// someone else needs every permission that user holds.
func TestKeysLendNoMorePowerThanTheirMaker(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	mustRole(t, s, "useradmins", "user:all")
	mustUser(t, s, "admin", "mia", "useradmins")
	mustUser(t, s, "admin", "sam")
	keys := s.App.Actions.Keys
	ctx := context.Background()
	mia := policy.User("mia")
	for _, tc := range []struct {
		name string
		in   actions.KeyInput
		want store.Code // "" = allowed
	}{
		{"service key", actions.KeyInput{Service: true}, store.EForbidden},
		{"key acting as admin", actions.KeyInput{Owner: "admin"}, store.EForbidden},
		{"key acting as a weaker user", actions.KeyInput{Owner: "sam"}, ""},
		{"own key", actions.KeyInput{}, ""},
	} {
		_, _, err := keys.Create(ctx, mia, tc.in)
		if got := store.Code(""); err != nil {
			got = store.ErrorCode(err)
			if got != tc.want {
				t.Errorf("%s: error %v (%s), want %q", tc.name, err, got, tc.want)
			}
		} else if tc.want != "" {
			t.Errorf("%s: allowed, want %s", tc.name, tc.want)
		}
	}
	live, err := store.ListKeys(ctx, s.App.Store.DB(), store.KeyFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range live {
		if k.CreatedBy == "mia" && (k.Service || k.Username == "admin") {
			t.Errorf("mia made key %+v", k)
		}
	}
	// The console does not offer her the service-key choice.
	s.MustCall(t, 201, "POST", "/users", testenv.As("admin"), map[string]any{"username": "mia", "password": "mia-password-1", "roles": []string{"useradmins"}, "creator": "admin"})
	c := signIn(t, s, "mia", "mia-password-1")
	if page := getPage(t, c, s.URL+"/keys"); strings.Contains(page, `name="service"`) {
		t.Error("the keys page offers mia a service key")
	}
}

func getPage(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, res.StatusCode)
	}
	return string(b)
}

// Items 2, 3 and 13: names that would alias the service principal, a role
// or nothing at all are refused, for users and roles alike.
func TestPrincipalNamesCannotCollide(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	admin := testenv.As("admin")
	mustUser(t, s, "admin", "ann")
	for _, name := range []string{"service", "SERVICE", "*", store.DefaultRole, "byoc", ".", "..", "a/b", `a\b`,
		"tab\there", "zero\u200bwidth", "rtl\u202eevil", " lead", "trail ", "nbsp\u00a0x", "bom\ufeff", strings.Repeat("x", 129)} {
		r := s.MustCall(t, 400, "POST", "/users", admin, map[string]any{"username": name, "password": "pw", "roles": []string{}, "creator": "admin"})
		if r.Message(t) == "" {
			t.Errorf("user %q: no message", name)
		}
		if s.App.Policy.UserExists(name) && name != "byoc" {
			t.Errorf("user %q was created", name)
		}
	}
	for _, name := range []string{"service", "Service", "*", "ann", "admin", "..", "x/y", "zero\u200bwidth"} {
		s.MustCall(t, 400, "POST", "/roles", admin, map[string]any{"role_name": name, "permissions": []string{"checkpoint:list"}, "creator": "admin"})
	}
	r := s.MustCall(t, 400, "POST", "/users", admin, map[string]any{"username": store.DefaultRole, "password": "pw", "roles": []string{}, "creator": "admin"})
	if want := `"IT Operator" is the name of a role; user and role names must differ`; r.Message(t) != want {
		t.Errorf("message = %q, want %q", r.Message(t), want)
	}
	r = s.MustCall(t, 400, "POST", "/roles", admin, map[string]any{"role_name": "ann", "permissions": []string{"checkpoint:list"}, "creator": "admin"})
	if want := `"ann" is the name of a user; user and role names must differ`; r.Message(t) != want {
		t.Errorf("message = %q, want %q", r.Message(t), want)
	}
	// Ordinary names, dots and spaces inside included, still work.
	mustUser(t, s, "admin", "jane.doe")
	mustUser(t, s, "admin", "Jane Doe")
	mustRole(t, s, "night shift", "checkpoint:list")
}

func signIn(t *testing.T, s *testenv.Server, user, password string) *http.Client {
	t.Helper()
	c, token := consoleClient(t, s)
	if got := login(t, c, s, token, user, password); got != http.StatusSeeOther {
		t.Fatalf("login %s: %d", user, got)
	}
	return c
}
