// Package worker is `easel worker`: the process beside a GPU's WebUI
// that leases jobs from Easel (package workerproto), fetches and verifies
// their models into the WebUI's folders, runs them and uploads the
// images. It speaks to Easel and the object store over HTTP only, and to
// the WebUI through a Backend.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"easel/workerproto"
)

// Worker leases and runs jobs, one at a time.
type Worker struct {
	cfg     Config
	backend Backend
	cache   *cache
	log     *slog.Logger
	welcome workerproto.Welcome
}

// New checks cfg and opens the cache index in the models folder; an
// error when a setting is wrong or the folder cannot be used.
func New(cfg Config) (*Worker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	c, err := openCache(cfg.ModelsDir, cfg.CacheSize, cfg.Backend.Folder)
	if err != nil {
		return nil, fmt.Errorf("the models folder %s: %w", cfg.ModelsDir, err)
	}
	return &Worker{cfg: cfg, backend: cfg.Backend, cache: c, log: cfg.Log}, nil
}

// Run waits for the WebUI, says Hello and leases jobs until ctx is done;
// a running job then gets Config.Grace to finish. It returns nil after a
// shutdown, or the error that stopped it (a refused key).
func (w *Worker) Run(ctx context.Context) error {
	if err := w.waitBackend(ctx); err != nil {
		return nil // shut down while waiting
	}
	if err := w.hello(ctx); err != nil {
		return stopped(ctx, err)
	}
	for n := 0; ctx.Err() == nil; {
		cached, err := w.cachedModels(ctx)
		if err != nil {
			// A job leased now would fail: wait for the WebUI instead.
			if w.waitBackend(ctx) != nil {
				return nil
			}
			continue
		}
		req := workerproto.LeaseRequest{WorkerID: w.welcome.WorkerID,
			Wait: workerproto.Duration{Duration: workerproto.MaxWait}, Cached: cached, Trainer: w.cfg.trainer()}
		if l, err := w.backend.Loaded(ctx); err == nil {
			req.Loaded = l.SHA256
		}
		var job workerproto.Job
		began := time.Now()
		status, err := w.call(ctx, workerproto.PathLease, workerproto.MaxWait+callTimeout, req, &job)
		switch {
		case ctx.Err() != nil:
			return nil
		case status == http.StatusNotFound:
			// Easel forgot this worker (restarted without it): introduce again.
			w.log.Info("Easel does not know this worker; saying hello again")
			if err := w.hello(ctx); err != nil {
				return stopped(ctx, err)
			}
		case err != nil && !retryable(err):
			return fmt.Errorf("lease: %w", err)
		case err != nil:
			w.log.Warn("lease failed; retrying", "error", err)
			sleep(ctx, w.backoff(n))
			n++
		case status == http.StatusOK && job.Kind == workerproto.KindTraining:
			n = 0
			w.runTraining(ctx, &job)
		case status == http.StatusOK:
			n = 0
			w.log.Info("job leased", "job", job.ID, "task", job.Task, "checkpoint", job.Checkpoint)
			w.runJob(ctx, &job)
		default: // 204: nothing queued
			n = 0
			if time.Since(began) < time.Second {
				sleep(ctx, w.cfg.RetryBase) // an Easel that does not wait must not make us spin
			}
		}
	}
	return nil
}

// stopped returns nil for an error caused by shutdown.
func stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil
	}
	return err
}

// waitBackend waits until the WebUI answers (it starts slowly); an error
// only when ctx ends first.
func (w *Worker) waitBackend(ctx context.Context) error {
	for n := 0; ; n++ {
		mctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := w.backend.Models(mctx)
		cancel()
		if err == nil {
			return nil
		}
		w.log.Warn("waiting for the WebUI", "error", err)
		if err := sleep(ctx, w.backoff(n)); err != nil {
			return err
		}
	}
}

// cachedModels is what the worker has: its index and the checkpoints the
// WebUI knows by hash. The error is the WebUI's.
func (w *Worker) cachedModels(ctx context.Context) ([]workerproto.Model, error) {
	out := w.cache.models()
	seen := map[string]bool{}
	for _, m := range out {
		seen[modelKey(m)] = true
	}
	mctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	models, err := w.backend.Models(mctx)
	for _, m := range models {
		if !seen[modelKey(m)] && m.SHA256 != "" {
			out = append(out, m)
		}
	}
	return out, err
}
