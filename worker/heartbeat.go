package worker

import (
	"context"
	"errors"
	"sync"
	"time"

	"easel/workerproto"
)

// Stages a heartbeat reports.
const (
	stageDownloading = "downloading"
	stageSwitching   = "switching"
	stageGenerating  = "generating"
	stageUploading   = "uploading"
)

// Why a job stopped before its end (the cause of its context).
var (
	errCancelled = errors.New("cancelled in Easel")
	errShutdown  = errors.New("the worker is shutting down")
	errDeadline  = errors.New("the job's deadline passed")
)

// jobState is what the job goroutine tells the heartbeat goroutine.
type jobState struct {
	mu       sync.Mutex
	stage    string
	progress float64
	step     int
	steps    int
	deadline time.Time
	// training is a training's progress (nil for an inference).
	training *workerproto.TrainingProgress
}

// setTraining records a training's progress.
func (s *jobState) setTraining(p workerproto.TrainingProgress) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.training = &p
}

// trainingProgress returns a copy of a training's progress.
func (s *jobState) trainingProgress() workerproto.TrainingProgress {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.training == nil {
		return workerproto.TrainingProgress{Status: workerproto.TrainingDownloading}
	}
	return *s.training
}

// updateTraining changes a training's progress under the lock.
func (s *jobState) updateTraining(f func(p *workerproto.TrainingProgress)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.training == nil {
		s.training = &workerproto.TrainingProgress{Status: workerproto.TrainingDownloading}
	}
	f(s.training)
}

func (s *jobState) set(stage string, progress float64, step, steps int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stage, s.progress, s.step, s.steps = stage, progress, step, steps
}

func (s *jobState) stageNow() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stage
}

func (s *jobState) get() (stage string, progress float64, step, steps int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stage, s.progress, s.step, s.steps
}

// heartbeats beats every HeartbeatInterval until ctx is done. It stops
// the job (cancel with a cause) when Easel says Cancelled, when the lease
// is lost, or when the deadline passes. A beat that fails otherwise is
// only logged: the next one may pass, and a lease that expired meanwhile
// shows as a 409.
func (w *Worker) heartbeats(ctx context.Context, job *workerproto.Job, st *jobState, stop context.CancelCauseFunc) {
	interval := w.welcome.HeartbeatInterval.Duration
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st.mu.Lock()
		deadline := st.deadline
		st.mu.Unlock()
		if !deadline.IsZero() && time.Now().After(deadline) {
			stop(errDeadline)
			return
		}
		hb := w.progress(ctx, job, st)
		var reply workerproto.HeartbeatReply
		_, err := w.call(ctx, workerproto.PathHeartbeat, max(interval, 10*time.Second), hb, &reply)
		switch {
		case errors.Is(err, errLeaseLost):
			stop(errLeaseLost)
			return
		case err != nil:
			if ctx.Err() == nil {
				w.log.Warn("heartbeat failed", "job", job.ID, "error", err)
			}
			continue
		case reply.Cancelled:
			stop(errCancelled)
			return
		}
		if !reply.Deadline.IsZero() {
			st.mu.Lock()
			st.deadline = reply.Deadline.Time
			st.mu.Unlock()
		}
	}
}

// progress builds a heartbeat, asking the WebUI how far it is while it
// generates.
func (w *Worker) progress(ctx context.Context, job *workerproto.Job, st *jobState) workerproto.Heartbeat {
	if job.Kind == workerproto.KindTraining {
		p := st.trainingProgress()
		return workerproto.Heartbeat{JobID: job.ID, Token: job.Token, Kind: job.Kind, Training: &p, Stage: st.stageNow()}
	}
	stage, fraction, step, steps := st.get()
	if stage == stageSwitching || stage == stageGenerating {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		p, err := w.backend.Progress(pctx)
		cancel()
		if err == nil {
			fraction, step, steps = p.Fraction, p.Step, p.Steps
			if stage == stageSwitching && p.Steps > 0 && p.Step > 0 {
				stage = stageGenerating
				st.set(stage, fraction, step, steps)
			}
		}
	}
	return workerproto.Heartbeat{JobID: job.ID, Token: job.Token, Progress: fraction,
		Step: step, Steps: steps, Stage: stage}
}
