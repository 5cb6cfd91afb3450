// Package webui is a gpu.Backend for named pools of AUTOMATIC1111-
// compatible servers (EASEL_WEBUI_POOLS). An endpoint's InstanceType is
// the name of its pool; the pools are fixed, so Deploy and Delete only
// record which endpoint uses which pool, and Scale changes nothing.
package webui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"easel/gpu"
)

// Backend drives WebUI pools. Set its exported fields before use.
type Backend struct {
	// HealthTimeout bounds one member health check (default 5s).
	HealthTimeout time.Duration
	// Cooldown is how long a member that failed stays marked unhealthy
	// (default 30s); invokes skip it unless every member is marked.
	Cooldown time.Duration
	// MaxFailures is how many server failures in a row (5xx that do not
	// blame the request) mark a member unhealthy although it still
	// answers its progress (default 3); one that does not answer is
	// marked at once.
	MaxFailures int
	// StopTimeout bounds the wait for a member to go idle after Easel
	// interrupted it (default 2m); then it is marked unhealthy.
	StopTimeout time.Duration

	client *http.Client
	log    *slog.Logger
	pools  map[string]*pool
	names  []string // sorted pool names

	mu        sync.Mutex
	endpoints map[string]string // endpoint name → pool name
}

var _ gpu.Backend = (*Backend)(nil)

// New returns a Backend for pools. A nil client uses a client without a
// global timeout (invokes are bounded by their context); a nil log
// discards.
func New(pools []Pool, client *http.Client, log *slog.Logger) *Backend {
	if client == nil {
		client = &http.Client{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Backend{HealthTimeout: 5 * time.Second, Cooldown: 30 * time.Second, MaxFailures: 3, StopTimeout: 2 * time.Minute,
		client: client, log: log, pools: map[string]*pool{}, endpoints: map[string]string{}}
	for _, p := range pools {
		b.pools[p.Name] = newPool(p)
		b.names = append(b.names, p.Name)
	}
	slices.Sort(b.names)
	return b
}

// Pools returns the pool names, sorted.
func (b *Backend) Pools() []string { return slices.Clone(b.names) }

// Attach records that endpoint name uses pool; Easel calls it at start
// for the endpoints in its database. Attaching again moves the endpoint.
func (b *Backend) Attach(name, pool string) error {
	if name == "" {
		return errors.New("webui: empty endpoint name")
	}
	if _, ok := b.pools[pool]; !ok {
		if len(b.names) == 0 {
			return fmt.Errorf("webui: unknown pool %q: no pools are configured (EASEL_WEBUI_POOLS)", pool)
		}
		return fmt.Errorf("webui: unknown pool %q (pools: %s)", pool, strings.Join(b.names, ", "))
	}
	b.mu.Lock()
	b.endpoints[name] = pool
	b.mu.Unlock()
	return nil
}

// Deploy attaches spec.Name to the pool spec.InstanceType and
// health-checks its members; an unhealthy pool is not an error here, it
// shows in Status. spec.InstanceCount is a ceiling: pools are fixed.
func (b *Backend) Deploy(ctx context.Context, spec gpu.Spec) error {
	if err := b.Attach(spec.Name, spec.InstanceType); err != nil {
		return err
	}
	p := b.pools[spec.InstanceType]
	healthy := 0
	for _, h := range b.check(ctx, p) {
		if h.err == nil {
			healthy++
		} else {
			b.log.Warn("webui member unhealthy", "pool", p.name, "member", h.member.name, "err", h.err)
		}
	}
	b.log.Info("webui endpoint attached", "endpoint", spec.Name, "pool", p.name,
		"members", len(p.members), "healthy", healthy)
	return nil
}

// poolOf returns the pool of endpoint name, or an error wrapping
// gpu.ErrNotFound.
func (b *Backend) poolOf(name string) (*pool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	pn, ok := b.endpoints[name]
	if !ok {
		return nil, fmt.Errorf("webui endpoint %q: %w", name, gpu.ErrNotFound)
	}
	return b.pools[pn], nil
}

// Status health-checks the endpoint's pool: InService with the healthy
// members as InstanceCount while at least one answers, Failed otherwise.
// Simulator is set when a healthy member is easel sim-webui.
func (b *Backend) Status(ctx context.Context, name string) (gpu.Status, error) {
	p, err := b.poolOf(name)
	if err != nil {
		return gpu.Status{}, err
	}
	var st gpu.Status
	var bad []string
	for _, h := range b.check(ctx, p) {
		if h.err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", h.member.name, h.err))
			continue
		}
		st.InstanceCount++
		st.Simulator = st.Simulator || h.simulator
	}
	st.State = gpu.InService
	if st.InstanceCount == 0 {
		st.State = gpu.Failed
		st.FailureReason = fmt.Sprintf("no healthy member in pool %s: %s", p.name, strings.Join(bad, "; "))
	} else if len(bad) > 0 {
		st.FailureReason = "unhealthy members: " + strings.Join(bad, "; ")
	}
	return st, nil
}

// Scale does nothing: a pool's size is fixed and the count is a ceiling.
func (b *Backend) Scale(ctx context.Context, name string, count int) error { return nil }

// Delete forgets the endpoint; the pool's servers are left alone.
func (b *Backend) Delete(ctx context.Context, name string) error {
	b.mu.Lock()
	delete(b.endpoints, name)
	b.mu.Unlock()
	return nil
}
