package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
)

// Leases of trainings on worker pools work like those of inferences
// (store/leases.go): a running training of a pool with no live lease is
// leased to one worker that can train, with a new token; only the holder
// of the token reports on it, until its deadline.

// runningTraining is the SQL condition of a training a backend still runs.
const runningTraining = `status IN ('Starting', 'Downloading', 'Training', 'Uploading')`

// TrainingLease is a training leased to a worker.
type TrainingLease struct {
	ID           uuid.UUID
	Status       string
	InstanceType string // the pool
	FMType       string
	OutputName   string
	Dataset      string
	// BaseCheckpoint is the base model's checkpoint (nil if unknown).
	BaseCheckpoint *uuid.UUID
	BaseName       string
	BaseSHA256     string
	Params         json.RawMessage
	Leases         int
	Cancel         bool   // cancel_requested
	JobName        string // backend_job_name: <pool>/<worker>
	Token          uuid.UUID
	Deadline       time.Time
}

const trainingLeaseColumns = `t.id, t.status, t.instance_type, t.fm_type, t.output_name, t.dataset, t.base_checkpoint,
	t.base_name, t.base_sha256, t.params, t.leases, t.cancel_requested, t.backend_job_name, t.lease_token, t.lease_deadline`

func scanTrainingLease(row interface{ Scan(...any) error }) (TrainingLease, error) {
	var l TrainingLease
	var token *uuid.UUID
	var deadline *time.Time
	err := row.Scan(&l.ID, &l.Status, &l.InstanceType, &l.FMType, &l.OutputName, &l.Dataset, &l.BaseCheckpoint,
		&l.BaseName, &l.BaseSHA256, &l.Params, &l.Leases, &l.Cancel, &l.JobName, &token, &deadline)
	if token != nil {
		l.Token = *token
	}
	if deadline != nil {
		l.Deadline = *deadline
	}
	return l, err
}

// TrainingLeaseOf is what a worker that can train may lease.
type TrainingLeaseOf struct {
	Pool       string
	Worker     uuid.UUID
	WorkerName string
	Trainer    string // what the worker trains with (workerproto.Trainer*)
	// MaxLeases: a training leased this often is not leased again (its
	// workers kept dying); SweepTrainings ends it.
	MaxLeases int
	Now       time.Time
	TTL       time.Duration
}

// LeaseTraining leases the oldest running training of the pool that no
// live lease holds and nobody asked to stop, naming the worker as its job
// (backend_job_name <pool>/<worker>); ErrNotFound when there is none.
func LeaseTraining(ctx context.Context, db DBTX, q TrainingLeaseOf) (TrainingLease, error) {
	l, err := scanTrainingLease(db.QueryRow(ctx, `
		WITH next AS (
			SELECT t.id FROM trainings t
			WHERE t.backend = 'workers' AND t.instance_type = $1 AND t.`+runningTraining+`
			  AND NOT t.cancel_requested AND t.leases < $7
			  AND (t.lease_deadline IS NULL OR t.lease_deadline < $3)
			ORDER BY t.created_at, t.id
			LIMIT 1
			FOR UPDATE SKIP LOCKED)
		UPDATE trainings t SET lease_token = $4, lease_worker = $2, lease_deadline = $5, leases = t.leases + 1,
			backend_job_name = $1 || '/' || $6, trainer = $8, updated_at = $3
		FROM next WHERE t.id = next.id
		RETURNING `+trainingLeaseColumns,
		q.Pool, q.Worker, q.Now, uuid.New(), q.Now.Add(q.TTL), q.WorkerName, q.MaxLeases, q.Trainer))
	return l, translate("lease training", err)
}

// FindTrainingLease returns the training with id as a lease (Token is
// uuid.Nil when none is held).
func FindTrainingLease(ctx context.Context, db DBTX, id uuid.UUID) (TrainingLease, error) {
	l, err := scanTrainingLease(db.QueryRow(ctx, `SELECT `+trainingLeaseColumns+` FROM trainings t WHERE t.id = $1`, id))
	return l, translate("find training lease", err)
}

