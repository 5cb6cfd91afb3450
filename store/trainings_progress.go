package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// TrainingProgress is a running training's news: its status, the latest
// progress object and the loss curve with the new point (if any).
type TrainingProgress struct {
	Status    string
	Progress  json.RawMessage
	LossCurve json.RawMessage // nil leaves the curve
}

// UpdateTrainingProgress records p on the training with id unless it
// ended meanwhile; it reports whether a row changed.
func UpdateTrainingProgress(ctx context.Context, db DBTX, id uuid.UUID, p TrainingProgress, now time.Time) (bool, error) {
	tag, err := db.Exec(ctx, `UPDATE trainings SET status = $2, progress = $3, loss_curve = COALESCE($4::jsonb, loss_curve),
		updated_at = $5 WHERE id = $1 AND status NOT IN ('Completed', 'Failed', 'Stopped')`,
		id, p.Status, p.Progress, p.LossCurve, now)
	if err != nil {
		return false, translate("training progress", err)
	}
	return tag.RowsAffected() > 0, nil
}

// TrainingEnd is how a training ended.
type TrainingEnd struct {
	Status string // Completed, Failed or Stopped
	// Reason is kept in error and, for Failed and Stopped, in params.resp.
	Reason          string
	Logs            []string
	BillableSeconds *int
}

// EndTraining records the end of the training with id.
func EndTraining(ctx context.Context, db DBTX, id uuid.UUID, e TrainingEnd, now time.Time) error {
	var resp []byte
	if e.Status != "Completed" {
		resp, _ = json.Marshal(map[string]string{"status": e.Status, "error_msg": e.Reason})
	}
	tag, err := db.Exec(ctx, `UPDATE trainings SET status = $2, error = $3,
			params = CASE WHEN $4::jsonb IS NULL THEN params ELSE params || jsonb_build_object('resp', $4::jsonb) END,
			logs = $5, billable_seconds = COALESCE($6, billable_seconds), lease_token = NULL, lease_deadline = NULL,
			updated_at = $7, finished_at = $7
		WHERE id = $1`, id, e.Status, e.Reason, resp, nonNil(e.Logs), e.BillableSeconds, now)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return translate("end training", err)
}

// TrainingPools returns the pools among pools that have a worker able to
// train (can_train), in the order of pools.
func TrainingPools(ctx context.Context, db DBTX, pools []string) ([]string, error) {
	rows, err := db.Query(ctx, `SELECT p FROM unnest($1::text[]) WITH ORDINALITY AS u(p, n)
		WHERE EXISTS (SELECT 1 FROM workers w WHERE w.pool = u.p AND w.can_train) ORDER BY n`, nonNil(pools))
	if err != nil {
		return nil, translate("training pools", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, translate("training pools", err)
		}
		out = append(out, p)
	}
	return out, translate("training pools", rows.Err())
}

// FindModelByFirstName returns the oldest Active checkpoint whose first
// name is name (the base model of a training), or ErrNotFound.
func FindModelByFirstName(ctx context.Context, db DBTX, name string) (Checkpoint, error) {
	c, err := scanCheckpoint(db.QueryRow(ctx, `SELECT `+checkpointColumns+` FROM checkpoints c
		WHERE c.names[1] = $1 AND c.status = 'Active' ORDER BY c.created_at, c.id LIMIT 1`, name))
	return c, translate("find model", err)
}

// TrainingDataset is what a training needs of its dataset.
type TrainingDataset struct {
	Name   string
	Prefix string
	// FileSums are "<key> <sha256>" of its files, in key order ("" where
	// not yet known).
	FileSums []string
}

// FindTrainingDataset returns the dataset called name, or ErrNotFound.
func FindTrainingDataset(ctx context.Context, db DBTX, name string) (TrainingDataset, error) {
	d := TrainingDataset{Name: name}
	err := db.QueryRow(ctx, `SELECT d.prefix, COALESCE(array_agg(f.key || ' ' || f.sha256 ORDER BY f.key)
			FILTER (WHERE f.key IS NOT NULL), '{}')
		FROM datasets d LEFT JOIN dataset_files f ON f.dataset = d.name
		WHERE d.name = $1 GROUP BY d.prefix`, name).Scan(&d.Prefix, &d.FileSums)
	return d, translate("find dataset", err)
}
