package jobs

import (
	"context"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"easel/store"
)

// CleanAbandonedUploads aborts the uploads of checkpoints still Initial
// after the upload TTL, removes what they stored, then the rows. Objects go
// first, so a failure leaves a row to retry, never an orphaned upload.
func CleanAbandonedUploads(ctx context.Context, d Deps) error {
	old, err := store.AbandonedUploads(ctx, d.Store.DB(), d.Store.Now().Add(-d.Cfg.UploadTTL))
	if err != nil {
		return err
	}
	for _, c := range old {
		prefix := strings.TrimPrefix(c.S3Location, "s3://"+d.Blob.Bucket+"/") + "/"
		if _, err := d.Blob.DeletePrefix(ctx, prefix); err != nil {
			return err
		}
		err := d.Store.InTx(ctx, func(tx pgx.Tx) error {
			if _, err := store.DeleteCheckpoints(ctx, tx, []uuid.UUID{c.ID}); err != nil {
				return err
			}
			return store.Audit(ctx, tx, store.SystemActor, "checkpoint.abandoned", c.ID.String(), strings.Join(c.Names, ","))
		})
		if err != nil {
			return err
		}
		d.Log.Info("removed abandoned upload", "checkpoint", c.ID, "created", c.CreatedAt)
	}
	return nil
}
