package handlers

import (
	"strconv"
	"testing"
	"time"
)

// TestLoginLimiterDelaysGrowAndAreCapped: after the free failures each
// attempt waits twice as long as the one before, up to the cap; another
// address is not slowed; a success or an hour of quiet starts over.
func TestLoginLimiterDelaysGrowAndAreCapped(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLoginLimiter(func() time.Time { return now })
	for i := range pairFree {
		if wait := l.reserve("admin", "a"); wait != 0 {
			t.Fatalf("failure #%d: got wait %v, want none", i+1, wait)
		}
	}
	for i, want := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute,
		8 * time.Minute, 15 * time.Minute, 15 * time.Minute} {
		if wait := l.reserve("admin", "a"); wait != want {
			t.Fatalf("attempt %d past the free ones: got wait %v, want %v", i+1, wait, want)
		}
		if wait := l.reserve("admin", "b"); wait != 0 {
			t.Fatalf("another address: got wait %v, want none", wait)
		}
		l.succeed("admin", "b")
		now = now.Add(want)
		if wait := l.reserve("admin", "a"); wait != 0 {
			t.Fatalf("attempt %d past the free ones, after %v: got wait %v, want none", i+1, want, wait)
		}
	}
	now = now.Add(pairForget + time.Second)
	for i := range pairFree {
		if wait := l.reserve("admin", "a"); wait != 0 {
			t.Fatalf("after an hour, failure #%d: got wait %v, want none", i+1, wait)
		}
	}
	l.succeed("admin", "a")
	if wait := l.reserve("admin", "a"); wait != 0 {
		t.Errorf("after a success: got wait %v, want none", wait)
	}
}

// TestLoginLimiterCapsAnAddress: one address fails at most addrMax times
// within the window across all names; refunded attempts do not count.
func TestLoginLimiterCapsAnAddress(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLoginLimiter(func() time.Time { return now })
	l.reserve("x", "a")
	l.refund("x", "a")
	for i := range addrMax {
		if wait := l.reserve("user-"+strconv.Itoa(i), "a"); wait != 0 {
			t.Fatalf("failure #%d from one address: got wait %v, want none", i+1, wait)
		}
		now = now.Add(time.Second)
	}
	if wait := l.reserve("someone", "a"); wait <= 0 || wait > addrWindow {
		t.Errorf("failure #%d from one address: got wait %v, want one within %v", addrMax+1, wait, addrWindow)
	}
	if wait := l.reserve("someone", "b"); wait != 0 {
		t.Errorf("another address: got wait %v, want none", wait)
	}
	now = now.Add(addrWindow)
	if wait := l.reserve("someone", "a"); wait != 0 {
		t.Errorf("after the window: got wait %v, want none", wait)
	}
}

func TestClientKeyGroupsIPv6By64(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1",
		"::ffff:192.0.2.1":     "192.0.2.1",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::":  "2001:db8:1:2::/64",
		"not an address":       "not an address",
	} {
		if got := clientKey(in); got != want {
			t.Errorf("clientKey(%q): got %q, want %q", in, got, want)
		}
	}
}

// TestCheckGateRefusesOverItsSize: at most its size of checks run at once.
func TestCheckGateRefusesOverItsSize(t *testing.T) {
	g := make(checkGate, 2)
	for i := range 2 {
		if !g.enter() {
			t.Fatalf("gate of 2: refused check %d", i+1)
		}
	}
	if g.enter() {
		t.Error("gate of 2: let a third in")
	}
	g.leave()
	if !g.enter() {
		t.Error("gate of 2 after one left: refused")
	}
}
