package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"easel/store"
)

// OrphanedUploadsArgs is the periodic abort of the multipart uploads of
// checkpoint files that no live job owns: those of an import or a rename
// whose replica was killed, of a checkpoint deleted meanwhile, or of a
// finished one. Browser uploads are the client's until EASEL_UPLOAD_TTL
// (CleanAbandonedUploads); uploads outside checkpoint folders are not
// touched.
type OrphanedUploadsArgs struct{}

// Kind names the job in River.
func (OrphanedUploadsArgs) Kind() string { return "blob_orphaned_uploads" }

type orphanedUploadsWorker struct {
	river.WorkerDefaults[OrphanedUploadsArgs]
	d Deps
}

func (w *orphanedUploadsWorker) Work(ctx context.Context, _ *river.Job[OrphanedUploadsArgs]) error {
	n, err := AbortOrphanedUploads(ctx, w.d)
	if n > 0 {
		w.d.Log.Info("aborted orphaned multipart uploads", "count", n)
	}
	return err
}

// checkpointFile matches the key of a checkpoint's file:
// <type>/checkpoint/custom/<id>/<name>.
var checkpointFile = regexp.MustCompile(`^[^/]+/checkpoint/custom/([0-9a-f-]{36})/`)

// AbortOrphanedUploads aborts the open multipart uploads under checkpoint
// folders that no live job owns and that started more than
// EASEL_RESCUE_AFTER ago, and returns how many it aborted. A live job is
// one running on a replica seen within EASEL_RESCUE_AFTER: an import owns
// its checkpoint's uploads, a rename its destination's.
func AbortOrphanedUploads(ctx context.Context, d Deps) (int, error) {
	uploads, err := d.Blob.ListMultipartUploads(ctx, "")
	if err != nil || len(uploads) == 0 {
		return 0, err
	}
	imports, renames, err := liveUploads(ctx, d)
	if err != nil {
		return 0, err
	}
	cutoff := d.Store.Now().Add(-d.Cfg.RescueAfter)
	aborted := 0
	for _, u := range uploads {
		m := checkpointFile.FindStringSubmatch(u.Key)
		if m == nil || u.Initiated.After(cutoff) || renames[u.Key] {
			continue
		}
		id, err := uuid.Parse(m[1])
		if err != nil || imports[id] {
			continue
		}
		c, err := store.FindCheckpoint(ctx, d.Store.DB(), id)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return aborted, err
		case c.Status == store.CheckpointInitial && c.SourceURL == "":
			continue // a browser upload: the client's until the upload TTL
		}
		if err := d.Blob.AbortMultipartUpload(ctx, u.Key, u.UploadID); err != nil {
			return aborted, err
		}
		aborted++
	}
	return aborted, nil
}

// liveUploads returns what the live import and rename jobs own: the
// checkpoints being imported and the keys being copied to.
func liveUploads(ctx context.Context, d Deps) (imports map[uuid.UUID]bool, renames map[string]bool, err error) {
	imports, renames = map[uuid.UUID]bool{}, map[string]bool{}
	args, err := liveJobArgs(ctx, d.Store, ImportArgs{}.Kind(), d.Cfg.RescueAfter)
	if err != nil {
		return nil, nil, err
	}
	for _, raw := range args {
		var a ImportArgs
		if json.Unmarshal(raw, &a) == nil {
			imports[a.CheckpointID] = true
		}
	}
	if args, err = liveJobArgs(ctx, d.Store, RenameArgs{}.Kind(), d.Cfg.RescueAfter); err != nil {
		return nil, nil, err
	}
	for _, raw := range args {
		var a RenameArgs
		if json.Unmarshal(raw, &a) == nil {
			renames[a.To] = true
		}
	}
	return imports, renames, nil
}
