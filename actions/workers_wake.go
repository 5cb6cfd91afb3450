package actions

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"easel/store"
)

// workChannel is the Postgres channel on which a job queued for a worker
// pool is announced (payload: the pool), so a long-polling worker on any
// replica wakes at once.
const workChannel = "easel_work"

// wake fans the announcements out to the Lease calls waiting here.
type wake struct {
	mu      sync.Mutex
	waiters map[string]chan struct{} // pool → closed at the next announcement
}

func newWake() *wake { return &wake{waiters: map[string]chan struct{}{}} }

// wait returns a channel closed at the next announcement for pool. Take
// it before looking for work, so an announcement in between is not lost.
func (w *wake) wait(pool string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch, ok := w.waiters[pool]
	if !ok {
		ch = make(chan struct{})
		w.waiters[pool] = ch
	}
	return ch
}

// ring wakes every waiter of pool ("" wakes all: the listener reconnected
// and may have missed announcements).
func (w *wake) ring(pool string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for p, ch := range w.waiters {
		if pool == "" || p == pool {
			close(ch)
			delete(w.waiters, p)
		}
	}
}

// announce tells every replica, when db's transaction commits, that pool
// has work.
func announce(ctx context.Context, db store.DBTX, pool string) error {
	_, err := db.Exec(ctx, `SELECT pg_notify($1, $2)`, workChannel, pool)
	return err
}

// Follow relays announcements to the waiting Lease calls until ctx ends,
// reconnecting when the connection drops.
func (h *Workers) Follow(ctx context.Context, log *slog.Logger) {
	for ctx.Err() == nil {
		err := h.store.Listen(ctx, workChannel, func(pool string) error { h.wake.ring(pool); return nil })
		if ctx.Err() != nil {
			return
		}
		log.Warn("workers: job listener stopped; reconnecting", "error", err)
		h.wake.ring("")
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
