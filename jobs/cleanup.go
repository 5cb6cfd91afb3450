package jobs

import (
	"context"
	"fmt"

	"easel/store"

	"github.com/riverqueue/river"
)

// DeletePrefixArgs removes every object and open upload under Prefix
// (a deleted checkpoint's files).
type DeletePrefixArgs struct {
	Prefix string `json:"prefix"`
}

// Kind names the job in River.
func (DeletePrefixArgs) Kind() string { return "blob_delete_prefix" }

type deletePrefixWorker struct {
	river.WorkerDefaults[DeletePrefixArgs]
	d Deps
}

func (w *deletePrefixWorker) Work(ctx context.Context, job *river.Job[DeletePrefixArgs]) error {
	if job.Args.Prefix == "" || job.Args.Prefix == "/" {
		return river.JobCancel(fmt.Errorf("refusing to delete the whole bucket"))
	}
	n, err := w.d.Blob.DeletePrefix(ctx, job.Args.Prefix)
	if err != nil {
		return err
	}
	w.d.Log.Info("deleted objects", "prefix", job.Args.Prefix, "count", n)
	return nil
}

// RenameArgs moves one object (a renamed checkpoint's file).
type RenameArgs struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Kind names the job in River.
func (RenameArgs) Kind() string { return "blob_rename" }

type renameWorker struct {
	river.WorkerDefaults[RenameArgs]
	d Deps
}

func (w *renameWorker) Work(ctx context.Context, job *river.Job[RenameArgs]) error {
	if err := w.d.Blob.Copy(ctx, job.Args.From, job.Args.To); err != nil {
		if _, headErr := w.d.Blob.Head(ctx, job.Args.To); headErr == nil {
			return nil // a retry after the copy and delete succeeded
		}
		return err
	}
	return w.d.Blob.Delete(ctx, job.Args.From)
}

// AbandonedUploadsArgs is the periodic clean-up of browser uploads never
// completed within the upload TTL: their uploads are aborted and their
// checkpoints removed.
type AbandonedUploadsArgs struct{}

// Kind names the job in River.
func (AbandonedUploadsArgs) Kind() string { return "checkpoint_abandoned_uploads" }

type abandonedUploadsWorker struct {
	river.WorkerDefaults[AbandonedUploadsArgs]
	d Deps
}

func (w *abandonedUploadsWorker) Work(ctx context.Context, _ *river.Job[AbandonedUploadsArgs]) error {
	return CleanAbandonedUploads(ctx, w.d)
}

// ExpiredSessionsArgs is the periodic removal of console sessions past
// their expiry.
type ExpiredSessionsArgs struct{}

// Kind names the job in River.
func (ExpiredSessionsArgs) Kind() string { return "session_cleanup" }

type expiredSessionsWorker struct {
	river.WorkerDefaults[ExpiredSessionsArgs]
	d Deps
}

func (w *expiredSessionsWorker) Work(ctx context.Context, _ *river.Job[ExpiredSessionsArgs]) error {
	return store.DeleteExpiredSessions(ctx, w.d.Store.DB(), w.d.Store.Now())
}
