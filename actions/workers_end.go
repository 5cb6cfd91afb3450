package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"easel/jobs"
	"easel/store"
	"easel/workerproto"
)

// Complete ends a job with the images its worker put to the staging
// uploads: they are checked and copied to the job's results, the
// parameter file written, and the job marked succeeded, exactly once. A
// worker reporting another model than the job's fails the job instead.
func (h *Workers) Complete(ctx context.Context, key store.APIKey, in workerproto.Complete) error {
	if in.Kind == workerproto.KindTraining {
		return h.completeTraining(ctx, key, in)
	}
	return h.ending(ctx, key, in.JobID, in.Token, func(tx pgx.Tx, inf store.Inference, token uuid.UUID, note *endNote) error {
		note.fetched, note.downloaded = true, in.Downloaded
		if in.Images < 1 || in.Images > jobs.MaxImages {
			return store.Errorf(store.EInvalid, "images must be 1 to %d, not %d", jobs.MaxImages, in.Images)
		}
		if want := inf.CheckpointSHA; want != "" && !strings.EqualFold(in.ModelHash, want[:10]) {
			return h.end(ctx, tx, note, inf.ID, token, store.LeaseEnd{Status: store.InferenceFailed, Downloaded: in.Downloaded, Switched: in.Switched,
				Error: fmt.Sprintf("the WebUI ran the model with hash %q, not the chosen one (%s)", in.ModelHash, want[:10])})
		}
		names, err := h.collect(ctx, inf.ID, token, in.Images)
		if err != nil {
			return err
		}
		file, _ := json.Marshal(map[string]any{"info": in.Info, "endpont_name": inf.EndpointName,
			"endpoint_name": inf.EndpointName, "inference_id": inf.ID.String(), "worker": inf.WorkerName})
		if err := h.blob.Put(ctx, jobs.ParamFileKey(inf.ID), file, "application/json"); err != nil {
			return err
		}
		return h.end(ctx, tx, note, inf.ID, token, store.LeaseEnd{Status: store.InferenceSucceeded, ImageNames: names,
			Downloaded: in.Downloaded, Switched: in.Switched})
	})
}

// collect copies the n staged images of a lease to the job's results and
// returns their names.
func (h *Workers) collect(ctx context.Context, id, token uuid.UUID, n int) ([]string, error) {
	names := make([]string, n)
	copies := make(chan error, n)
	for i := range n {
		names[i] = fmt.Sprintf("image_%d.png", i)
		go func() {
			from := fmt.Sprintf("%simage_%d.png", stagingPrefix(id, token), i)
			copies <- h.blob.Copy(ctx, from, jobs.ResultPrefix(id)+names[i])
		}()
	}
	var errs []error
	for range n {
		errs = append(errs, <-copies)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, store.Errorf(store.EInvalid, "the images were not all uploaded: %v", err)
	}
	return names, nil
}

// Fail ends a job its worker could not run: a transient failure gives it
// back to the pool (up to maxLeases leases), any other fails it.
func (h *Workers) Fail(ctx context.Context, key store.APIKey, in workerproto.Fail) error {
	if in.Kind == workerproto.KindTraining {
		return h.failTraining(ctx, key, in)
	}
	return h.ending(ctx, key, in.JobID, in.Token, func(tx pgx.Tx, inf store.Inference, token uuid.UUID, note *endNote) error {
		reason := strings.TrimSpace(in.Error)
		if reason == "" {
			reason = "the worker gave no reason"
		}
		reason = fmt.Sprintf("worker %s: %s", inf.WorkerName, reason)
		if in.Transient {
			n, err := store.LeaseCount(ctx, tx, inf.ID)
			if err != nil {
				return err
			}
			if n < maxLeases {
				st, err := store.ReleaseLease(ctx, tx, inf.ID, token, h.store.Now(), reason)
				if err != nil {
					return err
				}
				if st != store.LeaseHeld {
					return errLeaseLost
				}
				return announce(ctx, tx, inf.EndpointInstanceType, inf.CheckpointSHA)
			}
			reason = fmt.Sprintf("%s (gave up after %d attempts)", reason, n)
		}
		return h.end(ctx, tx, note, inf.ID, token, store.LeaseEnd{Status: store.InferenceFailed, Error: reason})
	})
}

// endNote is what ending learns of the job fn ended, recorded in the
// metrics once the transaction has committed.
type endNote struct {
	status string // "" while the job has not ended
	at     time.Time
	// fetched: the worker said whether it downloaded a model (Complete).
	fetched, downloaded bool
}

// ending runs fn in one transaction for the job a worker reports on, if
// that is the job's current lease and a running job of the key's pool
// (EConflict otherwise). The lease's staging uploads are removed after,
// unless the worker was told to mend its report (EInvalid).
func (h *Workers) ending(ctx context.Context, key store.APIKey, rawID, rawToken string,
	fn func(tx pgx.Tx, inf store.Inference, token uuid.UUID, note *endNote) error) error {
	id, token, err := parseLease(rawID, rawToken)
	if err != nil {
		return err
	}
	var inf store.Inference
	var note endNote
	err = h.store.InTx(ctx, func(tx pgx.Tx) error {
		note = endNote{}
		var lease uuid.UUID
		var err error
		inf, lease, err = store.FindLease(ctx, tx, id)
		if errors.Is(err, store.ErrNotFound) {
			return errLeaseLost
		}
		if err != nil {
			return err
		}
		if lease != token || inf.EndpointInstanceType != key.Pool || inf.Status != store.InferenceInProgress {
			return errLeaseLost
		}
		return fn(tx, inf, token, &note)
	})
	if err == nil && note.status != "" {
		h.recordEnd(inf, note)
	}
	if store.ErrorCode(err) != store.EInvalid {
		if _, derr := h.blob.DeletePrefix(context.WithoutCancel(ctx), stagingPrefix(id, token)); derr != nil {
			h.log.Warn("remove staging uploads", "inference", id, "error", derr)
		}
	}
	return err
}

// end records the end of job for the holder of token, exactly once, and
// notes it.
func (h *Workers) end(ctx context.Context, tx pgx.Tx, note *endNote, id, token uuid.UUID, end store.LeaseEnd) error {
	end.Now = h.store.Now()
	st, err := store.EndLease(ctx, tx, id, token, end)
	if err != nil {
		return err
	}
	if st != store.LeaseHeld {
		return errLeaseLost
	}
	note.status, note.at = end.Status, end.Now
	return nil
}

// recordEnd puts a job a worker ended in the metrics.
func (h *Workers) recordEnd(inf store.Inference, note endNote) {
	var run time.Duration
	if inf.RunTime != nil {
		run = note.at.Sub(*inf.RunTime)
	}
	h.metrics.JobFinished(inf.EndpointName, inf.EndpointBackend, note.status, run)
	if note.fetched {
		h.metrics.ModelFetch(inf.EndpointInstanceType, note.downloaded)
	}
}
