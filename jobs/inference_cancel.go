package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"easel/store"
)

// cancelPoll is how often a running inference checks whether it was
// cancelled.
var cancelPoll = time.Second

// errCancelled ends a running inference's context when the job stopped
// being inprogress meanwhile (a user cancelled it).
var errCancelled = errors.New("the inference was cancelled while it ran")

// watchCancel returns ctx, cancelled with errCancelled as soon as the job
// id is no longer inprogress, so that the backend stops the GPU's work (a
// WebUI member is interrupted: dropping the connection would not stop
// it). stop ends the watch.
func (w *runWorker) watchCancel(ctx context.Context, id uuid.UUID) (watched context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(cancelPoll)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			inf, err := store.FindInference(ctx, w.d.Store.DB(), id)
			if errors.Is(err, store.ErrNotFound) || err == nil && inf.Status != store.InferenceInProgress {
				cancel(errCancelled)
				return
			}
		}
	}()
	return ctx, func() { close(done); cancel(nil) }
}
