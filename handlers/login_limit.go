package handlers

import (
	"sync"
	"time"
)

// loginLimiter counts failed sign-ins per client address and per user name
// and refuses more than max of them within window.
type loginLimiter struct {
	mu       sync.Mutex
	max      int
	window   time.Duration
	now      func() time.Time
	failures map[string][]time.Time
}

func newLoginLimiter(max int, window time.Duration, now func() time.Time) *loginLimiter {
	return &loginLimiter{max: max, window: window, now: now, failures: map[string][]time.Time{}}
}

// blocked reports how long any of keys must still wait (0: not blocked).
func (l *loginLimiter) blocked(keys ...string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		recent := l.recent(k)
		if len(recent) >= l.max {
			wait = max(wait, recent[0].Add(l.window).Sub(l.now()))
		}
	}
	return wait
}

func (l *loginLimiter) fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		l.failures[k] = append(l.recent(k), l.now())
	}
}

func (l *loginLimiter) succeed(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		delete(l.failures, k)
	}
}

// recent drops failures older than the window; the caller holds mu.
func (l *loginLimiter) recent(key string) []time.Time {
	cut := l.now().Add(-l.window)
	list := l.failures[key]
	i := 0
	for i < len(list) && list[i].Before(cut) {
		i++
	}
	if i == len(list) {
		delete(l.failures, key)
		return nil
	}
	l.failures[key] = list[i:]
	return list[i:]
}
