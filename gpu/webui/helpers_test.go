package webui_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/png"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"easel/gpu"
	"easel/gpu/sim"
	"easel/gpu/webui"
)

// generation are the paths that generate (and take the GPU).
var generation = map[string]bool{"/sdapi/v1/txt2img": true, "/sdapi/v1/img2img": true, "/sdapi/v1/extra-single-image": true}

// member is a simulator server that counts its generation requests and
// the most it had in flight at once.
type member struct {
	*httptest.Server
	mu                  sync.Mutex
	inflight, max, gens int
}

func newMember(t *testing.T, opts sim.Options, wrap func(http.Handler) http.Handler) *member {
	t.Helper()
	m := &member{}
	var h http.Handler = sim.Handler(opts)
	if wrap != nil {
		h = wrap(h)
	}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !generation[r.URL.Path] {
			h.ServeHTTP(w, r)
			return
		}
		m.mu.Lock()
		m.inflight++
		m.gens++
		m.max = max(m.max, m.inflight)
		m.mu.Unlock()
		defer func() { m.mu.Lock(); m.inflight--; m.mu.Unlock() }()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(m.Close)
	return m
}

func (m *member) stats() (maxInflight, gens int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.max, m.gens
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// backend returns a Backend with one pool "studio" of the given member
// URLs and the endpoint "ep" deployed on it.
func backend(t *testing.T, log *slog.Logger, urls ...string) *webui.Backend {
	t.Helper()
	p := webui.Pool{Name: "studio"}
	for _, s := range urls {
		p.Members = append(p.Members, mustURL(t, s))
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := webui.New([]webui.Pool{p}, nil, log)
	b.HealthTimeout = 2 * time.Second
	if err := b.Deploy(context.Background(), gpu.Spec{Name: "ep", InstanceType: "studio"}); err != nil {
		t.Fatal(err)
	}
	return b
}

func txt2img(params string) gpu.Request {
	return gpu.Request{Task: "txt2img", Params: []byte(params)}
}

func decodePNG(t *testing.T, b64 string) image.Image {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// simStats returns the counters of the simulator at url.
func simStats(t *testing.T, url string) sim.Stats {
	t.Helper()
	res, err := http.Get(url + sim.StatsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st sim.Stats
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// waitFor polls cond until it holds (or fails the test after a minute).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// closedURL returns the URL of a server that is no longer listening.
func closedURL(t *testing.T) string {
	s := httptest.NewServer(http.NotFoundHandler())
	s.Close()
	return s.URL
}
