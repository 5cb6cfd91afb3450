package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"easel/store"
	"easel/trainer"
	"easel/workerproto"
)

// checkTrainer refuses a trainer kind the protocol does not name.
func checkTrainer(t string) error {
	switch t {
	case workerproto.TrainerNone, workerproto.TrainerSDScripts, workerproto.TrainerSimulator:
		return nil
	}
	return store.Errorf(store.EInvalid, "trainer must be %q, %q or empty, not %q",
		workerproto.TrainerSDScripts, workerproto.TrainerSimulator, t)
}

// trainingHeartbeat extends a training's lease and passes new progress to
// the trainings core. A training that ended or that someone asked to stop
// answers Cancelled.
func (h *Workers) trainingHeartbeat(ctx context.Context, in workerproto.Heartbeat) (workerproto.HeartbeatReply, error) {
	id, token, err := parseLease(in.JobID, in.Token)
	if err != nil {
		return workerproto.HeartbeatReply{}, err
	}
	now := h.store.Now()
	until := now.Add(h.t.leaseTTL())
	st, stored, err := store.ExtendTrainingLease(ctx, h.store.DB(), id, token, now, until)
	switch {
	case err != nil:
		return workerproto.HeartbeatReply{}, err
	case st == store.LeaseEnded:
		return workerproto.HeartbeatReply{Cancelled: true}, nil
	case st == store.LeaseLost:
		return workerproto.HeartbeatReply{}, errLeaseLost
	}
	if p, ok := trainingProgress(in.Training); ok && h.trainings != nil && changed(stored, p) {
		if err := h.trainings.Progress(ctx, id.String(), p); err != nil {
			return workerproto.HeartbeatReply{}, err
		}
	}
	return workerproto.HeartbeatReply{Deadline: workerproto.Time{Time: until}}, nil
}

// trainingProgress turns a heartbeat's report into the core's Progress.
func trainingProgress(in *workerproto.TrainingProgress) (trainer.Progress, bool) {
	if in == nil {
		return trainer.Progress{}, false
	}
	p := trainer.Progress{Status: in.Status, Epoch: max(in.Epoch, 0), Epochs: max(in.Epochs, 0),
		Step: max(in.Step, 0), Steps: max(in.Steps, 0), Loss: in.Loss}
	switch p.Status {
	case trainer.Downloading, trainer.Training, trainer.Uploading:
	default:
		p.Status = trainer.Training
	}
	if p.Loss < 0 || p.Loss != p.Loss || p.Loss > 1e9 { // negative, NaN or absurd
		p.Loss = 0
	}
	return p, true
}

// changed reports whether p says more than the progress stored (a beat
// that repeats the last one adds no point to the loss curve).
func changed(stored json.RawMessage, p trainer.Progress) bool {
	var old trainer.Progress
	if json.Unmarshal(stored, &old) != nil {
		return true
	}
	p.Status = ""
	return old != p || p.Step == 0
}

// completeTraining ends a training whose worker uploaded its result: the
// staged files are copied to the output and logs folders and the core
// registers them; a training someone asked to stop is Stopped instead.
func (h *Workers) completeTraining(ctx context.Context, key store.APIKey, in workerproto.Complete) error {
	id, token, err := parseLease(in.JobID, in.Token)
	if err != nil {
		return err
	}
	l, cancel, err := h.holdTraining(ctx, key, id, token)
	if err != nil {
		return err
	}
	defer h.dropStaging(ctx, id, token)
	if cancel {
		return h.finishTraining(ctx, id, trainer.Outcome{Status: trainer.Stopped, Reason: "cancelled"})
	}
	var res workerproto.TrainingResult
	if in.Training != nil {
		res = *in.Training
	}
	if err := h.uploaded(ctx, id); err != nil {
		return err
	}
	if len(res.Models)+len(res.Logs) > workerproto.MaxUploadFiles {
		return store.Errorf(store.EInvalid, "at most %d files", workerproto.MaxUploadFiles)
	}
	staging := trainingStaging(id, token)
	for _, p := range res.Logs {
		if checkLogPath(p) != nil {
			continue
		}
		if err := h.blob.Copy(ctx, staging+"logs/"+p, trainingLogsPrefix(id)+p); err != nil {
			h.log.Warn("a training log was not uploaded", "training", id, "log", p, "error", err)
		}
	}
	for _, m := range res.Models {
		if err := checkModelFile(l.OutputName, m); err != nil {
			return err
		}
		if err := h.blob.Copy(ctx, staging+"output/"+m, trainingOutputPrefix(id)+m); err != nil {
			return h.finishTraining(ctx, id, trainer.Outcome{Status: trainer.Failed,
				Reason: fmt.Sprintf("worker %s reported %s but it was not uploaded", l.JobName, m)})
		}
	}
	return h.finishTraining(ctx, id, trainer.Outcome{Status: trainer.Completed})
}

