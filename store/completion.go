package store

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// BeginCompletion marks the checkpoint with id as being completed, unless
// another completion began less than stale ago (then EInvalid): the
// object store may take minutes to assemble a large upload, and no row
// lock is held meanwhile. A completion that died is retried after stale.
func BeginCompletion(ctx context.Context, db DBTX, id uuid.UUID, now time.Time, stale time.Duration) error {
	tag, err := db.Exec(ctx, `
		UPDATE checkpoints SET completing_since = $2
		WHERE id = $1 AND (completing_since IS NULL OR completing_since < $3)`,
		id, now, now.Add(-stale))
	if err != nil {
		return translate("begin completion", err)
	}
	if tag.RowsAffected() == 0 {
		return Errorf(EInvalid, "checkpoint %s is being completed already; try again in a moment", id)
	}
	return nil
}

// EndCompletion clears the mark of BeginCompletion.
func EndCompletion(ctx context.Context, db DBTX, id uuid.UUID) error {
	_, err := db.Exec(ctx, `UPDATE checkpoints SET completing_since = NULL WHERE id = $1`, id)
	return translate("end completion", err)
}
