package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"easel/blob"
	"easel/store"
)

// ChecksumArgs records the SHA-256 of a checkpoint's file after a browser
// upload completed or a training registered it (URL imports hash while
// they stream), then what the file says about itself (model_info.go). The
// file is read back from the store in a stream, never held in memory.
type ChecksumArgs struct {
	CheckpointID uuid.UUID `json:"checkpoint_id"`
}

// Kind names the job in River.
func (ChecksumArgs) Kind() string { return "checkpoint_checksum" }

type checksumWorker struct {
	river.WorkerDefaults[ChecksumArgs]
	d Deps
}

func (w *checksumWorker) Work(ctx context.Context, job *river.Job[ChecksumArgs]) error {
	// The row names the file: read it now, since a rename may have moved it.
	c, err := store.FindCheckpoint(ctx, w.d.Store.DB(), job.Args.CheckpointID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted meanwhile
	}
	if err != nil {
		return err
	}
	if c.Status != store.CheckpointActive && c.Status != store.CheckpointDisabled || len(c.Names) == 0 {
		return nil
	}
	key := strings.TrimPrefix(c.S3Location, "s3://"+w.d.Blob.Bucket+"/") + "/" + c.Names[0]
	sum, err := objectSHA256(ctx, w.d.Blob, key)
	if err != nil {
		return fmt.Errorf("checksum %s: %w", key, err)
	}
	err = store.UpdateCheckpoint(ctx, w.d.Store.DB(), c.ID, store.CheckpointUpdate{SHA256: &sum}, w.d.Store.Now())
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return recordModelInfo(ctx, w.d, c)
}

// objectSHA256 streams the object at key and returns its hex SHA-256.
func objectSHA256(ctx context.Context, b *blob.Client, key string) (string, error) {
	r, err := b.Get(ctx, key)
	if err != nil {
		return "", err
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
