package actions

import (
	"context"

	"github.com/google/uuid"

	"easel/store"
	"easel/trainer"
)

// WorkersTrainer is the training backend of worker pools: workers pull
// their trainings (a row in Starting is leasable by a worker of its pool
// that can train, which names itself in sagemaker_train_name), so Start
// sends nothing and Stop marks the row for the worker to see on its next
// heartbeat.
type WorkersTrainer struct {
	store *store.Store
}

// Kind is trainer.Workers.
func (w *WorkersTrainer) Kind() string { return trainer.Workers }

// Start has nothing to send; the lease names the job later.
func (w *WorkersTrainer) Start(context.Context, trainer.Job) (string, error) { return "", nil }

// Stop asks the worker holding the training to stop it.
func (w *WorkersTrainer) Stop(ctx context.Context, id, _ string) error {
	uid, err := uuid.Parse(id)
	if err != nil {
		return err
	}
	return store.RequestTrainingCancel(ctx, w.store.DB(), uid, w.store.Now())
}
