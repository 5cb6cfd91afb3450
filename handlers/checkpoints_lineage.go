package handlers

import (
	"context"

	"github.com/google/uuid"

	"easel/store"
	"easel/views"
)

// addLineage fills the lineage of the trained LoRAs among rows.
func (h *Checkpoints) addLineage(ctx context.Context, rows []views.ModelRow) error {
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.Checkpoint.ID
	}
	found, err := store.CheckpointLineages(ctx, h.store.DB(), ids)
	if err != nil {
		return err
	}
	for i, r := range rows {
		if l, ok := found[r.Checkpoint.ID]; ok {
			rows[i].Lineage = &l
		}
	}
	return nil
}
