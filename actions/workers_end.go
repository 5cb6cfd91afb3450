package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"easel/jobs"
	"easel/store"
	"easel/workerproto"
)

// Complete ends a job with the images its worker put to the staging
// uploads: they are checked and copied to the job's results, the
// parameter file written, and the job marked succeeded, exactly once. A
// worker reporting another model than the job's fails the job instead.
func (h *Workers) Complete(ctx context.Context, key store.APIKey, in workerproto.Complete) error {
	inf, token, err := h.heldJob(ctx, key, in.JobID, in.Token)
	if err != nil {
		return err
	}
	id := inf.ID
	if in.Images < 1 || in.Images > jobs.MaxImages {
		return store.Errorf(store.EInvalid, "images must be 1 to %d, not %d", jobs.MaxImages, in.Images)
	}
	if want := inf.CheckpointSHA; want != "" && !strings.EqualFold(in.ModelHash, want[:10]) {
		return h.end(ctx, inf, token, store.LeaseEnd{Status: store.InferenceFailed, Downloaded: in.Downloaded, Switched: in.Switched,
			Error: fmt.Sprintf("the WebUI ran the model with hash %q, not the chosen one (%s)", in.ModelHash, want[:10])})
	}
	names := make([]string, in.Images)
	copies := make(chan error, in.Images)
	for n := range in.Images {
		names[n] = fmt.Sprintf("image_%d.png", n)
		go func() {
			from := fmt.Sprintf("%simage_%d.png", stagingPrefix(id, token), n)
			copies <- h.blob.Copy(ctx, from, jobs.ResultPrefix(id)+names[n])
		}()
	}
	var errs []error
	for range in.Images {
		errs = append(errs, <-copies)
	}
	if err := errors.Join(errs...); err != nil {
		return store.Errorf(store.EInvalid, "the images were not all uploaded: %v", err)
	}
	file, _ := json.Marshal(map[string]any{"info": in.Info, "endpont_name": inf.EndpointName,
		"endpoint_name": inf.EndpointName, "inference_id": id.String(), "worker": inf.WorkerName})
	if err := h.blob.Put(ctx, jobs.ParamFileKey(id), file, "application/json"); err != nil {
		return err
	}
	return h.end(ctx, inf, token, store.LeaseEnd{Status: store.InferenceSucceeded, ImageNames: names,
		Downloaded: in.Downloaded, Switched: in.Switched})
}

// Fail ends a job its worker could not run: a transient failure gives it
// back to the pool (up to maxLeases leases), any other fails it.
func (h *Workers) Fail(ctx context.Context, key store.APIKey, in workerproto.Fail) error {
	inf, token, err := h.heldJob(ctx, key, in.JobID, in.Token)
	if err != nil {
		return err
	}
	id := inf.ID
	reason := strings.TrimSpace(in.Error)
	if reason == "" {
		reason = "the worker gave no reason"
	}
	reason = fmt.Sprintf("worker %s: %s", inf.WorkerName, reason)
	if in.Transient {
		n, err := store.LeaseCount(ctx, h.store.DB(), id)
		if err != nil {
			return err
		}
		if n < maxLeases {
			st, err := store.ReleaseLease(ctx, h.store.DB(), id, token, h.store.Now(), reason)
			if err != nil {
				return err
			}
			if st != store.LeaseHeld {
				return errLeaseLost
			}
			return announce(ctx, h.store.DB(), inf.EndpointInstanceType, inf.CheckpointSHA)
		}
		reason = fmt.Sprintf("%s (gave up after %d attempts)", reason, n)
	}
	return h.end(ctx, inf, token, store.LeaseEnd{Status: store.InferenceFailed, Error: reason})
}

// heldJob returns the job a worker reports on, and its lease token, if
// that is the job's current lease and a running job of the key's pool;
// EConflict otherwise.
func (h *Workers) heldJob(ctx context.Context, key store.APIKey, rawID, rawToken string) (store.Inference, uuid.UUID, error) {
	id, token, err := parseLease(rawID, rawToken)
	if err != nil {
		return store.Inference{}, token, err
	}
	inf, lease, err := store.FindLease(ctx, h.store.DB(), id)
	if errors.Is(err, store.ErrNotFound) {
		return inf, token, errLeaseLost
	}
	if err != nil {
		return inf, token, err
	}
	if lease != token || inf.EndpointInstanceType != key.Pool || inf.Status != store.InferenceInProgress {
		return inf, token, errLeaseLost
	}
	return inf, token, nil
}

// end records the end of a job for the holder of token, exactly once, and
// removes the staging uploads.
func (h *Workers) end(ctx context.Context, inf store.Inference, token uuid.UUID, end store.LeaseEnd) error {
	end.Now = h.store.Now()
	st, err := store.EndLease(ctx, h.store.DB(), inf.ID, token, end)
	if err != nil {
		return err
	}
	if _, err := h.blob.DeletePrefix(context.WithoutCancel(ctx), stagingPrefix(inf.ID, token)); err != nil {
		h.log.Warn("remove staging uploads", "inference", inf.ID, "error", err)
	}
	if st != store.LeaseHeld {
		return errLeaseLost
	}
	return nil
}
