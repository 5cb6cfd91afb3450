package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Training is one kohya LoRA training (CONTRACT-TRAINING §3).
type Training struct {
	ID            uuid.UUID
	Status        string
	LoraTrainType string
	TrainType     string
	ModelID       string
	OutputName    string
	InstanceType  string
	Backend       string // trainer.SageMaker or trainer.Workers
	FMType        string
	Dataset       string
	// The base model: its checkpoint, file name and SHA-256.
	BaseCheckpoint *uuid.UUID
	BaseName       string
	BaseSHA256     string
	DatasetSHA256  string
	// Params are the params POST /trainings answered (numbers kept).
	Params       json.RawMessage
	AllowedRoles []string
	Creator      string
	// JobName is sagemaker_train_name: the SageMaker job or <pool>/<worker>.
	JobName string
	// Trainer is what the worker that leased it runs: "sd-scripts",
	// "simulator" (Easel's training simulator) or "" (SageMaker, not yet leased).
	Trainer         string
	Error           string
	Logs            []string
	Progress        json.RawMessage
	LossCurve       json.RawMessage
	BillableSeconds *int
	CancelRequested bool
	// LeaseWorker holds the worker of the pool that leased it, if any.
	LeaseWorker   *uuid.UUID
	LeaseDeadline *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
	FinishedAt    *time.Time
}

// Finished reports whether the training ended (Completed, Failed, Stopped).
func (t Training) Finished() bool {
	return t.Status == "Completed" || t.Status == "Failed" || t.Status == "Stopped"
}

const trainingColumns = `t.id, t.status, t.lora_train_type, t.train_type, t.model_id, t.output_name, t.instance_type,
	t.backend, t.fm_type, t.dataset, t.base_checkpoint, t.base_name, t.base_sha256, t.dataset_sha256, t.params,
	t.allowed_roles, t.creator, t.backend_job_name, t.trainer, t.error, t.logs, t.progress, t.loss_curve, t.billable_seconds,
	t.cancel_requested, t.lease_worker, t.lease_deadline, t.created_at, t.updated_at, t.finished_at`

func scanTraining(row interface{ Scan(...any) error }) (Training, error) {
	var t Training
	err := row.Scan(&t.ID, &t.Status, &t.LoraTrainType, &t.TrainType, &t.ModelID, &t.OutputName, &t.InstanceType,
		&t.Backend, &t.FMType, &t.Dataset, &t.BaseCheckpoint, &t.BaseName, &t.BaseSHA256, &t.DatasetSHA256, &t.Params,
		&t.AllowedRoles, &t.Creator, &t.JobName, &t.Trainer, &t.Error, &t.Logs, &t.Progress, &t.LossCurve, &t.BillableSeconds,
		&t.CancelRequested, &t.LeaseWorker, &t.LeaseDeadline, &t.CreatedAt, &t.UpdatedAt, &t.FinishedAt)
	return t, err
}

func collectTrainings(rows pgx.Rows) ([]Training, error) {
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Training, error) { return scanTraining(r) })
	if out == nil {
		out = []Training{}
	}
	return out, err
}

// CreateTraining inserts t; an output name another training uses is
// ESD's name-clash error.
func CreateTraining(ctx context.Context, db DBTX, t Training) error {
	_, err := db.Exec(ctx, `
		INSERT INTO trainings (id, status, lora_train_type, train_type, model_id, output_name, instance_type, backend,
			fm_type, dataset, base_checkpoint, base_name, base_sha256, dataset_sha256, params, allowed_roles, creator,
			created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18)`,
		t.ID, t.Status, t.LoraTrainType, t.TrainType, t.ModelID, t.OutputName, t.InstanceType, t.Backend,
		t.FMType, t.Dataset, t.BaseCheckpoint, t.BaseName, t.BaseSHA256, t.DatasetSHA256, t.Params,
		nonNil(t.AllowedRoles), t.Creator, t.CreatedAt)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return NameTakenError(t.OutputName + ".safetensors")
	}
	return translate("create training", err)
}

