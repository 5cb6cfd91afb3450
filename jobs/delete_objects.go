package jobs

import (
	"context"

	"github.com/riverqueue/river"
)

// DeleteObjectsArgs removes single objects: the files of a checkpoint
// whose folder it shares with others (a training's LoRAs share the
// training's output folder), so only <s3_location>/<name> goes.
type DeleteObjectsArgs struct {
	Keys []string `json:"keys"`
}

// Kind names the job in River.
func (DeleteObjectsArgs) Kind() string { return "blob_delete_objects" }

type deleteObjectsWorker struct {
	river.WorkerDefaults[DeleteObjectsArgs]
	d Deps
}

func (w *deleteObjectsWorker) Work(ctx context.Context, job *river.Job[DeleteObjectsArgs]) error {
	for _, key := range job.Args.Keys {
		if err := w.d.Blob.Delete(ctx, key); err != nil {
			return err
		}
	}
	w.d.Log.Info("deleted objects", "keys", job.Args.Keys)
	return nil
}
