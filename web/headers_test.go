package web_test

import (
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"easel/internal/testenv"
)

// TestSecurityHeadersOnConsolePages: every console answer carries the
// security headers; the API keeps ESD's.
func TestSecurityHeadersOnConsolePages(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	c, _ := signedIn(t, s)
	want := map[string]string{
		"X-Frame-Options":        "DENY",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "same-origin",
	}
	for _, path := range []string{"/login", "/", "/models", "/no/such/page", "/static/app.js"} {
		res, err := c.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		for name, value := range want {
			if got := res.Header.Get(name); got != value {
				t.Errorf("GET %s: %s = %q, want %q", path, name, got, value)
			}
		}
		csp := res.Header.Get("Content-Security-Policy")
		directives := strings.Split(csp, "; ")
		for _, part := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
			if !slices.Contains(directives, part) {
				t.Errorf("GET %s: Content-Security-Policy %q, want %q", path, csp, part)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: Content-Security-Policy %q allows unsafe sources", path, csp)
		}
	}
	r := s.MustCall(t, 200, "GET", "/ping", testenv.Key(testenv.ServiceKey), nil)
	if csp := r.Header.Get("Content-Security-Policy"); csp != "" {
		t.Errorf("API: Content-Security-Policy %q, want none (ESD's headers)", csp)
	}
}

var (
	scriptTag    = regexp.MustCompile(`(?i)<script\b[^>]*>`)
	inlineAttr   = regexp.MustCompile(`(?i)<[^>]*\s(on[a-z]+|hx-on[:-][^=\s]*|style)\s*=`)
	javascriptIn = regexp.MustCompile(`(?i)(href|src|action)\s*=\s*["']?\s*javascript:`)
)

// TestPagesNeedNoInlineScriptOrStyle: the pages keep to the
// Content-Security-Policy: scripts only from files, no handler or style
// attributes.
func TestPagesNeedNoInlineScriptOrStyle(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	anon, _ := consoleClient(t, s)
	c, _ := signedIn(t, s)
	pages := map[string]*http.Client{"/login": anon}
	for _, p := range []string{"/", "/users", "/roles", "/models", "/endpoints", "/gallery", "/generate", "/keys", "/no/such/page"} {
		pages[p] = c
	}
	for path, client := range pages {
		res, err := client.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d", path, res.StatusCode)
		}
		for _, tag := range scriptTag.FindAllString(string(body), -1) {
			if !strings.Contains(tag, " src=") {
				t.Errorf("GET %s: inline script %s", path, tag)
			}
		}
		if m := inlineAttr.FindString(string(body)); m != "" {
			t.Errorf("GET %s: inline handler or style: %s", path, m)
		}
		if m := javascriptIn.FindString(string(body)); m != "" {
			t.Errorf("GET %s: javascript: URL: %s", path, m)
		}
	}
	for _, f := range []string{"/static/app.js", "/static/upload.js"} {
		res, err := c.Get(s.URL + f)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if m := inlineAttr.FindString(string(body)); m != "" {
			t.Errorf("%s writes an inline handler or style: %s", f, m)
		}
	}
}
