// Package jobs holds Easel's background work on River:
//
//   - checkpoints: URL imports (import.go, with the messages users see in
//     import_errors.go), the SHA-256 of completed browser uploads
//     (checksum.go) and what the file says about itself, read from its
//     header or pickle opcodes (model_info.go), renames and object deletion (cleanup.go), and the
//     hourly removal of abandoned uploads (abandoned.go), and the abort of
//     multipart uploads no live job owns (orphaned_uploads.go);
//   - endpoints: deploy, reconcile (Creating → InService/Failed,
//     autoscaling) and teardown on their backends (endpoints.go);
//   - inferences: the run of a started job on its backend, parameters
//     checked (params.go), results stored exactly once, failures judged in
//     one place (inference.go, inference_result.go);
//   - the end of worker-pool jobs past EASEL_JOB_TIMEOUT (worker_timeouts.go);
//   - SageMaker training jobs followed until they end (training_watch.go);
//   - the gallery's thumbnails of stored images (thumbnails.go) and the
//     generation parameters kept inside each PNG (pnginfo.go);
//   - the hourly removal of expired console sessions (cleanup.go) and of
//     audit entries past EASEL_AUDIT_RETENTION (audit_retention.go);
//   - webhook deliveries: queued as the database records them, signed,
//     sent and retried for a day (webhook.go, webhook_dispatch.go);
//   - replicas: each reports itself alive and hands the running jobs of a
//     replica gone silent back to River (KeepAlive, RequeueOrphaned); the
//     one place Easel reads or writes River's tables (requeue.go).
package jobs

import (
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"easel/blob"
	"easel/gpu"
	"easel/internal/logx"
	"easel/metrics"
	"easel/netguard"
	"easel/secrets"
	"easel/store"
	"easel/trainer"
)

// Config tunes the jobs.
type Config struct {
	// MaxModelBytes caps one imported file (EASEL_MAX_MODEL_BYTES).
	MaxModelBytes int64
	// URLs is the SSRF policy of imports (EASEL_ALLOW_PRIVATE_URLS).
	URLs netguard.Policy
	// UploadTTL is how long an unfinished browser upload may stay
	// (EASEL_UPLOAD_TTL).
	UploadTTL time.Duration
	// PartSize of streamed imports (0: the blob default).
	PartSize int64
	// ReconcileEvery is how often endpoint states are refreshed.
	ReconcileEvery time.Duration
	// JobTimeout bounds an inference from start to result (EASEL_JOB_TIMEOUT).
	JobTimeout time.Duration
	// ReplicaID names this process's River client (NewReplicaID), so that
	// the other replicas can tell whose running jobs are orphaned.
	ReplicaID string
	// RescueAfter is how long a replica may stay silent before its running
	// jobs go to the others (EASEL_RESCUE_AFTER; see KeepAlive).
	RescueAfter time.Duration
	// AuditRetention is how long audit entries are kept
	// (EASEL_AUDIT_RETENTION; 0 keeps them).
	AuditRetention time.Duration
}

// Deps are what the workers use.
type Deps struct {
	Store *store.Store
	Blob  *blob.Client
	GPU   *gpu.Registry
	Log   *slog.Logger
	Cfg   Config
	// Metrics records the queue wait and run time of inferences (nil: none).
	Metrics *metrics.Set
	// Sealer opens the webhook signing secrets.
	Sealer *secrets.Sealer
	// SageMakerTraining and Reporter follow SageMaker training jobs
	// (training_watch.go); nil without SageMaker training.
	SageMakerTraining TrainingDescriber
	Reporter          trainer.Reporter
}

