package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"easel/blob"
	"easel/modelfile"
	"easel/store"
)

// recordModelInfo inspects the first file of c and stores the outcome; a
// file of a kind modelfile does not read is left alone.
func recordModelInfo(ctx context.Context, d Deps, c store.Checkpoint) error {
	if c.Status != store.CheckpointActive && c.Status != store.CheckpointDisabled || len(c.Names) == 0 {
		return nil
	}
	key := strings.TrimPrefix(c.S3Location, "s3://"+d.Blob.Bucket+"/") + "/" + c.Names[0]
	info, err := inspectObject(ctx, d.Blob, key, c.Names[0])
	switch {
	case errors.Is(err, modelfile.ErrNotModel):
		return nil
	case err != nil:
		return fmt.Errorf("read model info of %s: %w", key, err)
	}
	raw, err := json.Marshal(info)
	if err != nil {
		return err
	}
	err = store.SaveModelInfo(ctx, d.Store.DB(), c.ID, raw, info.IsUnsafe(), info.Unsafe)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// inspectObject reads the object key (named name) with modelfile.
func inspectObject(ctx context.Context, b *blob.Client, key, name string) (modelfile.Info, error) {
	size, err := b.Head(ctx, key)
	if err != nil {
		return modelfile.Info{}, err
	}
	return modelfile.Inspect(b.ReaderAt(ctx, key, size), size, name)
}
