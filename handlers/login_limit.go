package handlers

import (
	"crypto/sha256"
	"net/netip"
	"sync"
	"time"
)

// Sign-in throttling. Failures are counted per (account, client address):
// the first pairFree are free, then each further attempt waits a delay
// that doubles from pairDelay up to pairMaxDelay. Nobody can lock an
// account for everyone else, since another address is counted apart. One
// address may also fail at most addrMax times within addrWindow, whatever
// the accounts, so it cannot guess across many names.
const (
	pairFree     = 5
	pairDelay    = 30 * time.Second
	pairMaxDelay = 15 * time.Minute
	// pairForget is how long after its last failure a pair starts over.
	pairForget = time.Hour
	addrMax    = 30
	addrWindow = 15 * time.Minute
)

// loginLimiter throttles sign-in attempts. An attempt is counted as failed
// before its password is checked (reserve), so concurrent attempts cannot
// all pass the limit; a success forgets its pair's failures.
type loginLimiter struct {
	mu    sync.Mutex
	now   func() time.Time
	pairs map[pairKey]*pairFailures
	addrs map[string][]time.Time // failure times within addrWindow, oldest first
	swept time.Time
}

// pairKey names an account by hash: a name can be as long as a body.
type pairKey struct {
	user [sha256.Size]byte
	addr string
}

func keyOf(user, addr string) pairKey { return pairKey{sha256.Sum256([]byte(user)), addr} }

type pairFailures struct {
	count int
	last  time.Time
}

func newLoginLimiter(now func() time.Time) *loginLimiter {
	return &loginLimiter{now: now, pairs: map[pairKey]*pairFailures{}, addrs: map[string][]time.Time{}}
}

// reserve counts an attempt of user from addr as a failure, or returns how
// long the caller must wait first (and counts nothing).
func (l *loginLimiter) reserve(user, addr string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.sweep(now)
	key := keyOf(user, addr)
	p := l.pairs[key]
	if p != nil && now.Sub(p.last) > pairForget {
		p = nil
		delete(l.pairs, key)
	}
	if p != nil && p.count >= pairFree {
		if wait := p.last.Add(backoff(p.count)).Sub(now); wait > 0 {
			return wait
		}
	}
	recent := l.recent(addr, now)
	if len(recent) >= addrMax {
		return recent[0].Add(addrWindow).Sub(now)
	}
	if p == nil {
		p = &pairFailures{}
		l.pairs[key] = p
	}
	p.count++
	p.last = now
	l.addrs[addr] = append(recent, now)
	return 0
}

// refund takes back a reservation whose password was never checked.
func (l *loginLimiter) refund(user, addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p := l.pairs[keyOf(user, addr)]; p != nil && p.count > 0 {
		p.count--
	}
	l.unreserveAddr(addr)
}

// succeed forgets the failures of user from addr. The address keeps its
// earlier failures, so signing in to one's own account does not buy more
// guesses at others.
func (l *loginLimiter) succeed(user, addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.pairs, keyOf(user, addr))
	l.unreserveAddr(addr)
}

// unreserveAddr drops the address's latest failure; the caller holds mu.
func (l *loginLimiter) unreserveAddr(addr string) {
	if list := l.addrs[addr]; len(list) > 0 {
		l.addrs[addr] = list[:len(list)-1]
	}
}

// backoff is the wait after count failures (count >= pairFree).
func backoff(count int) time.Duration {
	if n := count - pairFree; n < 10 {
		return min(pairDelay<<n, pairMaxDelay)
	}
	return pairMaxDelay
}

// recent drops the address's failures older than addrWindow; the caller
// holds mu.
func (l *loginLimiter) recent(addr string, now time.Time) []time.Time {
	list := l.addrs[addr]
	cut := now.Add(-addrWindow)
	i := 0
	for i < len(list) && !list[i].After(cut) {
		i++
	}
	return list[i:]
}

// sweep forgets stale entries once a minute, so the maps stay as small as
// the recent failures; the caller holds mu.
func (l *loginLimiter) sweep(now time.Time) {
	if now.Sub(l.swept) < time.Minute {
		return
	}
	l.swept = now
	for k, p := range l.pairs {
		if now.Sub(p.last) > pairForget {
			delete(l.pairs, k)
		}
	}
	for a := range l.addrs {
		if len(l.recent(a, now)) == 0 {
			delete(l.addrs, a)
		}
	}
}

// clientKey is the address a client is counted under: its IPv6 /64, since
// one host usually holds a whole /64, else the address itself.
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// checkGate bounds the password checks running at once: each argon2id
// check holds about 19 MiB.
type checkGate chan struct{}

// enter takes a place, or reports false when all are taken.
func (g checkGate) enter() bool {
	select {
	case g <- struct{}{}:
		return true
	default:
		return false
	}
}

func (g checkGate) leave() { <-g }
