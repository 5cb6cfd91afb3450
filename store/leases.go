package store

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
)

// Lease is an inference leased to a worker: only the holder of Token may
// report on it or end it, until Deadline.
type Lease struct {
	Inference
	Token    uuid.UUID
	Deadline time.Time
	// Leases counts this one: 1 is the job's first lease.
	Leases int
}

// LeaseOf returns what a worker of pool may lease next: an inprogress job
// of a worker pool with no lease or an expired one.
type LeaseOf struct {
	Pool       string
	Worker     uuid.UUID
	WorkerName string
	// Loaded and Cached are the SHA-256s of the checkpoint the worker has
	// loaded and of the files it has: jobs on them come first (affinity).
	Loaded string
	Cached []string
	// OnlyLoaded keeps to jobs that need no checkpoint switch: on the
	// loaded checkpoint, or on none.
	OnlyLoaded bool
	Now        time.Time
	TTL        time.Duration
}

// LeaseInference leases the next job for a worker, oldest first after
// affinity; ErrNotFound when there is none. Concurrent callers never get
// the same job (SKIP LOCKED), and each lease has a new token.
func LeaseInference(ctx context.Context, db DBTX, q LeaseOf) (Lease, error) {
	l := Lease{Token: uuid.New(), Deadline: q.Now.Add(q.TTL)}
	row := db.QueryRow(ctx, `
		WITH next AS (
			SELECT i.id FROM inferences i
			WHERE i.status = 'inprogress' AND i.endpoint_backend = 'workers' AND i.endpoint_instance_type = $1
			  AND (i.lease_deadline IS NULL OR i.lease_deadline < $3)
			  AND (NOT $9 OR i.checkpoint_sha = $4 OR i.checkpoint_sha = '')
			ORDER BY (i.checkpoint_sha <> '' AND i.checkpoint_sha = $4) DESC,
			         (i.checkpoint_sha <> '' AND i.checkpoint_sha = ANY ($5::text[])) DESC,
			         i.start_time, i.id
			LIMIT 1
			FOR UPDATE SKIP LOCKED)
		UPDATE inferences i SET lease_token = $6, lease_worker = $2, lease_deadline = $7,
			leases = i.leases + 1, worker_name = $8, run_time = COALESCE(i.run_time, $3),
			progress = 0, stage = 'leased'
		FROM next WHERE i.id = next.id
		RETURNING `+inferenceColumns+`, i.leases`,
		q.Pool, q.Worker, q.Now, q.Loaded, nonNil(q.Cached), l.Token, l.Deadline, q.WorkerName, q.OnlyLoaded)
	inf, err := scanInference(row, &l.Leases)
	l.Inference = inf
	return l, translate("lease inference", err)
}

// LeaseState is what became of a lease a worker reports on.
type LeaseState int

// States of a lease.
const (
	LeaseHeld  LeaseState = iota // the worker still holds it
	LeaseEnded                   // same token, but the job ended (cancelled, timed out)
	LeaseLost                    // another lease replaced it, or the job is gone
)

// ExtendLease moves the deadline of job's lease token to until and records
// progress (and that its worker is alive at now), while the job runs;
// otherwise it says why not.
func ExtendLease(ctx context.Context, db DBTX, job, token uuid.UUID, now, until time.Time, progress float32, stage string) (LeaseState, error) {
	tag, err := db.Exec(ctx, `
		WITH l AS (
			UPDATE inferences SET lease_deadline = $3, progress = $4, stage = $5
			WHERE id = $1 AND lease_token = $2 AND status = 'inprogress'
			RETURNING lease_worker)
		UPDATE workers w SET last_seen = $6 FROM l WHERE w.id = l.lease_worker`,
		job, token, until, progress, stage, now)
	if err != nil {
		return LeaseLost, translate("extend lease", err)
	}
	if tag.RowsAffected() == 1 {
		return LeaseHeld, nil
	}
	return leaseState(ctx, db, job, token)
}

