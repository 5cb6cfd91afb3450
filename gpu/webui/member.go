package webui

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// simulatorHeader marks answers of easel sim-webui (gpu/sim.Header).
const simulatorHeader = "X-Easel-Simulator"

// member is one server of a pool. Its mutable fields are guarded by the
// pool's mutex.
type member struct {
	base       *url.URL // without credentials
	user, pass string
	auth       bool
	name       string // Display form

	busy      bool      // a request is in flight (at most one at a time)
	downUntil time.Time // marked unhealthy until then
	failures  int       // server failures in a row
}

// pool is the run-time state of a Pool.
type pool struct {
	name    string
	members []*member

	mu   sync.Mutex
	next int           // round-robin start
	wake chan struct{} // closed and replaced when a member is released
}

func newPool(p Pool) *pool {
	st := &pool{name: p.Name, wake: make(chan struct{})}
	for _, u := range p.Members {
		base := *u
		base.User = nil
		m := &member{base: &base, name: Display(u)}
		if u.User != nil {
			m.user = u.User.Username()
			m.pass, _ = u.User.Password()
			m.auth = true
		}
		st.members = append(st.members, m)
	}
	return st
}

// url returns the member's URL for an API path, which may end in a query.
func (m *member) url(path string) string {
	u := *m.base
	path, query, _ := strings.Cut(path, "?")
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawPath = ""
	u.RawQuery = query
	return u.String()
}

// acquire waits for a free member: healthy ones first (round robin),
// members marked unhealthy only when no member is healthy.
func (p *pool) acquire(ctx context.Context) (*member, error) {
	for {
		p.mu.Lock()
		m := p.pickLocked(time.Now())
		if m != nil {
			m.busy = true
			p.mu.Unlock()
			return m, nil
		}
		wake := p.wake
		p.mu.Unlock()
		// Re-check now and then too: a member's cooldown may have ended.
		t := time.NewTimer(recheck)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// recheck is how often a waiting acquire looks again without a wake-up.
const recheck = time.Second

func (p *pool) pickLocked(now time.Time) *member {
	anyHealthy := false
	for _, m := range p.members {
		if !now.Before(m.downUntil) {
			anyHealthy = true
			break
		}
	}
	n := len(p.members)
	for i := range n {
		idx := (p.next + i) % n
		m := p.members[idx]
		if m.busy || (anyHealthy && now.Before(m.downUntil)) {
			continue
		}
		p.next = idx + 1
		return m
	}
	return nil
}

// release frees m and wakes the waiters.
func (p *pool) release(m *member) {
	p.mu.Lock()
	m.busy = false
	p.wakeLocked()
	p.mu.Unlock()
}

func (p *pool) wakeLocked() {
	close(p.wake)
	p.wake = make(chan struct{})
}

// mark records the outcome of talking to m: healthy (down=0, which wakes
// the waiters) or unhealthy for the given cooldown.
func (p *pool) mark(m *member, down time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if down > 0 {
		m.downUntil = time.Now().Add(down)
		m.failures = 0
		return
	}
	if !m.downUntil.IsZero() {
		m.downUntil = time.Time{}
		p.wakeLocked()
	}
}

// failed counts a server failure of m that still answers its progress and
// returns how many there have been in a row.
func (p *pool) failed(m *member) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	m.failures++
	return m.failures
}

// succeeded ends m's run of failures.
func (p *pool) succeeded(m *member) {
	p.mu.Lock()
	m.failures = 0
	p.mu.Unlock()
	p.mark(m, 0)
}

// health is one member's health-check outcome.
type health struct {
	member    *member
	err       error
	simulator bool
}

// check health-checks every member concurrently (GET sd-models).
func (b *Backend) check(ctx context.Context, p *pool) []health {
	out := make([]health, len(p.members))
	var wg sync.WaitGroup
	for i, m := range p.members {
		wg.Go(func() {
			isSim, err := b.checkMember(ctx, m)
			out[i] = health{member: m, err: err, simulator: isSim}
			if err != nil {
				p.mark(m, b.Cooldown)
			} else {
				p.mark(m, 0)
			}
		})
	}
	wg.Wait()
	return out
}

func (b *Backend) checkMember(ctx context.Context, m *member) (simulator bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, b.HealthTimeout)
	defer cancel()
	req, err := b.newRequest(ctx, m, http.MethodGet, "/sdapi/v1/sd-models", nil)
	if err != nil {
		return false, err
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return false, causeOf(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		if resp.StatusCode == http.StatusUnauthorized {
			return false, fmt.Errorf("HTTP 401 (check the pool's credentials)")
		}
		return false, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var models []json.RawMessage
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&models); err != nil {
		return false, fmt.Errorf("not an A1111 API (sd-models is not a JSON list)")
	}
	return resp.Header.Get(simulatorHeader) == "1", nil
}

func (b *Backend) newRequest(ctx context.Context, m *member, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, m.url(path), body)
	if err != nil {
		return nil, err
	}
	if m.auth {
		req.SetBasicAuth(m.user, m.pass)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// causeOf strips the *url.Error wrapper (which repeats the URL) from a
// client error; timeouts read "timeout".
func causeOf(err error) error {
	if ue, ok := err.(*url.Error); ok {
		if ue.Timeout() {
			return fmt.Errorf("timeout: %w", ue.Err)
		}
		return ue.Err
	}
	return err
}
