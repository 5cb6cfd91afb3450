package actions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"easel/gpu"
	"easel/jobs"
	"easel/policy"
	"easel/store"
)

// Start checks the uploaded parameters and queues the job; a Real-time job
// is then awaited up to realtimeWait for its result. The job is inprogress
// (or done) when Start returns, and finishes exactly once.
func (h *Inferences) Start(ctx context.Context, actor policy.Principal, id string, realtimeWait time.Duration) (store.Inference, error) {
	if err := h.policy.Require(actor, policy.InferenceCreate); err != nil {
		return store.Inference{}, err
	}
	job, err := h.visibleJob(ctx, h.store.DB(), actor, id, false)
	if err != nil {
		return job, err
	}
	if job.Status != store.InferenceCreated {
		return job, store.Errorf(store.EInvalid, "inference %s cannot start: it is %s already", id, job.Status)
	}
	params, err := jobs.ReadParams(ctx, h.blob, job.ParamsKey)
	if err != nil {
		return job, err
	}
	if _, err := store.FindEndpoint(ctx, h.store.DB(), job.EndpointID); errors.Is(err, store.ErrNotFound) {
		return job, store.Errorf(store.EInvalid, "endpoint %s of inference %s was deleted; create the inference again", job.EndpointName, id)
	} else if err != nil {
		return job, err
	}
	prompt := jobs.PromptOf(params)
	now := h.store.Now()
	inprogress := store.InferenceInProgress
	err = h.store.InTx(ctx, func(tx pgx.Tx) error {
		ok, err := store.UpdateInference(ctx, tx, job.ID, store.InferenceUpdate{Status: &inprogress, StartTime: &now,
			Prompt: &prompt, OnlyIf: store.InferenceCreated})
		if err != nil {
			return err
		}
		if !ok {
			return store.Errorf(store.EInvalid, "inference %s cannot start: it was started or cancelled meanwhile", id)
		}
		if err := h.queue(ctx, tx, job, params); err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor.Name(), "inference.start", id, job.EndpointName)
	})
	if err != nil {
		return job, err
	}
	job.Status, job.StartTime, job.Prompt = inprogress, now, prompt
	if job.InferenceType == gpu.Async || realtimeWait <= 0 {
		return job, nil
	}
	return h.await(ctx, job.ID, realtimeWait)
}

// queue hands a started job to its backend inside tx: worker pools lease
// it (announced to every replica's waiting workers), others run it from a
// River job.
func (h *Inferences) queue(ctx context.Context, tx pgx.Tx, job store.Inference, params []byte) error {
	if job.EndpointBackend == gpu.KindWorkers {
		return announce(ctx, tx, job.EndpointInstanceType, job.CheckpointSHA)
	}
	args := jobs.RunArgs{InferenceID: job.ID}
	if len(params) <= jobs.InlineParams {
		args.Params = params
	}
	if _, err := h.jobs.InsertTx(ctx, tx, args, nil); err != nil {
		return fmt.Errorf("enqueue inference: %w", err)
	}
	return nil
}

// await polls a job until it leaves inprogress or wait passes.
func (h *Inferences) await(ctx context.Context, id uuid.UUID, wait time.Duration) (store.Inference, error) {
	deadline := time.Now().Add(wait)
	for {
		job, err := store.FindInference(ctx, h.store.DB(), id)
		if err != nil || job.Status != store.InferenceInProgress || time.Now().After(deadline) {
			return job, err
		}
		select {
		case <-ctx.Done():
			return job, nil
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// Cancel stops a job: a created or queued one never runs, a running one
// is marked failed and its result discarded.
func (h *Inferences) Cancel(ctx context.Context, actor policy.Principal, id string) (store.Inference, error) {
	if err := h.policy.Require(actor, policy.InferenceCreate); err != nil {
		return store.Inference{}, err
	}
	var job store.Inference
	err := h.store.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		if job, err = h.visibleJob(ctx, tx, actor, id, true); err != nil {
			return err
		}
		if job.Status != store.InferenceCreated && job.Status != store.InferenceInProgress {
			return store.Errorf(store.EInvalid, "inference %s is %s already; there is nothing to cancel", id, job.Status)
		}
		failed, raw, now := store.InferenceFailed, "cancelled by "+actor.Name(), h.store.Now()
		if _, err := store.UpdateInference(ctx, tx, job.ID, store.InferenceUpdate{Status: &failed, SageMakerRaw: &raw, CompleteTime: &now}); err != nil {
			return err
		}
		job.Status, job.SageMakerRaw, job.CompleteTime = failed, raw, &now
		return store.Audit(ctx, tx, actor.Name(), "inference.cancel", id, "")
	})
	return job, err
}

// Delete removes jobs, all or none: rows at once, their parameters and
// results by a job. Ids unknown or not the actor's are skipped.
func (h *Inferences) Delete(ctx context.Context, actor policy.Principal, ids []string) error {
	// Every job a caller sees, the caller may delete.
	if err := h.policy.Require(actor, policy.InferenceList); err != nil {
		return err
	}
	return h.store.InTx(ctx, func(tx pgx.Tx) error {
		var mine []uuid.UUID
		for _, raw := range dedupe(ids) {
			job, err := h.visibleJob(ctx, tx, actor, raw, true)
			if store.ErrorCode(err) == store.ENotFound {
				continue
			}
			if err != nil {
				return err
			}
			mine = append(mine, job.ID)
		}
		deleted, err := store.DeleteInferences(ctx, tx, mine)
		if err != nil {
			return err
		}
		for _, job := range deleted {
			if err := store.Audit(ctx, tx, actor.Name(), "inference.delete", job.ID.String(), job.Owner); err != nil {
				return err
			}
			for _, prefix := range []string{fmt.Sprintf("%s/infer_v2/%s/", job.TaskType, job.ID), jobs.ResultPrefix(job.ID)} {
				if _, err := h.jobs.InsertTx(ctx, tx, jobs.DeletePrefixArgs{Prefix: prefix}, nil); err != nil {
					return fmt.Errorf("enqueue delete: %w", err)
				}
			}
		}
		return nil
	})
}

// List calls fn for each job actor may see (or, with username, that user's
// jobs), newest first.
func (h *Inferences) List(ctx context.Context, actor policy.Principal, f store.InferenceFilter, username string, fn func(store.Inference) error) error {
	if err := h.policy.Require(actor, policy.InferenceList); err != nil {
		return err
	}
	all := h.policy.Can(actor, policy.InferenceAll)
	switch {
	case username != "" && username != actor.Name():
		if !h.policy.UserExists(username) {
			return store.Errorf(store.EInvalid, "user: %q not exist", username)
		}
		if !all {
			return policy.Denied(actor, policy.InferenceAll)
		}
		f.Owner = username
	case username != "" || !all:
		f.Owner = actor.Name()
	}
	return store.ListInferences(ctx, h.store.DB(), f, fn)
}
