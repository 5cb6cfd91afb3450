package actions

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"easel/blob"
	"easel/metrics"
	"easel/policy"
	"easel/store"
	"easel/trainer"
	"easel/workerproto"
)

// WorkerTimings are the rhythm of the lease protocol.
type WorkerTimings struct {
	// Heartbeat is how often a worker running a job reports.
	Heartbeat time.Duration
	// JobTimeout bounds a job from its start (EASEL_JOB_TIMEOUT).
	JobTimeout time.Duration
}

// leaseTTL is how long a lease lasts past a heartbeat, and pollWait the
// longest a Lease call waits before looking again: a job whose worker
// vanished goes to another within two heartbeat intervals.
func (t WorkerTimings) leaseTTL() time.Duration { return t.Heartbeat * 3 / 2 }
func (t WorkerTimings) pollWait() time.Duration { return t.Heartbeat / 2 }

// OnlineSince returns how recently (before now) a worker must have called
// to count as online.
func (t WorkerTimings) OnlineSince(now time.Time) time.Time { return now.Add(-2 * t.Heartbeat) }

// affinityHold is how long a worker asking for work takes only jobs on the
// checkpoint it has loaded before it takes any: switching checkpoints
// costs a GPU seconds, waiting this long costs little.
const affinityHold = 300 * time.Millisecond

// maxLeases is how often a job is leased before a transient failure fails
// it for good.
const maxLeases = 5

// Workers serves the lease protocol (workerproto) to `easel worker`s. Each
// call comes with the caller's worker key, which names its pool.
type Workers struct {
	store  *store.Store
	policy *policy.Policy
	blob   *blob.Client
	t      WorkerTimings
	wake   *wake
	log    *slog.Logger
	// metrics records queue waits, job ends and model downloads (nil: none).
	metrics *metrics.Set
	// draining closes when the server shuts down: waiting leases end.
	draining  chan struct{}
	drainOnce sync.Once
	// trainings hears how trainings on workers go (SetTrainings).
	trainings trainer.Reporter
}

// NewWorkers returns the workers actions.
func NewWorkers(s *store.Store, p *policy.Policy, b *blob.Client, t WorkerTimings, log *slog.Logger) *Workers {
	return &Workers{store: s, policy: p, blob: b, t: t, wake: newWake(), log: log, draining: make(chan struct{})}
}

// Drain ends the Lease calls waiting for a job (they answer none), now
// and from now on: the server is shutting down.
func (h *Workers) Drain() { h.drainOnce.Do(func() { close(h.draining) }) }

// Online counts the workers of pool that called recently.
func (h *Workers) Online(ctx context.Context, pool string) (int, error) {
	return store.CountOnlineWorkers(ctx, h.store.DB(), pool, h.t.OnlineSince(h.store.Now()))
}

// Hello records a worker starting and answers its id and timings.
func (h *Workers) Hello(ctx context.Context, key store.APIKey, in workerproto.Hello) (workerproto.Welcome, error) {
	if err := store.CheckName("name", in.Name); err != nil {
		return workerproto.Welcome{}, err
	}
	now := h.store.Now()
	if err := checkTrainer(in.Trainer); err != nil {
		return workerproto.Welcome{}, err
	}
	var id uuid.UUID
	err := h.store.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		id, err = store.SaveWorker(ctx, tx, store.Worker{Pool: key.Pool, Name: in.Name, KeyID: key.ID,
			GPU: in.GPU, GPUMemoryMiB: in.GPUMemoryMiB, WebUI: in.WebUI, Cached: storeModels(in.Cached),
			Trainer: in.Trainer, StartedAt: now})
		if err != nil {
			return err
		}
		return store.AuditChange(ctx, tx, store.AuditRecord{Actor: "worker:" + key.Pool, Action: "worker.register",
			Target: in.Name, Detail: in.GPU, After: map[string]string{"id": id.String(), "pool": key.Pool, "gpu": in.GPU}})
	})
	if err != nil {
		return workerproto.Welcome{}, err
	}
	h.log.Info("worker online", "pool", key.Pool, "worker", in.Name, "gpu", in.GPU, "webui", in.WebUI, "trainer", in.Trainer)
	return workerproto.Welcome{WorkerID: id.String(), Pool: key.Pool,
		HeartbeatInterval: workerproto.Duration{Duration: h.t.Heartbeat},
		LeaseTTL:          workerproto.Duration{Duration: h.t.leaseTTL()}}, nil
}