// ExtendTrainingLease moves the deadline of a running training's lease to
// until for the holder of token (and records its worker alive at now),
// returning the progress stored so far. LeaseEnded: the holder must stop
// (the training ended, or someone asked to stop it); LeaseLost: another
// lease replaced it, or the training is gone.
func ExtendTrainingLease(ctx context.Context, db DBTX, id, token uuid.UUID, now, until time.Time) (LeaseState, json.RawMessage, error) {
	var progress json.RawMessage
	err := db.QueryRow(ctx, `
		WITH l AS (
			UPDATE trainings SET lease_deadline = $3
			WHERE id = $1 AND lease_token = $2 AND `+runningTraining+` AND NOT cancel_requested
			RETURNING lease_worker, progress),
		w AS (UPDATE workers w SET last_seen = $4 FROM l WHERE w.id = l.lease_worker)
		SELECT progress FROM l`, id, token, until, now).Scan(&progress)
	if err = translate("extend training lease", err); !errors.Is(err, ErrNotFound) {
		return LeaseHeld, progress, err
	}
	st, err := trainingLeaseState(ctx, db, id, token)
	return st, nil, err
}

func trainingLeaseState(ctx context.Context, db DBTX, id, token uuid.UUID) (LeaseState, error) {
	var held bool
	err := db.QueryRow(ctx, `SELECT lease_token IS NOT DISTINCT FROM $2 FROM trainings WHERE id = $1`, id, token).Scan(&held)
	switch err = translate("training lease state", err); {
	case errors.Is(err, ErrNotFound):
		return LeaseLost, nil
	case err != nil:
		return LeaseLost, err
	case held:
		return LeaseEnded, nil
	}
	return LeaseLost, nil
}

// HoldTrainingLease keeps a running training's lease for the holder of
// token until until while it is being ended (nobody leases it meanwhile),
// and reports whether someone asked to stop it.
func HoldTrainingLease(ctx context.Context, db DBTX, id, token uuid.UUID, until time.Time) (LeaseState, bool, error) {
	var cancel bool
	err := db.QueryRow(ctx, `
		UPDATE trainings SET lease_deadline = $3
		WHERE id = $1 AND lease_token = $2 AND `+runningTraining+`
		RETURNING cancel_requested`, id, token, until).Scan(&cancel)
	if err = translate("hold training lease", err); !errors.Is(err, ErrNotFound) {
		return LeaseHeld, cancel, err
	}
	st, err := trainingLeaseState(ctx, db, id, token)
	return st, false, err
}

// ReleaseTrainingLease gives a training back to its pool (a transient
// failure): another worker may lease it after retryAt.
func ReleaseTrainingLease(ctx context.Context, db DBTX, id, token uuid.UUID, retryAt time.Time) (LeaseState, error) {
	tag, err := db.Exec(ctx, `
		UPDATE trainings SET lease_deadline = $3, updated_at = now()
		WHERE id = $1 AND lease_token = $2 AND `+runningTraining+` AND NOT cancel_requested`, id, token, retryAt)
	if err != nil {
		return LeaseLost, translate("release training lease", err)
	}
	if tag.RowsAffected() == 1 {
		return LeaseHeld, nil
	}
	return trainingLeaseState(ctx, db, id, token)
}

// StaleTraining is a training of a worker pool that no worker will end:
// its last lease expired after MaxLeases leases, or it was asked to stop
// while no live lease held it.
type StaleTraining struct {
	ID     uuid.UUID
	Leases int
	Cancel bool
}

// StaleTrainings lists the running worker-pool trainings without a live
// lease at now that were leased maxLeases times or asked to stop.
func StaleTrainings(ctx context.Context, db DBTX, now time.Time, maxLeases int) ([]StaleTraining, error) {
	rows, err := db.Query(ctx, `
		SELECT id, leases, cancel_requested FROM trainings
		WHERE backend = 'workers' AND `+runningTraining+`
		  AND (lease_deadline IS NULL OR lease_deadline < $1)
		  AND (leases >= $2 OR cancel_requested)
		ORDER BY created_at LIMIT 100`, now, maxLeases)
	if err != nil {
		return nil, translate("stale trainings", err)
	}
	defer rows.Close()
	var out []StaleTraining
	for rows.Next() {
		var s StaleTraining
		if err := rows.Scan(&s.ID, &s.Leases, &s.Cancel); err != nil {
			return nil, translate("stale trainings", err)
		}
		out = append(out, s)
	}
	return out, translate("stale trainings", rows.Err())
}
