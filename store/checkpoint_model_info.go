package store

import (
	"context"

	"github.com/google/uuid"
)

// SaveModelInfo records what a checkpoint's file says about itself: info
// (JSON), whether loading it could run code, and the imports that make
// it so. A checkpoint deleted meanwhile is ErrNotFound.
func SaveModelInfo(ctx context.Context, db DBTX, id uuid.UUID, info []byte, unsafe bool, unsafeGlobals []string) error {
	tag, err := db.Exec(ctx, `
		UPDATE checkpoints SET model_info = $2, unsafe = $3, unsafe_globals = $4
		WHERE id = $1`, id, info, unsafe, nonNil(unsafeGlobals))
	if err != nil {
		return translate("save model info", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}
