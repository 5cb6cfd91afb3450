package jobs

import (
	"context"
	"errors"
	"sync"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"easel/gpu/sagemaker"
	"easel/store"
	"easel/trainer"
)

// TrainingDescriber reads a SageMaker training job (*sagemaker.Trainer).
type TrainingDescriber interface {
	Describe(ctx context.Context, jobName string) (sagemaker.TrainingState, error)
}

// TrainingWatchArgs follows a SageMaker training job: it describes the
// job every EASEL_RECONCILE_INTERVAL and reports its status until it ends
// (ESD listened to EventBridge instead).
type TrainingWatchArgs struct {
	TrainingID string `json:"training_id"`
	JobName    string `json:"job_name"`
}

// Kind names the job in River.
func (TrainingWatchArgs) Kind() string { return "training_watch" }

type trainingWatchWorker struct {
	river.WorkerDefaults[TrainingWatchArgs]
	d Deps
}

func (w *trainingWatchWorker) Work(ctx context.Context, job *river.Job[TrainingWatchArgs]) error {
	id := job.Args.TrainingID
	uid, err := uuid.Parse(id)
	if err != nil {
		return river.JobCancel(err)
	}
	if _, err := store.FindTraining(ctx, w.d.Store.DB(), uid, false); errors.Is(err, store.ErrNotFound) {
		return nil // deleted: its job was stopped then
	} else if err != nil {
		return err
	}
	if w.d.SageMakerTraining == nil || w.d.Reporter == nil {
		return errors.New("SageMaker training is not configured on this server")
	}
	st, err := w.d.SageMakerTraining.Describe(ctx, job.Args.JobName)
	if err != nil {
		return err
	}
	if st.Ended() {
		return w.d.Reporter.Finish(ctx, id, trainer.Outcome{Status: st.Status, Reason: st.Reason, BillableSeconds: st.BillableSeconds})
	}
	if err := w.d.Reporter.Progress(ctx, id, trainer.Progress{Status: st.Status}); err != nil {
		return err
	}
	return river.JobSnooze(w.d.Cfg.ReconcileEvery)
}

// ReporterSlot is a trainer.Reporter set after the River client is built
// (the actions that report need the client to exist first). Until Set,
// reports fail and their jobs retry.
type ReporterSlot struct {
	mu sync.RWMutex
	r  trainer.Reporter
}

// Set makes r receive the reports.
func (s *ReporterSlot) Set(r trainer.Reporter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.r = r
}

func (s *ReporterSlot) get() (trainer.Reporter, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.r == nil {
		return nil, errors.New("the trainings are not ready yet")
	}
	return s.r, nil
}

// Progress forwards to the reporter set.
func (s *ReporterSlot) Progress(ctx context.Context, id string, p trainer.Progress) error {
	r, err := s.get()
	if err != nil {
		return err
	}
	return r.Progress(ctx, id, p)
}

// Finish forwards to the reporter set.
func (s *ReporterSlot) Finish(ctx context.Context, id string, o trainer.Outcome) error {
	r, err := s.get()
	if err != nil {
		return err
	}
	return r.Finish(ctx, id, o)
}
