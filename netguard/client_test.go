package netguard_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"easel/netguard"
)

// newServer starts a loopback server counting the requests it receives.
// /redirect/N redirects N more times before answering "ok".
func newServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if n, ok := strings.CutPrefix(r.URL.Path, "/redirect/"); ok {
			if k, _ := strconv.Atoi(n); k > 0 {
				http.Redirect(w, r, fmt.Sprintf("/redirect/%d", k-1), http.StatusFound)
				return
			}
		}
		if loc := r.URL.Query().Get("to"); loc != "" {
			w.Header().Set("Location", loc)
			w.WriteHeader(http.StatusFound)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func get(t *testing.T, p netguard.Policy, u string) (string, error) {
	t.Helper()
	resp, err := p.Client(5 * time.Second).Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestClientBlocksLoopback(t *testing.T) {
	srv, hits := newServer(t)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for _, u := range []string{srv.URL + "/x", "http://localhost:" + port + "/x"} {
		_, err := get(t, netguard.Policy{}, u)
		if !errors.Is(err, netguard.ErrBlocked) {
			t.Fatalf("Get(%s) = %v, want ErrBlocked", u, err)
		}
		if !strings.Contains(err.Error(), "loopback address") {
			t.Errorf("Get(%s) error %q does not explain the refusal", u, err)
		}
		var uerr *url.Error
		if !errors.As(err, &uerr) {
			t.Errorf("Get(%s) error %T is not a *url.Error", u, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("server received %d requests, want 0", n)
	}
}

// TestClientHidesResolvedAddress checks a refusal for a host name names the
// host but not the internal address it resolved to.
func TestClientHidesResolvedAddress(t *testing.T) {
	srv, hits := newServer(t)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	_, err := get(t, netguard.Policy{}, "http://localhost:"+port+"/x")
	var be *netguard.BlockedError
	if !errors.As(err, &be) {
		t.Fatalf("Get(localhost) = %v, want a *BlockedError in the chain", err)
	}
	want := "the address of host localhost is a loopback address; importing from it is not allowed (set EASEL_ALLOW_PRIVATE_URLS=1 to allow)"
	if be.Error() != want {
		t.Errorf("BlockedError = %q, want %q", be.Error(), want)
	}
	if hits.Load() != 0 {
		t.Errorf("server received %d requests, want 0", hits.Load())
	}
}

func TestClientAllowPrivate(t *testing.T) {
	srv, hits := newServer(t)
	body, err := get(t, netguard.Policy{AllowPrivate: true}, srv.URL+"/x")
	if err != nil || body != "ok" {
		t.Fatalf("Get = %q, %v; want ok", body, err)
	}
	if hits.Load() != 1 {
		t.Fatalf("hits = %d, want 1", hits.Load())
	}
}

func TestClientNetworkFailureIsNotBlocked(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = get(t, netguard.Policy{AllowPrivate: true}, "http://"+addr+"/")
	if err == nil {
		t.Fatal("Get to closed port succeeded")
	}
	if errors.Is(err, netguard.ErrBlocked) {
		t.Fatalf("network failure %v matches ErrBlocked", err)
	}
}

func TestClientSettings(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:1")
	c := netguard.Policy{}.Client(0)
	if c.Timeout != 0 {
		t.Errorf("Timeout = %v, want 0 (no overall limit)", c.Timeout)
	}
	if c2 := (netguard.Policy{}).Client(time.Minute); c2.Timeout != time.Minute {
		t.Errorf("Timeout = %v, want 1m", c2.Timeout)
	}
	tr, ok := c.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("Transport is %T, want *http.Transport", c.Transport)
	}
	if tr.Proxy != nil {
		t.Error("Proxy is set; environment proxies must be ignored")
	}
	if tr.TLSHandshakeTimeout != 10*time.Second || tr.ResponseHeaderTimeout != 30*time.Second {
		t.Errorf("TLSHandshakeTimeout = %v, ResponseHeaderTimeout = %v", tr.TLSHandshakeTimeout, tr.ResponseHeaderTimeout)
	}

	// With the proxy env set, a direct request still reaches the server.
	srv, hits := newServer(t)
	if body, err := get(t, netguard.Policy{AllowPrivate: true}, srv.URL+"/x"); err != nil || body != "ok" || hits.Load() != 1 {
		t.Fatalf("Get with proxy env = %q, %v (hits %d); want direct ok", body, err, hits.Load())
	}
}

func TestClientErrorMessage(t *testing.T) {
	srv, _ := newServer(t)
	u := strings.Replace(srv.URL, "http://", "http://alice:hunter2@", 1) + "/x"
	_, err := get(t, netguard.Policy{}, u)
	var be *netguard.BlockedError
	if !errors.As(err, &be) {
		t.Fatalf("Get = %v, want a *BlockedError in the chain", err)
	}
	want := "address 127.0.0.1 is a loopback address; importing from it is not allowed (set EASEL_ALLOW_PRIVATE_URLS=1 to allow)"
	if be.Error() != want {
		t.Errorf("BlockedError = %q, want %q", be.Error(), want)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("client error leaks password: %v", err)
	}
}
