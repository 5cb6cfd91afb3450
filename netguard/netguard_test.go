package netguard_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"easel/netguard"
)

// TestCheckAddr only classifies literal addresses; nothing is dialed.
func TestCheckAddr(t *testing.T) {
	tests := []struct {
		addr   string
		reason string // substring of the error; "" means allowed
	}{
		// Loopback.
		{"127.0.0.1", "loopback"},
		{"127.255.1.2", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		// Private.
		{"10.0.0.5", "private network"},
		{"172.16.0.1", "private network"},
		{"172.31.255.255", "private network"},
		{"192.168.1.1", "private network"},
		{"fc00::1", "private network"},
		{"fd12:3456::1", "private network"},
		{"::ffff:10.0.0.5", "private network"},
		{"::ffff:192.168.0.1", "private network"},
		// Link-local and cloud metadata.
		{"169.254.1.1", "link-local"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"169.254.169.254", "cloud metadata"},
		{"::ffff:169.254.169.254", "cloud metadata"},
		{"fd00:ec2::254", "cloud metadata"},
		// Unspecified.
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"::ffff:0.0.0.0", "unspecified"},
		// Multicast.
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"ff02::1", "multicast"},
		{"::ffff:224.0.0.251", "multicast"},
		// CGNAT.
		{"100.64.1.1", "carrier-grade NAT"},
		{"100.127.255.254", "carrier-grade NAT"},
		{"::ffff:100.64.1.1", "carrier-grade NAT"},
		// Reserved.
		{"0.1.2.3", "reserved"},
		{"255.255.255.255", "reserved"},
		{"240.0.0.1", "reserved"},
		{"fec0::1", "reserved"},
		// Benchmarking (198.18.0.0/15) and IETF protocol assignments (192.0.0.0/24).
		{"198.18.0.1", "benchmarking"},
		{"198.19.255.254", "benchmarking"},
		{"::ffff:198.18.0.1", "benchmarking"},
		{"192.0.0.8", "reserved"},
		{"192.0.0.170", "reserved"},
		// IPv4-compatible (::/96) and IPv4-translated (::ffff:0:0:0/96): refused whole.
		{"::10.0.0.5", "IPv4-compatible"},
		{"::127.0.0.1", "IPv4-compatible"},
		{"::8.8.8.8", "IPv4-compatible"},
		{"::ffff:0:127.0.0.1", "IPv4-translated"},
		{"::ffff:0:8.8.8.8", "IPv4-translated"},
		// NAT64 embedding of a blocked IPv4 address in the last 32 bits.
		{"64:ff9b::a9fe:a9fe", "cloud metadata address (via NAT64)"},
		{"64:ff9b::7f00:1", "loopback"},
		{"64:ff9b::10.0.0.5", "private network address (via NAT64)"},
		{"64:ff9b::198.18.0.1", "benchmarking address (via NAT64)"},
		// Local-use NAT64 (RFC 8215): refused whole.
		{"64:ff9b:1::808:808", "local-use NAT64"},
		// 6to4 embedding of a blocked IPv4 address in bits 16-48.
		{"2002:7f00:1::1", "loopback address (via 6to4)"},
		{"2002:a00:5::", "private network address (via 6to4)"},
		{"2002:c0a8:101::1", "private network address (via 6to4)"},
		{"2002:a9fe:a9fe::1", "cloud metadata address (via 6to4)"},
		{"2002:6440:101::1", "carrier-grade NAT (shared) address (via 6to4)"},
		{"2002:c612:1::1", "benchmarking address (via 6to4)"},
		{"2002::1", "unspecified address (via 6to4)"},
		// Teredo (2001::/32): refused whole, whatever the IPv4 addresses it carries.
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"}, // RFC 4380's example: public server and client
		{"2001:0:a00:5::1", "Teredo"},                      // server 10.0.0.5
		{"2001:0:808:808:0:0:f5ff:fffa", "Teredo"},         // client 10.0.0.5 (obfuscated)
		// Public: allowed (only classified, never contacted).
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"172.32.0.1", ""},
		{"100.128.0.1", ""},
		{"169.253.255.255", ""},
		{"2001:4860:4860::8888", ""},
		{"2606:4700:4700::1111", ""},
		{"::ffff:8.8.8.8", ""},
		{"64:ff9b::808:808", ""},
		{"2002:808:808::1", ""},      // 6to4 of 8.8.8.8
		{"2002:101:101:1::1", ""},    // 6to4 of 1.1.1.1
		{"198.17.255.255", ""},       // just below 198.18.0.0/15
		{"198.20.0.1", ""},           // just above it
		{"192.0.1.1", ""},            // just above 192.0.0.0/24
		{"2001:200::1", ""},          // just above 2001::/32 (Teredo)
		{"2001:4860:4860::8844", ""}, // a public address sharing Teredo's first 16 bits
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			addr := netip.MustParseAddr(tt.addr)
			err := netguard.Policy{}.CheckAddr(addr)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("CheckAddr(%s) = %v, want allowed", tt.addr, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckAddr(%s) = nil, want refusal (%s)", tt.addr, tt.reason)
			}
			if !errors.Is(err, netguard.ErrBlocked) {
				t.Errorf("errors.Is(%v, ErrBlocked) = false", err)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.reason) || !strings.Contains(msg, netguard.AllowPrivateEnv+"=1") {
				t.Errorf("CheckAddr(%s) error %q, want it to mention %q and %s", tt.addr, msg, tt.reason, netguard.AllowPrivateEnv)
			}
			if err := (netguard.Policy{AllowPrivate: true}).CheckAddr(addr); err != nil {
				t.Errorf("AllowPrivate: CheckAddr(%s) = %v, want nil", tt.addr, err)
			}
		})
	}
}

