package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"easel/internal/testenv"
)

// TestLoginThrottlesAnAddressNotTheAccount: failures slow down the address
// that makes them, on that account; the owner signs in from elsewhere.
func TestLoginThrottlesAnAddressNotTheAccount(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	attacker, token := consoleClientFrom(t, s, "127.0.0.2", nil)
	failedLogins(t, attacker, s, token, "admin", freeFailures)
	res := loginTo(t, attacker, s, token, "admin", testenv.AdminPassword, "/")
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("attacker's next try, right password: got %d, want 429", res.StatusCode)
	}
	if secs, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || secs < 1 {
		t.Errorf("Retry-After on 429: got %q, want whole seconds", res.Header.Get("Retry-After"))
	}
	owner, ownerToken := consoleClientFrom(t, s, "127.0.0.3", nil)
	if got := login(t, owner, s, ownerToken, "admin", testenv.AdminPassword); got != http.StatusSeeOther {
		t.Errorf("the owner from another address: got %d, want 303", got)
	}
	// The attacker may still try other names, but not without end.
	for i := range 30 - freeFailures {
		if got := login(t, attacker, s, token, "nobody-"+strconv.Itoa(i), "x"); got != http.StatusUnauthorized {
			t.Fatalf("attacker, other name #%d: got %d, want 401", i+1, got)
		}
	}
	if got := login(t, attacker, s, token, "someone-else", "x"); got != http.StatusTooManyRequests {
		t.Errorf("attacker after 30 failures, a new name: got %d, want 429", got)
	}
}

// TestLoginCountsConcurrentAttempts: attempts sent at once are counted
// before their passwords are checked, so no more than the free failures
// are ever checked; the rest are told to retry later.
func TestLoginCountsConcurrentAttempts(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	c, token := consoleClient(t, s)
	const n = 40
	statuses := make([]int, n)
	retryAfter := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res, err := c.PostForm(s.URL+"/login", url.Values{"_csrf": {token}, "username": {"admin"}, "password": {"wrong-" + strconv.Itoa(i)}})
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			statuses[i], retryAfter[i] = res.StatusCode, res.Header.Get("Retry-After")
		})
	}
	wg.Wait()
	checked := 0
	for i, st := range statuses {
		switch st {
		case http.StatusUnauthorized:
			checked++
		case http.StatusTooManyRequests:
			if retryAfter[i] == "" {
				t.Errorf("attempt %d: 429 without Retry-After", i)
			}
		default:
			t.Errorf("attempt %d: got %d, want 401 or 429", i, st)
		}
	}
	if checked < 1 || checked > freeFailures {
		t.Errorf("%d concurrent wrong passwords: %d checked (401), want 1 to %d", n, checked, freeFailures)
	}
}

// TestLoginTrustsForwardedForOnlyFromTrustedProxies: behind a configured
// proxy, clients are told apart by X-Forwarded-For; from anyone else the
// header is ignored.
func TestLoginTrustsForwardedForOnlyFromTrustedProxies(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t, testenv.WithEnv("EASEL_TRUSTED_PROXIES", "127.0.0.2/32"))
	forwarded := func(ip string) http.Header { return http.Header{"X-Forwarded-For": {ip}} }

	// Not a proxy: a new X-Forwarded-For each time is still one client.
	direct, token := consoleClientFrom(t, s, "127.0.0.3", nil)
	for i := range freeFailures {
		res, err := direct.Do(formRequest(t, s, url.Values{"_csrf": {token}, "username": {"admin"}, "password": {"x"}},
			forwarded("203.0.113."+strconv.Itoa(i+1))))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("untrusted peer, failure #%d: got %d, want 401", i+1, res.StatusCode)
		}
	}
	res, err := direct.Do(formRequest(t, s, url.Values{"_csrf": {token}, "username": {"admin"}, "password": {"x"}}, forwarded("203.0.113.99")))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("untrusted peer with a new X-Forwarded-For: got %d, want 429", res.StatusCode)
	}

	// Through the proxy: one forwarded client is throttled, another is not.
	attacker, attackerToken := consoleClientFrom(t, s, "127.0.0.2", forwarded("198.51.100.1"))
	failedLogins(t, attacker, s, attackerToken, "admin", freeFailures)
	if got := login(t, attacker, s, attackerToken, "admin", testenv.AdminPassword); got != http.StatusTooManyRequests {
		t.Errorf("forwarded attacker after %d failures: got %d, want 429", freeFailures, got)
	}
	owner, ownerToken := consoleClientFrom(t, s, "127.0.0.2", forwarded("198.51.100.2"))
	if got := login(t, owner, s, ownerToken, "admin", testenv.AdminPassword); got != http.StatusSeeOther {
		t.Errorf("forwarded owner: got %d, want 303", got)
	}
}

func formRequest(t *testing.T, s *testenv.Server, form url.Values, header http.Header) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header.Clone()
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}
