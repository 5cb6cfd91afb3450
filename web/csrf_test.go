package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"easel/internal/testenv"
)

// postLogout posts the sign-out form with token; it returns the status.
func postLogout(t *testing.T, c *http.Client, s *testenv.Server, token string) int {
	t.Helper()
	res, err := c.PostForm(s.URL+"/logout", url.Values{"_csrf": {token}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// signedIn returns a client signed in as admin and its page's CSRF token.
func signedIn(t *testing.T, s *testenv.Server) (*http.Client, string) {
	t.Helper()
	c, token := consoleClient(t, s)
	if got := login(t, c, s, token, "admin", testenv.AdminPassword); got != http.StatusSeeOther {
		t.Fatalf("login: got %d, want 303", got)
	}
	return c, pageToken(t, c, s.URL+"/")
}

// TestCSRFTokenIsBoundToTheSession: a session accepts only its own token,
// not another session's, nor one that matches a cookie the sender chose.
func TestCSRFTokenIsBoundToTheSession(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	c1, token1 := signedIn(t, s)
	c2, token2 := signedIn(t, s)
	if token1 == token2 {
		t.Fatalf("two sessions share the CSRF token %q", token1)
	}
	if got := postLogout(t, c2, s, token1); got != http.StatusForbidden {
		t.Errorf("session 2 with session 1's token: got %d, want 403", got)
	}
	// Double-submit tokens fall to a planted cookie; session tokens do not.
	u, _ := url.Parse(s.URL)
	const planted = "planted-token-planted-token-planted-token-0"
	c2.Jar.SetCookies(u, []*http.Cookie{{Name: "easel_csrf", Value: planted, Path: "/"}})
	if got := postLogout(t, c2, s, planted); got != http.StatusForbidden {
		t.Errorf("session 2 with a planted cookie's token: got %d, want 403", got)
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/logout", strings.NewReader(url.Values{"_csrf": {token2}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := c2.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("session 2's own token sent from another site: got %d, want 403", res.StatusCode)
	}
	if got := postLogout(t, c2, s, token2); got != http.StatusSeeOther {
		t.Errorf("session 2 with its own token: got %d, want 303", got)
	}
	if got := postLogout(t, c1, s, token1); got != http.StatusSeeOther {
		t.Errorf("session 1 with its own token: got %d, want 303", got)
	}
}

// TestCSRFTokenChangesAtLogin: the login page's token is spent at sign-in.
func TestCSRFTokenChangesAtLogin(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	c, before := consoleClient(t, s)
	if got := login(t, c, s, before, "admin", testenv.AdminPassword); got != http.StatusSeeOther {
		t.Fatalf("login: got %d, want 303", got)
	}
	after := pageToken(t, c, s.URL+"/")
	if after == before {
		t.Errorf("token after sign-in: got the login page's %q, want a new one", before)
	}
	if got := postLogout(t, c, s, before); got != http.StatusForbidden {
		t.Errorf("sign-out with the login page's token: got %d, want 403", got)
	}
	if got := postLogout(t, c, s, after); got != http.StatusSeeOther {
		t.Errorf("sign-out with the session's token: got %d, want 303", got)
	}
}

// TestCSRFTokenForOlderSessions: a session saved before tokens lived in
// sessions gets one, and its forms work.
func TestCSRFTokenForOlderSessions(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	c, _ := signedIn(t, s)
	if _, err := s.App.Store.DB().Exec(t.Context(), `UPDATE sessions SET data = convert_to('{"username":"admin"}', 'UTF8')`); err != nil {
		t.Fatal(err)
	}
	token := pageToken(t, c, s.URL+"/")
	if again := pageToken(t, c, s.URL+"/"); again != token {
		t.Errorf("token of an older session: got %q then %q, want it kept", token, again)
	}
	if got := postLogout(t, c, s, token); got != http.StatusSeeOther {
		t.Errorf("sign-out of an older session: got %d, want 303", got)
	}
}

// TestCSRFCookieIsSecureUnderHTTPS: behind TLS both cookies are Secure.
func TestCSRFCookieIsSecureUnderHTTPS(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	// The test server's peer is loopback, whose X-Forwarded-Proto echo
	// believes by default (a TLS-terminating proxy on the same host).
	https := http.Header{"X-Forwarded-Proto": {"https"}}
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/login", nil)
	req.Header = https.Clone()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if ck := setCookie(res, "easel_csrf"); ck == nil || !ck.Secure || !ck.HttpOnly {
		t.Errorf("CSRF cookie under https: got %v, want Secure and HttpOnly", ck)
	}
	c, token := consoleClientFrom(t, s, "", https)
	res = loginTo(t, c, s, token, "admin", testenv.AdminPassword, "/")
	if ck := setCookie(res, "easel_session"); res.StatusCode != http.StatusSeeOther || ck == nil || !ck.Secure {
		t.Errorf("session cookie under https: got %d, %v, want 303 and Secure", res.StatusCode, ck)
	}
}

// setCookie returns the cookie res sets (not deletes) by name, or nil.
func setCookie(res *http.Response, name string) *http.Cookie {
	for _, ck := range res.Cookies() {
		if ck.Name == name && ck.MaxAge >= 0 {
			return ck
		}
	}
	return nil
}
