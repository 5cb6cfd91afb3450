package web_test

import (
	"io"
	"net"
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
	return consoleClientFrom(t, s, "", nil)
}

// consoleClientFrom is consoleClient connecting from the local address addr
// (any 127.0.0.0/8 address; "" for the default), so that one test can be
// several clients, and sending header on every request.
func consoleClientFrom(t *testing.T, s *testenv.Server, addr string, header http.Header) (*http.Client, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	dialer := &net.Dialer{}
	if addr != "" {
		dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(addr)}
	}
	transport := &http.Transport{DialContext: dialer.DialContext}
	t.Cleanup(transport.CloseIdleConnections)
	c := &http.Client{Jar: jar, Transport: headerTransport{transport, header},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return c, pageToken(t, c, s.URL+"/login")
}

// headerTransport adds its headers to every request.
type headerTransport struct {
	base   http.RoundTripper
	header http.Header
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if len(h.header) > 0 {
		r = r.Clone(r.Context())
		for k, v := range h.header {
			r.Header[k] = v
		}
	}
	return h.base.RoundTrip(r)
}

// pageToken returns the CSRF token of the page at url.
func pageToken(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfField.FindStringSubmatch(string(body))
	if m == nil {
		t.Fatalf("no CSRF token on %s (status %d)", url, res.StatusCode)
	}
	return m[1]
}

func login(t *testing.T, c *http.Client, s *testenv.Server, token, user, password string) int {
	t.Helper()
	return loginTo(t, c, s, token, user, password, "/").StatusCode
}

// loginTo posts the login form; the response's body is closed.
func loginTo(t *testing.T, c *http.Client, s *testenv.Server, token, user, password, next string) *http.Response {
	t.Helper()
	res, err := c.PostForm(s.URL+"/login", url.Values{"_csrf": {token}, "username": {user}, "password": {password}, "next": {next}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// failedLogins signs in wrongly n times, each answered 401.
func failedLogins(t *testing.T, c *http.Client, s *testenv.Server, token, user string, n int) {
	t.Helper()
	for i := range n {
		if got := login(t, c, s, token, user, "not-the-password"); got != http.StatusUnauthorized {
			t.Fatalf("wrong password #%d for %s: got %d, want 401", i+1, user, got)
		}
	}
}

// freeFailures is how many failures of one account from one address pass
// before the delays start.
const freeFailures = 5

func TestLoginNeedsCSRF(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	c, _ := consoleClient(t, s)
	if got := login(t, c, s, "wrong-token", "admin", testenv.AdminPassword); got != http.StatusForbidden {
		t.Errorf("login with a bad CSRF token: got %d, want 403", got)
	}
	if got := login(t, c, s, "", "admin", testenv.AdminPassword); got != http.StatusForbidden {
		t.Errorf("login without a CSRF token: got %d, want 403", got)
	}
}

// TestLoginNextStaysOnThisSite: after sign-in the browser goes to next
// only when it is a path of this site.
func TestLoginNextStaysOnThisSite(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	for _, tc := range []struct{ next, want string }{
		{"/users", "/users"},
		{"/gallery?page=2&q=a%20b#top", "/gallery?page=2&q=a%20b#top"},
		{"/\t/evil.example/", "/"},
		{"/\n/evil.example/", "/"},
		{"/\r\n/evil.example/", "/"},
		{"/\x00/evil.example/", "/"},
		{"/\u0085/evil.example/", "/"},
		{"//evil.example/", "/"},
		{"///evil.example/", "/"},
		{"/\\evil.example/", "/"},
		{"\\\\evil.example/", "/"},
		{"/users\\..\\..\\evil", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"evil.example", "/"},
		{" //evil.example/", "/"},
		{"", "/"},
	} {
		c, token := consoleClient(t, s)
		res := loginTo(t, c, s, token, "admin", testenv.AdminPassword, tc.next)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != tc.want {
			t.Errorf("next=%q: got %d to %q, want 303 to %q", tc.next, res.StatusCode, res.Header.Get("Location"), tc.want)
		}
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
	if _, err := s.App.Store.DB().Exec(t.Context(), `DELETE FROM sessions`); err != nil {
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