func TestCheckAddrMessage(t *testing.T) {
	err := netguard.Policy{}.CheckAddr(netip.MustParseAddr("10.0.0.5"))
	want := "address 10.0.0.5 is a private network address; importing from it is not allowed (set EASEL_ALLOW_PRIVATE_URLS=1 to allow)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}

// TestCheckURL does no network access: hostnames are not resolved.
func TestCheckURL(t *testing.T) {
	bad := []struct{ url, want string }{
		{"ftp://example.com/model.safetensors", "only http and https"},
		{"file:///etc/passwd", "only http and https"},
		{"gopher://example.com/", "only http and https"},
		{"javascript:alert(1)", "only http and https"},
		{"example.com/model.safetensors", "no scheme"},
		{"http://169.254.169.254/latest/meta-data", "cloud metadata"},
		{"http://[::1]/", "loopback"},
		{"http://[::ffff:127.0.0.1]:8080/", "loopback"},
		{"http://0.0.0.0/", "unspecified"},
		{"http://10.1.2.3:9000/bucket/x", "private network"},
		{"https://100.64.1.1/", "carrier-grade NAT"},
		{"http://[fe80::1%25eth0]/", "link-local"},
	}
	for _, tt := range bad {
		_, err := netguard.Policy{}.CheckURL(tt.url)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CheckURL(%q) = %v, want error containing %q", tt.url, err, tt.want)
		} else if !errors.Is(err, netguard.ErrBlocked) {
			t.Errorf("CheckURL(%q): errors.Is(%v, ErrBlocked) = false", tt.url, err)
		}
	}

	for _, raw := range []string{"http:///path", "http:opaque", "http://[::1", "http://host:port/"} {
		if _, err := (netguard.Policy{}).CheckURL(raw); err == nil {
			t.Errorf("CheckURL(%q) = nil error, want invalid URL", raw)
		}
	}

	good := []string{
		"https://example.com/model.safetensors",
		"HTTPS://Example.COM:8443/a/b.ckpt?x=1",
		"http://8.8.8.8/model.ckpt",
		"http://[2001:4860:4860::8888]:81/x",
		"https://user:secret@example.com/model.safetensors",
		"http://localhost/x", // hostnames are checked at dial time
	}
	for _, raw := range good {
		u, err := netguard.Policy{}.CheckURL(raw)
		if err != nil || u == nil {
			t.Errorf("CheckURL(%q) = %v, %v; want accepted", raw, u, err)
		}
	}

	// Private literals pass when allowed; schemes never do.
	p := netguard.Policy{AllowPrivate: true}
	if _, err := p.CheckURL("http://127.0.0.1:8080/x"); err != nil {
		t.Errorf("AllowPrivate: CheckURL loopback = %v", err)
	}
	if _, err := p.CheckURL("file:///etc/passwd"); err == nil {
		t.Error("AllowPrivate: CheckURL file:// accepted")
	}
}

func TestCheckURLHidesCredentials(t *testing.T) {
	for _, raw := range []string{
		"ftp://alice:hunter2@example.com/x",
		"http://alice:hunter2@169.254.169.254/",
		"http://alice:hunter2@example.com:port/",
	} {
		_, err := netguard.Policy{}.CheckURL(raw)
		if err == nil {
			t.Fatalf("CheckURL(%q) accepted", raw)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("CheckURL(%q) error leaks password: %v", raw, err)
		}
	}
}

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