// uploaded records a training as Uploading, with its last progress, if
// its worker's beats did not say so before it completed.
func (h *Workers) uploaded(ctx context.Context, id uuid.UUID) error {
	t, err := store.FindTraining(ctx, h.store.DB(), id, false)
	if err != nil || t.Status == trainer.Uploading {
		return err
	}
	var p trainer.Progress
	_ = json.Unmarshal(t.Progress, &p)
	p.Status = trainer.Uploading
	return h.trainings.Progress(ctx, id.String(), p)
}

// failTraining ends a training its worker could not run: a transient
// failure gives it back to the pool (up to maxTrainingLeases leases); a
// stop someone asked for is Stopped; anything else Failed.
func (h *Workers) failTraining(ctx context.Context, key store.APIKey, in workerproto.Fail) error {
	id, token, err := parseLease(in.JobID, in.Token)
	if err != nil {
		return err
	}
	l, cancel, err := h.holdTraining(ctx, key, id, token)
	if err != nil {
		return err
	}
	defer h.dropStaging(ctx, id, token)
	if cancel {
		return h.finishTraining(ctx, id, trainer.Outcome{Status: trainer.Stopped, Reason: "cancelled"})
	}
	reason := strings.TrimSpace(in.Error)
	if reason == "" {
		reason = "the worker gave no reason"
	}
	reason = fmt.Sprintf("worker %s: %s", l.JobName, reason)
	if in.Transient {
		if l.Leases < maxTrainingLeases {
			st, err := store.ReleaseTrainingLease(ctx, h.store.DB(), id, token, h.store.Now())
			if err != nil {
				return err
			}
			if st != store.LeaseHeld {
				return errLeaseLost
			}
			h.log.Info("training handed back to its pool", "training", id, "reason", reason)
			return AnnounceTraining(ctx, h.store.DB(), l.InstanceType)
		}
		reason = fmt.Sprintf("%s (gave up after %d attempts)", reason, l.Leases)
	}
	return h.finishTraining(ctx, id, trainer.Outcome{Status: trainer.Failed, Reason: reason})
}

// endingHold is how long a training being ended keeps its lease.
const endingHold = 5 * time.Minute

// holdTraining checks that token holds the running training id of the
// key's pool and keeps others off it while it is ended; it reports
// whether someone asked to stop it.
func (h *Workers) holdTraining(ctx context.Context, key store.APIKey, id, token uuid.UUID) (store.TrainingLease, bool, error) {
	l, err := h.heldTraining(ctx, key, id, token)
	if err != nil {
		return l, false, err
	}
	st, cancel, err := store.HoldTrainingLease(ctx, h.store.DB(), id, token, h.store.Now().Add(endingHold))
	if err == nil && st != store.LeaseHeld {
		err = errLeaseLost
	}
	return l, cancel, err
}

func (h *Workers) dropStaging(ctx context.Context, id, token uuid.UUID) {
	if _, err := h.blob.DeletePrefix(context.WithoutCancel(ctx), trainingStaging(id, token)); err != nil {
		h.log.Warn("remove a training's staging uploads", "training", id, "error", err)
	}
}

// finishTraining tells the core how a training ended.
func (h *Workers) finishTraining(ctx context.Context, id uuid.UUID, o trainer.Outcome) error {
	if h.trainings == nil {
		return errors.New("no trainings core to finish the training")
	}
	err := h.trainings.Finish(context.WithoutCancel(ctx), id.String(), o)
	if err == nil {
		h.log.Info("training ended on a worker", "training", id, "status", o.Status, "reason", o.Reason)
	}
	return err
}

// sweepTrainings ends, every heartbeat interval until ctx ends, the
// trainings no worker will end: those whose workers kept dying
// (maxTrainingLeases leases, the last expired) fail, and those asked to
// stop while no worker held them are Stopped.
func (h *Workers) sweepTrainings(ctx context.Context) {
	t := time.NewTicker(h.t.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := h.SweepTrainings(ctx); err != nil && ctx.Err() == nil {
			h.log.Warn("sweeping the trainings of workers", "error", err)
		}
	}
}

// SweepTrainings is one sweep (sweepTrainings).
func (h *Workers) SweepTrainings(ctx context.Context) error {
	if h.trainings == nil {
		return nil
	}
	stale, err := store.StaleTrainings(ctx, h.store.DB(), h.store.Now(), maxTrainingLeases)
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range stale {
		o := trainer.Outcome{Status: trainer.Stopped, Reason: "cancelled"}
		if !s.Cancel {
			o = trainer.Outcome{Status: trainer.Failed, Reason: fmt.Sprintf(
				"the workers stopped reporting: the lease expired %d times (a worker died or lost its network)", s.Leases)}
		}
		errs = append(errs, h.finishTraining(ctx, s.ID, o))
	}
	return errors.Join(errs...)
}