// errUnknownWorker tells a worker to say hello (again).
var errUnknownWorker = store.Errorf(store.ENotFound, "unknown worker: say hello first")

// Lease waits up to in.Wait for a job of the key's pool and leases it to
// the worker; nil (no error) when none came.
func (h *Workers) Lease(ctx context.Context, key store.APIKey, in workerproto.LeaseRequest) (*workerproto.Job, error) {
	id, err := uuid.Parse(in.WorkerID)
	if err != nil {
		return nil, errUnknownWorker
	}
	if err := checkTrainer(in.Trainer); err != nil {
		return nil, err
	}
	cached := storeModels(in.Cached)
	shas := make([]string, 0, len(cached))
	for _, m := range cached {
		shas = append(shas, m.SHA256)
	}
	wait := min(max(in.Wait.Duration, 0), workerproto.MaxWait)
	deadline := time.Now().Add(wait)
	var w store.Worker
	var touched time.Time
	// For a moment, take only jobs that need no checkpoint switch: a job
	// on another checkpoint may yet go to a worker that has it loaded.
	hold := time.Now().Add(affinityHold)
	for {
		onlyLoaded := in.Loaded != "" && time.Now().Before(hold)
		woken, done := h.wake.wait(key.Pool, in.Loaded, shas, in.Trainer != "")
		// One transaction a look: the worker recorded alive (at first,
		// then once a pollWait), a job leased and described.
		var job *workerproto.Job
		var doomed *doomedTraining
		touch := touched.IsZero() || time.Since(touched) >= h.t.pollWait()
		err := h.store.InTx(ctx, func(tx pgx.Tx) error {
			if touch {
				got, err := store.TouchWorker(ctx, tx, id, key.ID, cached, in.Loaded, in.Trainer, h.store.Now())
				if errors.Is(err, store.ErrNotFound) {
					return errUnknownWorker
				}
				if err != nil {
					return err
				}
				w = got
			}
			var err error
			job, err = h.leaseOne(ctx, tx, w, in.Loaded, shas, onlyLoaded)
			if job == nil && err == nil && !onlyLoaded {
				job, doomed, err = h.leaseTraining(ctx, tx, w)
			}
			return err
		})
		if err == nil && touch {
			touched = time.Now()
		}
		if err == nil && doomed != nil {
			h.log.Info("training failed before a worker could run it", "training", doomed.id, "error", doomed.reason)
			h.finishTraining(ctx, doomed.id, trainer.Outcome{Status: trainer.Failed, Reason: doomed.reason})
			done()
			continue
		}
		if err == nil && job != nil && job.Kind == workerproto.KindTraining {
			// The worker starts by downloading the model and the dataset.
			if perr := h.trainings.Progress(ctx, job.ID, trainer.Progress{Status: trainer.Downloading}); perr != nil {
				h.log.Warn("recording a leased training as downloading", "training", job.ID, "error", perr)
			}
		}
		left := time.Until(deadline)
		if job != nil || err != nil || left <= 0 {
			done()
			return job, err
		}
		// Look again at an announcement, and at least every pollWait (a
		// lease that expires meanwhile is not announced), and when the
		// affinity hold ends.
		next := min(left, h.t.pollWait())
		if onlyLoaded {
			next = min(next, time.Until(hold))
		}
		timer := time.NewTimer(next)
		select {
		case <-woken:
		case <-timer.C:
		case <-ctx.Done():
		case <-h.draining:
		}
		timer.Stop()
		done()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		select {
		case <-h.draining:
			return nil, nil
		default:
		}
	}
}

