package netguard_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"easel/netguard"
)

func TestClientRedirectLimit(t *testing.T) {
	srv, _ := newServer(t)
	p := netguard.Policy{AllowPrivate: true, MaxRedirects: 2}
	if body, err := get(t, p, srv.URL+"/redirect/2"); err != nil || body != "ok" {
		t.Fatalf("2 redirects with limit 2: %q, %v; want ok", body, err)
	}
	_, err := get(t, p, srv.URL+"/redirect/3")
	if !errors.Is(err, netguard.ErrTooManyRedirects) || !strings.Contains(err.Error(), "too many redirects (limit 2)") {
		t.Fatalf("3 redirects with limit 2: %v, want too many redirects (limit 2)", err)
	}
	if errors.Is(err, netguard.ErrBlocked) {
		t.Errorf("redirect limit error %v matches ErrBlocked", err)
	}

	// Default limit is 5.
	p = netguard.Policy{AllowPrivate: true}
	if _, err := get(t, p, srv.URL+"/redirect/5"); err != nil {
		t.Fatalf("5 redirects with default limit: %v", err)
	}
	if _, err := get(t, p, srv.URL+"/redirect/6"); !strings.Contains(fmt.Sprint(err), "too many redirects (limit 5)") {
		t.Fatalf("6 redirects with default limit: %v", err)
	}

	// Negative: no redirects at all.
	p = netguard.Policy{AllowPrivate: true, MaxRedirects: -1}
	if _, err := get(t, p, srv.URL+"/redirect/1"); !errors.Is(err, netguard.ErrTooManyRedirects) {
		t.Fatalf("1 redirect with limit -1: %v", err)
	}
}

func TestClientRedirectScheme(t *testing.T) {
	srv, hits := newServer(t)
	p := netguard.Policy{AllowPrivate: true}
	for _, loc := range []string{"ftp://example.com/x", "file:///etc/passwd", "gopher://example.com/"} {
		hits.Store(0)
		_, err := get(t, p, srv.URL+"/?to="+url.QueryEscape(loc))
		if !errors.Is(err, netguard.ErrBlocked) || !strings.Contains(err.Error(), "only http and https") {
			t.Errorf("redirect to %s: %v, want scheme refusal", loc, err)
		}
		if hits.Load() != 1 {
			t.Errorf("redirect to %s: hits = %d, want 1", loc, hits.Load())
		}
	}
}

// TestClientRedirectToPrivate checks a hop to a private literal address is
// refused before it is sent. The client's CheckRedirect is called directly
// because the first hop to the loopback test server would itself be blocked.
func TestClientRedirectToPrivate(t *testing.T) {
	c := netguard.Policy{}.Client(0)
	first := httptestRequest(t, "https://example.com/model.safetensors")
	for _, loc := range []string{"http://127.0.0.1:8080/", "http://169.254.169.254/latest/meta-data", "http://[::ffff:10.0.0.1]/"} {
		err := c.CheckRedirect(httptestRequest(t, loc), []*http.Request{first})
		if !errors.Is(err, netguard.ErrBlocked) || !strings.Contains(err.Error(), "redirect refused") {
			t.Errorf("CheckRedirect(%s) = %v, want refusal", loc, err)
		}
	}
	if err := c.CheckRedirect(httptestRequest(t, "https://cdn.example.com/x"), []*http.Request{first}); err != nil {
		t.Errorf("CheckRedirect to public host = %v, want nil", err)
	}
}

func httptestRequest(t *testing.T, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
