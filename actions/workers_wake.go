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

// wake hands each announcement to one Lease call waiting here for that
// pool (each announcement is one job), so a new job does not wake every
// idle worker of the pool at once.
type wake struct {
	mu      sync.Mutex
	waiters map[string][]chan struct{} // pool → waiting calls, oldest first
}

func newWake() *wake { return &wake{waiters: map[string][]chan struct{}{}} }

// wait registers a Lease call waiting for work of pool: the channel is
// closed by an announcement; done must be called when the call stops
// waiting. Register before looking for work, so an announcement in
// between is not lost.
func (w *wake) wait(pool string) (woken <-chan struct{}, done func()) {
	ch := make(chan struct{})
	w.mu.Lock()
	w.waiters[pool] = append(w.waiters[pool], ch)
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		list := w.waiters[pool]
		for i, c := range list {
			if c == ch {
				w.waiters[pool] = append(list[:i:i], list[i+1:]...)
				return
			}
		}
	}
}

// ring wakes the oldest waiter of pool; "" wakes every waiter (the
// listener reconnected and may have missed announcements).
func (w *wake) ring(pool string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if pool == "" {
		for p, list := range w.waiters {
			for _, ch := range list {
				close(ch)
			}
			delete(w.waiters, p)
		}
		return
	}
	if list := w.waiters[pool]; len(list) > 0 {
		close(list[0])
		w.waiters[pool] = list[1:]
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
