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

// Item 4: a model the caller cannot list is "not found" for an inference,
// exactly like a missing one.
func TestInferenceCannotUseAnInvisibleModel(t *testing.T) {
	t.Parallel()
	s := inferenceServer(t) // base.safetensors made by admin: shared with IT Operator only
	mustRole(t, s, "crew", "inference:create", "inference:list", "checkpoint:list")
	mustUser(t, s, "admin", "bo", "crew")
	s.MustCall(t, 202, "POST", "/endpoints", testenv.As("admin"), map[string]any{"endpoint_name": "crewq", "endpoint_type": "Async",
		"instance_type": "studio", "initial_instance_count": 1, "assign_to_roles": []string{"crew"}})
	waitEndpoint(t, s, "esd-async-crewq", "InService")
	bo := testenv.As("bo")
	body := func(model string) map[string]any {
		return map[string]any{"task_type": "txt2img", "inference_type": "Async",
			"models": map[string]any{"Stable-diffusion": []string{model}}}
	}
	hidden := s.MustCall(t, 400, "POST", "/inferences", bo, body("base.safetensors")).Message(t)
	missing := s.MustCall(t, 400, "POST", "/inferences", bo, body("nope.safetensors")).Message(t)
	if want := strings.ReplaceAll(missing, "nope.safetensors", "base.safetensors"); hidden != want {
		t.Errorf("invisible model: message %q, want %q (as for a missing one)", hidden, want)
	}
	if strings.Contains(hidden, "-") && strings.Contains(hidden, "id") {
		t.Errorf("message leaks an id: %q", hidden)
	}
	// Shared with bo's role, the same model works.
	if _, err := s.App.Store.DB().Exec(context.Background(), `UPDATE checkpoints SET allowed_roles = '{crew}'`); err != nil {
		t.Fatal(err)
	}
	s.MustCall(t, 201, "POST", "/inferences", bo, body("base.safetensors"))
}

// Item 5: an endpoint can be assigned only to roles its creator holds,
// unless the creator holds sagemaker_endpoint:all.
func TestEndpointRolesMustBeHeld(t *testing.T) {
	t.Parallel()
	s := simPoolServer(t)
	mustRole(t, s, "builders", "sagemaker_endpoint:create", "sagemaker_endpoint:list")
	mustUser(t, s, "admin", "eve", "builders")
	eve := testenv.As("eve")
	ep := func(name string, roles ...string) map[string]any {
		return map[string]any{"endpoint_name": name, "endpoint_type": "Async", "instance_type": "studio",
			"initial_instance_count": 1, "assign_to_roles": roles}
	}
	r := s.MustCall(t, 403, "POST", "/endpoints", eve, ep("grab", store.DefaultRole))
	if !strings.Contains(r.Message(t), `does not hold role "IT Operator"`) {
		t.Errorf("message = %q", r.Message(t))
	}
	s.MustCall(t, 403, "POST", "/endpoints", eve, ep("grab2", "builders", "byoc"))
	if got := endpointsOf(t, s, testenv.As("admin"), ""); len(got) != 0 {
		t.Errorf("refused endpoints were stored: %v", got)
	}
	s.MustCall(t, 202, "POST", "/endpoints", eve, ep("mine", "builders"))
	// Item 13: endpoint names are plain too.
	for _, name := range []string{".", "..", "a/b", "a.b", "zero\u200bwidth", "tab\tx"} {
		r := s.MustCall(t, 400, "POST", "/endpoints", eve, ep(name, "builders"))
		if !strings.Contains(r.Message(t), "endpoint_name") {
			t.Errorf("endpoint %q: message %q", name, r.Message(t))
		}
	}
	// The role's own administrator can still create its endpoint.
	s.MustCall(t, 202, "POST", "/endpoints", testenv.As("admin"), ep("ops", store.DefaultRole))
}

// Item 10: a new password ends the user's other console sessions.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	s.MustCall(t, 201, "POST", "/users", testenv.As("admin"), map[string]any{"username": "sam", "password": "sam-password-1", "roles": []string{}, "creator": "admin"})
	signedIn := func(c *http.Client) bool {
		res, err := c.Get(s.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}
	sessionsOf := func() []string {
		rows, err := s.App.Store.DB().Query(context.Background(), `SELECT id FROM sessions WHERE username = 'sam' ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for rows.Next() {
			var id string
			_ = rows.Scan(&id)
			ids = append(ids, id)
		}
		return ids
	}
	a, b := signIn(t, s, "sam", "sam-password-1"), signIn(t, s, "sam", "sam-password-1")
	if !signedIn(a) || !signedIn(b) {
		t.Fatal("not signed in")
	}
	// Reset by an administrator through the API: every session ends.
	s.MustCall(t, 201, "POST", "/users", testenv.As("admin"), map[string]any{"username": "sam", "password": "sam-password-2", "roles": []string{}, "creator": "admin"})
	if signedIn(a) || signedIn(b) {
		t.Error("a session survived the password reset")
	}
	// A change made from one session keeps that one and ends the others.
	signIn(t, s, "sam", "sam-password-2")
	signIn(t, s, "sam", "sam-password-2")
	ids := sessionsOf()
	if len(ids) != 2 {
		t.Fatalf("sessions = %v", ids)
	}
	users := s.App.Actions.Users
	pw := "sam-password-3"
	if err := users.Upsert(context.Background(), policy.User("admin"), actions.UserInput{Username: "sam", Password: &pw, Roles: []string{}, KeepSession: ids[0]}); err != nil {
		t.Fatal(err)
	}
	if got := sessionsOf(); !slices.Equal(got, ids[:1]) {
		t.Errorf("sessions after the change = %v, want %v", got, ids[:1])
	}
	// Changing roles only ends nothing.
	if err := users.Upsert(context.Background(), policy.User("admin"), actions.UserInput{Username: "sam", Roles: []string{"byoc"}}); err != nil {
		t.Fatal(err)
	}
	if got := sessionsOf(); !slices.Equal(got, ids[:1]) {
		t.Errorf("sessions after a role change = %v, want %v", got, ids[:1])
	}
}

func signIn(t *testing.T, s *testenv.Server, user, password string) *http.Client {
	t.Helper()
	c, token := consoleClient(t, s)
	if got := login(t, c, s, token, user, password); got != http.StatusSeeOther {
		t.Fatalf("login %s: %d", user, got)
	}
	return c
}
