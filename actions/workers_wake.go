package actions

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"easel/store"
)

// workChannel is the Postgres channel on which a job queued for a worker
// pool is announced (payload: the pool), so a long-polling worker on any
// replica wakes at once.
const workChannel = "easel_work"

// wake hands each announcement (one job) to one Lease call waiting here
// for that pool, so a new job does not wake every idle worker at once —
// and to the best one: a worker with the job's checkpoint loaded, else one
// that has it cached, else the one that waited longest (model affinity;
// switching checkpoints costs a GPU seconds).
type wake struct {
	mu      sync.Mutex
	waiters map[string][]*waiter // pool → waiting calls, oldest first
}

type waiter struct {
	ch       chan struct{}
	canTrain bool
	loaded   string          // SHA-256 of the checkpoint its WebUI has loaded
	cached   map[string]bool // SHA-256s of the files it has
}

func newWake() *wake { return &wake{waiters: map[string][]*waiter{}} }

// wait registers a Lease call waiting for work of pool, with what its
// worker has: the channel is closed by an announcement; done must be
// called when the call stops waiting. Register before looking for work,
// so an announcement in between is not lost.
func (w *wake) wait(pool, loaded string, cached []string, canTrain bool) (woken <-chan struct{}, done func()) {
	me := &waiter{ch: make(chan struct{}), loaded: loaded, cached: map[string]bool{}, canTrain: canTrain}
	for _, sha := range cached {
		me.cached[sha] = true
	}
	w.mu.Lock()
	w.waiters[pool] = append(w.waiters[pool], me)
	w.mu.Unlock()
	return me.ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		list := w.waiters[pool]
		for i, c := range list {
			if c == me {
				w.waiters[pool] = append(list[:i:i], list[i+1:]...)
				return
			}
		}
	}
}

// ring wakes the best waiter of pool for a job whose checkpoint has the
// SHA-256 sha ("" when unknown); pool "" wakes every waiter (the listener
// reconnected and may have missed announcements).
func (w *wake) ring(pool, sha string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if pool == "" {
		for p, list := range w.waiters {
			for _, c := range list {
				close(c.ch)
			}
			delete(w.waiters, p)
		}
		return
	}
	list := w.waiters[pool]
	if len(list) == 0 {
		return
	}
	best := 0
	if sha == trainingAnnouncement {
		// A training: the longest waiting worker that can train.
		if best = slices.IndexFunc(list, func(c *waiter) bool { return c.canTrain }); best < 0 {
			return
		}
	} else if sha != "" {
		if i := slices.IndexFunc(list, func(c *waiter) bool { return c.loaded == sha }); i >= 0 {
			best = i
		} else if i := slices.IndexFunc(list, func(c *waiter) bool { return c.cached[sha] }); i >= 0 {
			best = i
		}
	}
	close(list[best].ch)
	w.waiters[pool] = append(list[:best:best], list[best+1:]...)
}

// announce tells every replica, when db's transaction commits, that pool
// has a job whose checkpoint has the SHA-256 sha ("" when unknown).
func announce(ctx context.Context, db store.DBTX, pool, sha string) error {
	_, err := db.Exec(ctx, `SELECT pg_notify($1, $2)`, workChannel, pool+"\n"+sha)
	return err
}

// Follow relays announcements to the waiting Lease calls until ctx ends,
// reconnecting when the connection drops; meanwhile it sweeps the
// trainings no worker will end (sweepTrainings).
func (h *Workers) Follow(ctx context.Context, log *slog.Logger) {
	go h.sweepTrainings(ctx)
	for ctx.Err() == nil {
		err := h.store.Listen(ctx, workChannel, func(payload string) error {
			pool, sha, _ := strings.Cut(payload, "\n")
			h.wake.ring(pool, sha)
			return nil
		})
		if ctx.Err() != nil {
			return
		}
		log.Warn("workers: job listener stopped; reconnecting", "error", err)
		h.wake.ring("", "")
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
