package actions

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"easel/internal/logx"
	"easel/jobs"
	"easel/policy"
	"easel/store"
	"easel/trainer"
)

// TrainingPage is one page of trainings and the key of the next page (""
// at the end).
type TrainingPage struct {
	Trainings []store.Training
	Next      string
}

// maxTrainingPage bounds the limit of GET /trainings.
const maxTrainingPage = 1000

// List returns the trainings actor may see, newest first: all of them
// without limit, else one page after the key after (a Next of before).
func (h *Trainings) List(ctx context.Context, actor policy.Principal, limit int, after string) (TrainingPage, error) {
	if err := h.policy.Require(actor, policy.TrainList); err != nil {
		return TrainingPage{}, err
	}
	if limit < 0 || limit > maxTrainingPage {
		return TrainingPage{}, store.FieldError("limit", "limit must be a whole number from 1 to %d", maxTrainingPage)
	}
	f := store.TrainingFilter{Limit: limit}
	if after != "" {
		cur, err := parseTrainingKey(after)
		if err != nil {
			return TrainingPage{}, err
		}
		f.After = &cur
	}
	v, err := h.Viewer(ctx, actor)
	if err != nil {
		return TrainingPage{}, err
	}
	f.VisibleTo = v
	if limit > 0 {
		f.Limit = limit + 1 // one more tells whether a next page exists
	}
	list, err := store.ListTrainings(ctx, h.store.DB(), f)
	if err != nil {
		return TrainingPage{}, err
	}
	page := TrainingPage{Trainings: list}
	if limit > 0 && len(list) > limit {
		page.Trainings = list[:limit]
		last := list[limit-1]
		page.Next = fmt.Sprintf("%d_%s", last.CreatedAt.UnixMicro(), last.ID)
	}
	return page, nil
}

// parseTrainingKey reads a last_evaluated_key of List: "<µs>_<id>".
func parseTrainingKey(key string) (store.TrainingCursor, error) {
	bad := store.FieldError("exclusive_start_key", "exclusive_start_key %q is not a key this API returned", key)
	micros, rawID, ok := strings.Cut(key, "_")
	if !ok {
		return store.TrainingCursor{}, bad
	}
	n, err := strconv.ParseInt(micros, 10, 64)
	id, idErr := uuid.Parse(rawID)
	if err != nil || idErr != nil {
		return store.TrainingCursor{}, bad
	}
	return store.TrainingCursor{CreatedAt: time.UnixMicro(n), ID: id}, nil
}

// TrainingNotFound is GET /trainings/{id}'s 404 (ESD's text).
func TrainingNotFound(id string) error {
	return store.Errorf(store.ENotFound, "Job with id %s not found", id)
}

// Get returns the training with id if actor may see it.
func (h *Trainings) Get(ctx context.Context, actor policy.Principal, rawID string) (store.Training, error) {
	if err := h.policy.Require(actor, policy.TrainList); err != nil {
		return store.Training{}, err
	}
	id, err := uuid.Parse(rawID)
	if err != nil || id.String() != rawID {
		return store.Training{}, TrainingNotFound(rawID)
	}
	v, err := h.Viewer(ctx, actor)
	if err != nil {
		return store.Training{}, err
	}
	t, err := store.FindVisibleTraining(ctx, h.store.DB(), v, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Training{}, TrainingNotFound(rawID)
	}
	return t, err
}

// Delete removes trainings (CONTRACT-TRAINING §3.5): each known id actor
// may see is stopped at its backend (errors ignored), its objects under
// kohya/train/<id> are removed and its row deleted; unknown or invisible
// ids are skipped. Without train:all only one's own trainings may go.
func (h *Trainings) Delete(ctx context.Context, actor policy.Principal, rawIDs []string) error {
	if err := h.policy.Require(actor, policy.TrainCreate); err != nil {
		return err
	}
	v, err := h.Viewer(ctx, actor)
	if err != nil {
		return err
	}
	var found []store.Training
	for _, raw := range dedupe(rawIDs) {
		id, err := uuid.Parse(raw)
		if err != nil {
			continue
		}
		t, err := store.FindVisibleTraining(ctx, h.store.DB(), v, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if !h.MayDelete(actor, t) {
			return policy.Denied(actor, policy.TrainAll)
		}
		found = append(found, t)
	}
	ids := make([]uuid.UUID, len(found))
	for i, t := range found {
		ids[i] = t.ID
		h.stop(ctx, t)
	}
	return h.store.InTx(ctx, func(tx pgx.Tx) error {
		deleted, err := store.DeleteTrainings(ctx, tx, ids)
		if err != nil {
			return err
		}
		for _, t := range deleted {
			if _, err := h.jobs.InsertTx(ctx, tx, jobs.DeletePrefixArgs{Prefix: trainPrefix(t.ID.String())}, nil); err != nil {
				return fmt.Errorf("enqueue delete: %w", err)
			}
			if err := store.Audit(ctx, tx, actor.Name(), "training.delete", t.ID.String(), t.OutputName); err != nil {
				return err
			}
		}
		return nil
	})
}

// stop asks t's backend to stop it when it runs; a failure is logged.
func (h *Trainings) stop(ctx context.Context, t store.Training) {
	if t.Finished() {
		return
	}
	b := h.backend(t.Backend)
	if b == nil {
		return
	}
	if err := b.Stop(ctx, t.ID.String(), t.JobName); err != nil {
		logx.For(ctx, h.log).Warn("stop training", "training", t.ID, "backend", t.Backend, "error", err)
	}
}

// Stop ends a running training and keeps its record (the console's
// Stop): its backend is asked to stop it, and a worker-pool training no
// worker holds is Stopped at once.
func (h *Trainings) Stop(ctx context.Context, actor policy.Principal, rawID string) error {
	t, err := h.Get(ctx, actor, rawID)
	if err != nil {
		return err
	}
	if !h.MayDelete(actor, t) {
		return policy.Denied(actor, policy.TrainAll)
	}
	if t.Finished() {
		return store.Errorf(store.EInvalid, "training %s has ended already (%s)", rawID, t.Status)
	}
	h.stop(ctx, t)
	held := t.LeaseWorker != nil && t.LeaseDeadline != nil && t.LeaseDeadline.After(h.store.Now())
	if t.Backend == trainer.Workers && !held {
		return h.Finish(ctx, rawID, trainer.Outcome{Status: trainer.Stopped, Reason: "stopped by " + actor.Name()})
	}
	return nil
}
