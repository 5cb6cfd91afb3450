package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"easel/internal/testenv"
)

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// consoleClient is a cookie-keeping client with the login page's CSRF token.
func consoleClient(t *testing.T, s *testenv.Server) (*http.Client, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(s.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	m := csrfField.FindStringSubmatch(b.String())
	if m == nil {
		t.Fatalf("no CSRF token on the login page")
	}
	return c, m[1]
}

func login(t *testing.T, c *http.Client, s *testenv.Server, token, user, password string) int {
	t.Helper()
	res, err := c.PostForm(s.URL+"/login", url.Values{"_csrf": {token}, "username": {user}, "password": {password}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestLoginIsRateLimitedAndNeedsCSRF(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	c, token := consoleClient(t, s)
	if got := login(t, c, s, "wrong-token", "admin", testenv.AdminPassword); got != http.StatusForbidden {
		t.Errorf("login with a bad CSRF token: got %d, want 403", got)
	}
	for i := 0; i < 10; i++ {
		if got := login(t, c, s, token, "admin", "not-the-password"); got != http.StatusUnauthorized {
			t.Fatalf("wrong password #%d: got %d, want 401", i+1, got)
		}
	}
	// The 11th attempt is refused even with the right password.
	if got := login(t, c, s, token, "admin", testenv.AdminPassword); got != http.StatusTooManyRequests {
		t.Errorf("after 10 failures: got %d, want 429", got)
	}
	// Another client (same address) is limited too; the limit is per address and per name.
	c2, token2 := consoleClient(t, s)
	if got := login(t, c2, s, token2, "someone-else", "x"); got != http.StatusTooManyRequests {
		t.Errorf("same address, other name: got %d, want 429", got)
	}
}

func TestLoginLogoutAndSessionRevocation(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	c, token := consoleClient(t, s)
	if got := login(t, c, s, token, "admin", testenv.AdminPassword); got != http.StatusSeeOther {
		t.Fatalf("login: got %d, want 303", got)
	}
	res, err := c.Get(s.URL + "/users")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("users page after login: %d", res.StatusCode)
	}
	// The API never accepts the console's cookie.
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/prod/users", nil)
	res, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("API with a session cookie: got %d, want 403", res.StatusCode)
	}
	// Sessions live server-side: deleting them signs the browser out.
	if _, err := s.App.Store.Pool.Exec(t.Context(), `DELETE FROM sessions`); err != nil {
		t.Fatal(err)
	}
	res, err = c.Get(s.URL + "/users")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Errorf("after revocation: got %d to %q, want a redirect to /login", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestNotFoundPageKeepsTheNavigation(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	c, token := consoleClient(t, s)
	if got := login(t, c, s, token, "admin", testenv.AdminPassword); got != http.StatusSeeOther {
		t.Fatalf("login: %d", got)
	}
	res, err := c.Get(s.URL + "/no/such/page")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound || !strings.Contains(string(body), `data-testid="nav"`) {
		t.Errorf("404 page: status %d, nav present %v", res.StatusCode, strings.Contains(string(body), `data-testid="nav"`))
	}
}