// FindTraining returns the training with id, or ErrNotFound. With lock,
// the row is held until the transaction ends.
func FindTraining(ctx context.Context, db DBTX, id uuid.UUID, lock bool) (Training, error) {
	sql := `SELECT ` + trainingColumns + ` FROM trainings t WHERE t.id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	t, err := scanTraining(db.QueryRow(ctx, sql, id))
	return t, translate("find training", err)
}

// FindVisibleTraining returns the training with id if v may see it (nil
// sees all); one v may not see is ErrNotFound, like a missing one.
func FindVisibleTraining(ctx context.Context, db DBTX, v *Viewer, id uuid.UUID) (Training, error) {
	t, err := scanTraining(db.QueryRow(ctx, `SELECT `+trainingColumns+` FROM trainings t
		WHERE `+visibleTo("t.allowed_roles")+` AND t.id = $4`, append(viewerArgs(v), id)...))
	return t, translate("find training", err)
}

// TrainingCursor is where a page of trainings continues: after the row
// created at CreatedAt with ID (newest first).
type TrainingCursor struct {
	CreatedAt time.Time
	ID        uuid.UUID
}

// TrainingFilter narrows ListTrainings.
type TrainingFilter struct {
	VisibleTo *Viewer
	After     *TrainingCursor
	// Limit bounds the page; 0 lists every row.
	Limit int
}

// ListTrainings returns the trainings v may see, newest first, from
// After on, at most Limit (all when 0).
func ListTrainings(ctx context.Context, db DBTX, f TrainingFilter) ([]Training, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 1 << 30
	}
	var after *time.Time
	var afterID uuid.UUID
	if f.After != nil {
		after, afterID = &f.After.CreatedAt, f.After.ID
	}
	rows, err := db.Query(ctx, `SELECT `+trainingColumns+` FROM trainings t
		WHERE `+visibleTo("t.allowed_roles")+`
		AND ($4::timestamptz IS NULL OR (t.created_at, t.id) < ($4, $5))
		ORDER BY t.created_at DESC, t.id DESC LIMIT $6`,
		append(viewerArgs(f.VisibleTo), after, afterID, limit)...)
	if err != nil {
		return nil, translate("list trainings", err)
	}
	out, err := collectTrainings(rows)
	return out, translate("list trainings", err)
}

// TrainingOutputTaken reports whether a training uses output name.
func TrainingOutputTaken(ctx context.Context, db DBTX, name string) (bool, error) {
	var taken bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM trainings WHERE output_name = $1)`, name).Scan(&taken)
	return taken, translate("training output taken", err)
}

// StartedTraining records that the backend accepted the training: status
// Starting and the backend's job name.
func StartedTraining(ctx context.Context, db DBTX, id uuid.UUID, jobName string, now time.Time) error {
	tag, err := db.Exec(ctx, `UPDATE trainings SET status = 'Starting', backend_job_name = $2, updated_at = $3
		WHERE id = $1 AND status = 'Initial'`, id, jobName, now)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return translate("start training", err)
}

// RequestTrainingCancel marks a running training so its worker stops it.
func RequestTrainingCancel(ctx context.Context, db DBTX, id uuid.UUID, now time.Time) error {
	_, err := db.Exec(ctx, `UPDATE trainings SET cancel_requested = true, updated_at = $2
		WHERE id = $1 AND status NOT IN ('Completed', 'Failed', 'Stopped')`, id, now)
	return translate("cancel training", err)
}

// DeleteTrainings removes the trainings with these ids and returns them.
func DeleteTrainings(ctx context.Context, db DBTX, ids []uuid.UUID) ([]Training, error) {
	rows, err := db.Query(ctx, `DELETE FROM trainings t WHERE t.id = ANY ($1) RETURNING `+trainingColumns, ids)
	if err != nil {
		return nil, translate("delete trainings", err)
	}
	out, err := collectTrainings(rows)
	return out, translate("delete trainings", err)
}