// leaseOne leases the next job of w's pool, if any, and describes it.
func (h *Workers) leaseOne(ctx context.Context, tx pgx.Tx, w store.Worker, loaded string, cached []string, onlyLoaded bool) (*workerproto.Job, error) {
	for {
		l, err := store.LeaseInference(ctx, tx, store.LeaseOf{Pool: w.Pool, Worker: w.ID, WorkerName: w.Name,
			Loaded: loaded, Cached: cached, OnlyLoaded: onlyLoaded, Now: h.store.Now(), TTL: h.t.leaseTTL()})
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		job, err := h.describe(ctx, tx, l)
		if err == nil {
			if l.Leases == 1 && l.RunTime != nil {
				// Recorded before the commit: a lease rolled back is rare.
				h.metrics.JobStarted(l.EndpointName, l.EndpointBackend, l.RunTime.Sub(l.StartTime))
			}
			return job, nil
		}
		var wait notReady
		if errors.As(err, &wait) {
			if _, err := store.ReleaseLease(ctx, tx, l.ID, l.Token, h.store.Now().Add(wait.retry), wait.Error()); err != nil {
				return nil, err
			}
			continue
		}
		// A job that cannot be described (its parameters or a model are
		// gone) fails; the worker gets the next one.
		if _, ferr := store.EndLease(ctx, tx, l.ID, l.Token, store.LeaseEnd{Status: store.InferenceFailed,
			Error: err.Error(), Now: h.store.Now()}); ferr != nil {
			return nil, ferr
		}
		h.log.Info("inference failed before a worker could run it", "inference", l.ID, "error", err)
	}
}

// Heartbeat extends the lease of a running job and records its progress.
// A job that ended meanwhile (cancelled, timed out) answers Cancelled; a
// lease that is no longer the caller's is EConflict.
func (h *Workers) Heartbeat(ctx context.Context, key store.APIKey, in workerproto.Heartbeat) (workerproto.HeartbeatReply, error) {
	if in.Kind == workerproto.KindTraining {
		return h.trainingHeartbeat(ctx, in)
	}
	job, token, err := parseLease(in.JobID, in.Token)
	if err != nil {
		return workerproto.HeartbeatReply{}, err
	}
	now := h.store.Now()
	until := now.Add(h.t.leaseTTL())
	progress := float32(min(max(in.Progress, 0), 1))
	stage := in.Stage
	if !slices.Contains([]string{"downloading", "switching", "generating", "uploading"}, stage) {
		stage = "generating"
	}
	st, err := store.ExtendLease(ctx, h.store.DB(), job, token, now, until, progress, stage)
	switch {
	case err != nil:
		return workerproto.HeartbeatReply{}, err
	case st == store.LeaseEnded:
		return workerproto.HeartbeatReply{Cancelled: true}, nil
	case st == store.LeaseLost:
		return workerproto.HeartbeatReply{}, errLeaseLost
	}
	return workerproto.HeartbeatReply{Deadline: workerproto.Time{Time: until}}, nil
}

// errLeaseLost answers a worker whose lease another worker holds now, or
// whose job is gone: it must drop the job.
var errLeaseLost = store.Errorf(store.EConflict, "this lease is no longer yours: drop the job")

func parseLease(job, token string) (uuid.UUID, uuid.UUID, error) {
	j, err1 := uuid.Parse(job)
	t, err2 := uuid.Parse(token)
	if err1 != nil || err2 != nil {
		return uuid.Nil, uuid.Nil, errLeaseLost
	}
	return j, t, nil
}

func storeModels(in []workerproto.Model) []store.WorkerModel {
	out := make([]store.WorkerModel, 0, len(in))
	for _, m := range in {
		out = append(out, store.WorkerModel{Type: m.Type, Name: m.Name, SHA256: m.SHA256, Size: m.Size})
	}
	return out
}

// WorkerView is a worker as the console shows it.
type WorkerView struct {
	store.Worker
	Online bool
}

// List returns the workers of every configured pool, for holders of
// sagemaker_endpoint:list.
func (h *Workers) List(ctx context.Context, actor policy.Principal, pools []string) ([]WorkerView, error) {
	if err := h.policy.Require(actor, policy.EndpointList); err != nil {
		return nil, err
	}
	now := h.store.Now()
	all, err := store.ListWorkers(ctx, h.store.DB(), pools, now)
	if err != nil {
		return nil, err
	}
	since := h.t.OnlineSince(now)
	out := make([]WorkerView, len(all))
	for i, w := range all {
		out[i] = WorkerView{Worker: w, Online: !w.LastSeen.Before(since)}
	}
	return out, nil
}

// Now is the clock the workers are judged by.
func (h *Workers) Now() time.Time { return h.store.Now() }
