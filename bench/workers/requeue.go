package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"

	"easel/bench/internal/benchenv"
	"easel/store"
)

// requeuePool is the pool of requeue trial k: each trial has its own, so
// that only its own fast worker can take its job.
func requeuePool(k int) string { return fmt.Sprintf("requeue-%d", k) }

// requeueTrial is one job whose worker was cut off.
type requeueTrial struct {
	cut, taker string
	// phase is how long before the lease expired the fast worker's
	// waiting Lease call had last looked for work.
	phase  time.Duration
	after  time.Duration // from the cut to the second lease
	leases int
}

// requeue runs the lease-expiry phase: -requeue-trials trials at once,
// each on its own pool (requeue-<k>, an endpoint assigned to its own
// role). In each, a worker whose simulator takes an hour per image leases
// the job, and its network is cut (its transport fails every call) right
// after Easel answered its first heartbeat, which just extended its lease
// by 1.5 intervals: the worst moment to die. A second worker, started
// beforehand, has its first Lease call held in its transport and let go
// at a chosen moment: a waiting Lease looks again every half interval, so
// that moment decides when, after the expiry, it looks next. Trial k lets
// go so that it last looked (k+0.5)/trials of half an interval before
// the expiry: the trials sample the whole range, from just after the
// expiry (1.5 intervals) to the worst (2). The time from the cut to the
// job's second lease is read by polling the database every 5 ms (through
// Easel's pool: the trials poll at once).
func requeue(ctx context.Context, e *benchenv.Easel, cfg config, keys map[string]string, model checkpoint, dir string) ([]requeueTrial, error) {
	admin := newClient(e.URL, cfg.poll, cfg.trials)
	defer admin.http.CloseIdleConnections()
	trials := make([]requeueTrial, cfg.trials)
	errs := make([]error, cfg.trials)
	var wg sync.WaitGroup
	for k := range cfg.trials {
		wg.Go(func() {
			phase := time.Duration(float64(cfg.heartbeat/2) * (float64(k) + 0.5) / float64(cfg.trials))
			trials[k], errs[k] = requeueOne(ctx, e, admin, cfg, requeuePool(k), keys[requeuePool(k)], model, dir, phase)
		})
	}
	wg.Wait()
	return trials, errors.Join(errs...)
}

func requeueOne(ctx context.Context, e *benchenv.Easel, admin *client, cfg config, pool, key string,
	model checkpoint, dir string, phase time.Duration) (t requeueTrial, err error) {
	counts := &calls{}
	boxOf := func(name string) boxConfig {
		return boxConfig{Server: e.URL, Key: key, Name: name, Dir: filepath.Join(dir, name), Verbose: cfg.verbose,
			Grace: 10 * time.Millisecond}
	}
	slow, err := startSimBox(boxOf(pool+"-slow"), time.Hour, 0, counts)
	if err != nil {
		return t, err
	}
	defer func() { err = errors.Join(err, slow.stop()) }()
	release := make(chan struct{})
	fastCfg := boxOf(pool + "-fast")
	fastCfg.hold = release
	fast, err := startSimBox(fastCfg, 0, 0, counts)
	if err != nil {
		return t, err
	}
	defer func() { err = errors.Join(err, fast.stop()) }()
	if err := waitPolling(ctx, []*box{slow, fast}, time.Minute); err != nil {
		return t, err
	}
	role := "bench-" + pool
	if err := admin.call(ctx, http.MethodPost, "/prod/roles", map[string]any{"role_name": role, "creator": "admin",
		"permissions": []string{"sagemaker_endpoint:list"}}, http.StatusCreated, nil); err != nil {
		return t, err
	}
	endpoint, err := admin.createEndpoint(ctx, pool, role)
	if err != nil {
		return t, err
	}
	defer func() { err = errors.Join(err, admin.deleteEndpoint(ctx, endpoint)) }()
	slow.tap.armed.Store(true) // cut at the first heartbeat answered
	created, err := admin.submit(ctx, endpoint, model.name, 0)
	if err != nil {
		return t, err
	}
	id, err := uuid.Parse(created)
	if err != nil {
		return t, err
	}
	if err := poll(ctx, cfg.heartbeat+time.Minute, func() (bool, error) { return slow.tap.cutAt.Load() != 0, nil }); err != nil {
		return t, fmt.Errorf("%s was not cut off: %w", slow.name, err)
	}
	cut := time.Unix(0, slow.tap.cutAt.Load())
	// The lease expires at about cut + 1.5 intervals. Let the fast worker
	// ask at cut + 0.5 intervals - phase: it looks again every half
	// interval, the last time before the expiry at cut + 1.5 - phase.
	if err := sleep(ctx, time.Until(cut.Add(cfg.heartbeat/2-phase))); err != nil {
		return t, err
	}
	close(release)
	var again time.Time
	err = poll(ctx, 3*cfg.heartbeat, func() (bool, error) {
		leases, err := store.LeaseCount(ctx, e.Store.DB(), id)
		again = time.Now()
		return leases >= 2, err
	})
	if err != nil {
		return t, fmt.Errorf("the job of %s was not leased again: %w", slow.name, err)
	}
	if err := admin.wait(ctx, created, time.Minute); err != nil {
		return t, err
	}
	inf, err := store.FindInference(ctx, e.Store.DB(), id)
	if err != nil {
		return t, err
	}
	t = requeueTrial{cut: slow.name, taker: inf.WorkerName, phase: phase, after: again.Sub(cut)}
	if t.leases, err = store.LeaseCount(ctx, e.Store.DB(), id); err != nil {
		return t, err
	}
	if t.taker != fast.name || t.leases != 2 {
		return t, fmt.Errorf("job %s finished by %s after %d leases, want %s after 2", id, t.taker, t.leases, fast.name)
	}
	return t, nil
}

// poll calls done every 5 ms until it is true or timeout passes.
func poll(ctx context.Context, timeout time.Duration, done func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := done()
		if ok || err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not done after %s", timeout)
		}
		if err := sleep(ctx, 5*time.Millisecond); err != nil {
			return err
		}
	}
}
