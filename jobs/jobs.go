// Package jobs holds Easel's background work on River:
//
//   - checkpoints: URL imports (import.go, with the messages users see in
//     import_errors.go), the SHA-256 of completed browser uploads
//     (checksum.go), renames and object deletion (cleanup.go), and the
//     hourly removal of abandoned uploads (abandoned.go);
//   - endpoints: deploy, reconcile (Creating → InService/Failed,
//     autoscaling) and teardown on their backends (endpoints.go);
//   - inferences: the run of a started job on its backend, parameters
//     checked (params.go), results stored exactly once, failures judged in
//     one place (inference.go, inference_result.go);
//   - the end of worker-pool jobs past EASEL_JOB_TIMEOUT (worker_timeouts.go);
//   - the hourly removal of expired console sessions (cleanup.go);
//   - RequeueRunning, the one place Easel writes River's tables (requeue.go).
package jobs

import (
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"easel/blob"
	"easel/gpu"
	"easel/internal/logx"
	"easel/netguard"
	"easel/store"
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
}

// Deps are what the workers use.
type Deps struct {
	Store *store.Store
	Blob  *blob.Client
	GPU   *gpu.Registry
	Log   *slog.Logger
	Cfg   Config
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
	if d.Cfg.ReconcileEvery <= 0 {
		d.Cfg.ReconcileEvery = 10 * time.Second
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		RetryPolicy: quickRetry{},
		// Inference jobs mostly wait on GPUs: many may run at once, and a
		// started job should be fetched within milliseconds, not after
		// River's default 100 ms cooldown and 1 s poll (bench/dispatch).
		FetchCooldown:     5 * time.Millisecond,
		FetchPollInterval: 250 * time.Millisecond,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 50}},
		Workers:           workers,
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
		},
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return client, nil
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