// NewClient returns a River client with every worker and periodic job.
func NewClient(pool *pgxpool.Pool, d Deps) (*river.Client[pgx.Tx], error) {
	workers := river.NewWorkers()
	river.AddWorker(workers, &importWorker{d: d})
	river.AddWorker(workers, &renameWorker{d: d})
	river.AddWorker(workers, &checksumWorker{d: d})
	river.AddWorker(workers, &deletePrefixWorker{d: d})
	river.AddWorker(workers, &deleteObjectsWorker{d: d})
	river.AddWorker(workers, &abandonedUploadsWorker{d: d})
	river.AddWorker(workers, &expiredSessionsWorker{d: d})
	river.AddWorker(workers, &deployWorker{d: d})
	river.AddWorker(workers, &teardownWorker{d: d})
	river.AddWorker(workers, &reconcileWorker{d: d})
	river.AddWorker(workers, &datasetFilesWorker{d: d})
	river.AddWorker(workers, &datasetCropWorker{d: d})
	if d.Cfg.JobTimeout <= 0 {
		d.Cfg.JobTimeout = time.Hour
	}
	river.AddWorker(workers, &runWorker{d: d})
	river.AddWorker(workers, &workerTimeoutsWorker{d: d})
	if d.Cfg.RescueAfter <= 0 {
		d.Cfg.RescueAfter = time.Minute
	}
	river.AddWorker(workers, &orphanedUploadsWorker{d: d})
	river.AddWorker(workers, &thumbnailsWorker{d: d})
	river.AddWorker(workers, newWebhookWorker(d))
	river.AddWorker(workers, &auditRetentionWorker{d: d})
	if d.Cfg.ReconcileEvery <= 0 {
		d.Cfg.ReconcileEvery = 10 * time.Second
	}
	river.AddWorker(workers, &trainingWatchWorker{d: d})
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		ID: d.Cfg.ReplicaID,
		// Jobs of a replica that died are rescued by KeepAlive within
		// EASEL_RESCUE_AFTER; River's own rescue of jobs running too long
		// is only the backstop, past the longest job's timeout.
		RescueStuckJobsAfter: max(importTimeout, d.Cfg.JobTimeout+time.Minute) + d.Cfg.RescueAfter,
		RetryPolicy:          quickRetry{},
		// Inference jobs mostly wait on GPUs: many may run at once, and a
		// started job should be fetched within milliseconds, not after
		// River's default 100 ms cooldown and 1 s poll (bench/dispatch).
		FetchCooldown:     5 * time.Millisecond,
		FetchPollInterval: 250 * time.Millisecond,
		Queues:            queues(),
		Workers:           workers,
		Middleware:        []rivertype.Middleware{river.WorkerMiddlewareFunc(auditOrigin)},
		// River's producers report routine fetches at Info: keep them at Debug.
		Logger: logx.Demoted(d.Log.With("component", "river")),
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
				func() (river.JobArgs, *river.InsertOpts) { return AbandonedUploadsArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
				func() (river.JobArgs, *river.InsertOpts) { return ExpiredSessionsArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(d.Cfg.ReconcileEvery),
				func() (river.JobArgs, *river.InsertOpts) { return ReconcileArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(d.Cfg.ReconcileEvery),
				func() (river.JobArgs, *river.InsertOpts) { return WorkerTimeoutsArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(d.Cfg.RescueAfter),
				func() (river.JobArgs, *river.InsertOpts) { return OrphanedUploadsArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(d.Cfg.ReconcileEvery),
				func() (river.JobArgs, *river.InsertOpts) { return ThumbnailsArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
				func() (river.JobArgs, *river.InsertOpts) { return AuditRetentionArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return client, nil
}

// queues are River's queues: the default one, and the dataset jobs' (CPU-
// bound picture work: never more than the cores, and never in the way of
// inference jobs).
func queues() map[string]river.QueueConfig {
	return map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 50},
		DatasetQueue: {MaxWorkers: runtime.GOMAXPROCS(0)}}
}

// RedactURL drops the user information (credentials) from a URL for
// display and logs; unparsable input is returned as "(invalid URL)".
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	u.User = nil
	return u.String()
}

// quickRetry retries after attempt² seconds (1 s, 4 s, 9 s, …, at most
// 10 min): backends recover in seconds, and a user waits for the result.
type quickRetry struct{}

func (quickRetry) NextRetry(job *rivertype.JobRow) time.Time {
	n := time.Duration(job.Attempt)
	return time.Now().Add(min(n*n*time.Second, 10*time.Minute))
}
