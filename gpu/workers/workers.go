// Package workers is the gpu.Backend of pools of `easel worker`
// processes. Workers pull their jobs (the lease protocol, served by
// actions.Workers), so this backend only reports the state of a pool's
// endpoints: InService while at least one of its workers is online, with
// as many instances as are online.
package workers

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"easel/gpu"
)

// Online counts the workers of a pool that reported recently.
type Online func(ctx context.Context, pool string) (int, error)

// Backend serves worker pools.
type Backend struct {
	online Online
	mu     sync.RWMutex
	pools  map[string]string // endpoint name → pool
}

// New returns the backend; online counts a pool's workers.
func New(online Online) *Backend { return &Backend{online: online, pools: map[string]string{}} }

// Deploy records which pool the endpoint uses; workers come by themselves.
func (b *Backend) Deploy(_ context.Context, spec gpu.Spec) error {
	b.Attach(spec.Name, spec.InstanceType)
	return nil
}

// Attach re-attaches an existing endpoint at start-up.
func (b *Backend) Attach(name, pool string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pools[name] = pool
}

// Status is InService while a worker of the pool is online.
func (b *Backend) Status(ctx context.Context, name string) (gpu.Status, error) {
	b.mu.RLock()
	pool, ok := b.pools[name]
	b.mu.RUnlock()
	if !ok {
		return gpu.Status{}, gpu.ErrNotFound
	}
	n, err := b.online(ctx, pool)
	if err != nil {
		return gpu.Status{}, gpu.TransientError{Err: err}
	}
	if n == 0 {
		return gpu.Status{State: gpu.Creating, FailureReason: fmt.Sprintf("no worker of pool %s is online: start `easel worker` on a GPU machine (Workers page)", pool)}, nil
	}
	return gpu.Status{State: gpu.InService, InstanceCount: n}, nil
}

// Scale does nothing: a pool grows by starting workers.
func (b *Backend) Scale(context.Context, string, int) error { return nil }

// Delete forgets the endpoint.
func (b *Backend) Delete(_ context.Context, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.pools, name)
	return nil
}

// ErrPulled is what Invoke answers: jobs of worker pools are leased by
// the workers, never pushed.
var ErrPulled = errors.New("jobs of worker pools are leased by their workers, not sent")

// Invoke is never used for worker pools.
func (b *Backend) Invoke(context.Context, string, gpu.Request) (gpu.Result, error) {
	return gpu.Result{}, ErrPulled
}
