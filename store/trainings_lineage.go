package store

import (
	"context"
	"encoding/json"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Lineage is where a trained checkpoint came from (checkpoints.lineage).
type Lineage struct {
	TrainingID       string `json:"training_id"`
	OutputName       string `json:"output_name"`
	Dataset          string `json:"dataset"`
	DatasetSHA256    string `json:"dataset_sha256"`
	BaseModel        string `json:"base_model"`
	BaseCheckpointID string `json:"base_checkpoint_id"`
	BaseSHA256       string `json:"base_sha256"`
	FMType           string `json:"fm_type"`
}

// CreateTrainedCheckpoint inserts c (a training's result) with its size
// and lineage.
func CreateTrainedCheckpoint(ctx context.Context, db DBTX, c Checkpoint, size int64, l Lineage) error {
	if err := CreateCheckpoint(ctx, db, c); err != nil {
		return err
	}
	raw, _ := json.Marshal(l)
	_, err := db.Exec(ctx, `UPDATE checkpoints SET lineage = $2, size_bytes = $3 WHERE id = $1`, c.ID, raw, size)
	return translate("checkpoint lineage", err)
}

// CheckpointLineages returns the lineage of those of ids that have one.
func CheckpointLineages(ctx context.Context, db DBTX, ids []uuid.UUID) (map[uuid.UUID]Lineage, error) {
	rows, err := db.Query(ctx, `SELECT id, lineage FROM checkpoints WHERE id = ANY ($1) AND lineage IS NOT NULL`, ids)
	if err != nil {
		return nil, translate("checkpoint lineages", err)
	}
	defer rows.Close()
	out := map[uuid.UUID]Lineage{}
	for rows.Next() {
		var id uuid.UUID
		var raw []byte
		if err := rows.Scan(&id, &raw); err != nil {
			return nil, translate("checkpoint lineages", err)
		}
		var l Lineage
		if json.Unmarshal(raw, &l) == nil {
			out[id] = l
		}
	}
	return out, translate("checkpoint lineages", rows.Err())
}

// TrainedCheckpoints returns the checkpoints a training produced, by name.
func TrainedCheckpoints(ctx context.Context, db DBTX, trainingID uuid.UUID) ([]Checkpoint, error) {
	rows, err := db.Query(ctx, `SELECT `+checkpointColumns+` FROM checkpoints c
		WHERE c.lineage->>'training_id' = $1 ORDER BY c.names[1]`, trainingID.String())
	if err != nil {
		return nil, translate("trained checkpoints", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Checkpoint, error) { return scanCheckpoint(r) })
	return out, translate("trained checkpoints", err)
}