func leaseState(ctx context.Context, db DBTX, job, token uuid.UUID) (LeaseState, error) {
	var held bool
	err := db.QueryRow(ctx, `SELECT lease_token = $2 FROM inferences WHERE id = $1`, job, token).Scan(&held)
	switch {
	case errors.Is(translate("", err), ErrNotFound):
		return LeaseLost, nil
	case err != nil:
		return LeaseLost, translate("lease state", err)
	case held:
		return LeaseEnded, nil
	}
	return LeaseLost, nil
}

// LeaseEnd is how a worker ends a leased job.
type LeaseEnd struct {
	Status     string // InferenceSucceeded or InferenceFailed
	ImageNames []string
	Error      string
	Downloaded bool
	Switched   bool
	Now        time.Time
}

// EndLease ends job for the holder of token, exactly once: it reports
// LeaseHeld when this call ended it, else what had become of the lease.
func EndLease(ctx context.Context, db DBTX, job, token uuid.UUID, end LeaseEnd) (LeaseState, error) {
	tag, err := db.Exec(ctx, `
		UPDATE inferences SET status = $3, image_names = $4, sagemaker_raw = $5, complete_time = $6,
			downloaded = $7, switched = $8, progress = 1, stage = 'done', lease_deadline = NULL
		WHERE id = $1 AND lease_token = $2 AND status = 'inprogress'`,
		job, token, end.Status, nonNil(end.ImageNames), end.Error, end.Now, end.Downloaded, end.Switched)
	if err != nil {
		return LeaseLost, translate("end lease", err)
	}
	if tag.RowsAffected() == 1 {
		return LeaseHeld, nil
	}
	return leaseState(ctx, db, job, token)
}

// ReleaseLease gives job back to the pool (a transient failure): another
// worker may lease it after retryAt.
func ReleaseLease(ctx context.Context, db DBTX, job, token uuid.UUID, retryAt time.Time, reason string) (LeaseState, error) {
	tag, err := db.Exec(ctx, `
		UPDATE inferences SET lease_deadline = $3, stage = 'queued', progress = 0, sagemaker_raw = $4
		WHERE id = $1 AND lease_token = $2 AND status = 'inprogress'`, job, token, retryAt, reason)
	if err != nil {
		return LeaseLost, translate("release lease", err)
	}
	if tag.RowsAffected() == 1 {
		return LeaseHeld, nil
	}
	return leaseState(ctx, db, job, token)
}

// LeaseCount returns how many times job has been leased.
func LeaseCount(ctx context.Context, db DBTX, job uuid.UUID) (int, error) {
	var n int
	err := db.QueryRow(ctx, `SELECT leases FROM inferences WHERE id = $1`, job).Scan(&n)
	return n, translate("lease count", err)
}

// TimeOutWorkerJobs fails the worker-pool jobs started before cutoff that
// are still running, with reason; it returns how many.
func TimeOutWorkerJobs(ctx context.Context, db DBTX, cutoff, now time.Time, reason string) (int64, error) {
	tag, err := db.Exec(ctx, `
		UPDATE inferences SET status = 'failed', sagemaker_raw = $3, complete_time = $2, lease_deadline = NULL
		WHERE status = 'inprogress' AND endpoint_backend = 'workers' AND start_time < $1`, cutoff, now, reason)
	return tag.RowsAffected(), translate("time out worker jobs", err)
}

// FindLease returns job and the token of its current lease (uuid.Nil when
// it has none).
func FindLease(ctx context.Context, db DBTX, job uuid.UUID) (Inference, uuid.UUID, error) {
	var token *uuid.UUID
	i, err := scanInference(db.QueryRow(ctx, `SELECT `+inferenceColumns+`, i.lease_token FROM inferences i WHERE i.id = $1`, job), &token)
	if err != nil || token == nil {
		return i, uuid.Nil, translate("find lease", err)
	}
	return i, *token, nil
}
