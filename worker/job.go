package worker

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"easel/workerproto"
)

// jobError is a job failure with its verdict: transient ones may
// succeed on another worker.
type jobError struct {
	reason    string
	transient bool
}

func (e *jobError) Error() string { return e.reason }

// runJob does one leased job and reports its end to Easel: Complete,
// Fail, or nothing when the lease is lost. Cancelling ctx (shutdown)
// leaves the job Grace to finish; then it is interrupted and failed as
// transient.
func (w *Worker) runJob(ctx context.Context, job *workerproto.Job) {
	st := &jobState{stage: stageDownloading, deadline: job.Deadline.Time}
	w.runLeased(ctx, job, st, w.execute)
}

// runLeased runs a leased job (an inference or a training) with
// heartbeats, gives it Grace at shutdown, and reports its end.
func (w *Worker) runLeased(ctx context.Context, job *workerproto.Job, st *jobState,
	execute func(context.Context, *workerproto.Job, *jobState) (workerproto.Complete, error)) {
	log := w.log.With("job", job.ID)
	jctx, stop := context.WithCancelCause(context.WithoutCancel(ctx))
	defer stop(nil)
	go func() {
		select {
		case <-ctx.Done():
		case <-jctx.Done():
			return
		}
		log.Info("shutting down: the running job has a grace period", "grace", w.cfg.Grace)
		t := time.NewTimer(w.cfg.Grace)
		defer t.Stop()
		select {
		case <-t.C:
			stop(errShutdown)
		case <-jctx.Done():
		}
	}()

	hctx, stopBeats := context.WithCancel(jctx)
	beating := make(chan struct{})
	go func() {
		defer close(beating)
		w.heartbeats(hctx, job, st, stop)
	}()
	done, err := execute(jctx, job, st)
	stopBeats()
	<-beating

	// Complete and Fail are sent even when shutting down.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*w.welcome.LeaseTTL.Duration+callTimeout)
	defer cancel()
	if err == nil {
		err = w.callRetrying(rctx, workerproto.PathComplete, 0, done, nil)
		switch {
		case errors.Is(err, errLeaseLost):
			log.Warn("the job was done but its lease is lost; dropped", "error", err)
		case err != nil:
			log.Error("reporting the job complete failed", "error", err)
		default:
			log.Info("job complete", "images", done.Images, "downloaded", done.Downloaded, "switched", done.Switched)
		}
		return
	}
	f := workerproto.Fail{JobID: job.ID, Token: job.Token, Error: err.Error(), Transient: true, Kind: job.Kind}
	var je *jobError
	switch cause := context.Cause(jctx); {
	case errors.Is(cause, errLeaseLost):
		log.Warn("the lease is lost; job dropped")
		return
	case errors.Is(cause, errCancelled):
		f.Error, f.Transient = "cancelled", false
	case errors.Is(cause, errDeadline):
		f.Error, f.Transient = cause.Error(), false
	case errors.Is(cause, errShutdown):
		f.Error = "the worker shut down before the job ended (interrupted after the grace period)"
	case errors.As(err, &je):
		f.Transient = je.transient
	case errors.Is(err, ErrRejected):
		f.Transient = false
	}
	err = w.callRetrying(rctx, workerproto.PathFail, 0, f, nil)
	switch {
	case errors.Is(err, errLeaseLost):
		log.Info("the job had already ended in Easel", "reason", f.Error)
	case err != nil:
		log.Error("reporting the job failed failed", "error", err, "reason", f.Error)
	default:
		log.Warn("job failed", "reason", f.Error, "transient", f.Transient)
	}
}

// execute fetches the job's models, runs it, checks the answer and
// uploads the images; it returns the Complete to send.
func (w *Worker) execute(ctx context.Context, job *workerproto.Job, st *jobState) (workerproto.Complete, error) {
	var done workerproto.Complete
	if job.Task != "txt2img" && job.Task != "img2img" {
		return done, &jobError{reason: fmt.Sprintf("task %q is not txt2img or img2img", job.Task)}
	}
	var ckpt *workerproto.Model
	for i, m := range job.Models {
		if m.Type == "Stable-diffusion" && m.Name == job.Checkpoint {
			ckpt = &job.Models[i]
		}
	}
	if ckpt == nil {
		return done, &jobError{reason: fmt.Sprintf("checkpoint %q is not among the job's models", job.Checkpoint)}
	}
	if len(job.Uploads) == 0 {
		return done, &jobError{reason: "the job has no upload URLs"}
	}
	downloaded, err := w.ensureModels(ctx, job, st)
	if err != nil {
		return done, err
	}
	switched := true
	if l, err := w.backend.Loaded(ctx); err == nil {
		switched = !isCheckpoint(l, *ckpt)
	}
	st.set(stageGenerating, 0, 0, 0)
	if switched {
		st.set(stageSwitching, 0, 0, 0)
	}
	res, err := w.generate(ctx, RunRequest{Task: job.Task, Params: job.Params, Checkpoint: job.Checkpoint, VAE: job.VAE})
	if err != nil {
		return done, err
	}
	if err := checkModel(res, *ckpt); err != nil {
		return done, err
	}
	if len(res.Images) == 0 {
		return done, &jobError{reason: "the WebUI answered no images (was it interrupted?)", transient: true}
	}
	st.set(stageUploading, 1, 0, 0)
	n, err := w.uploadImages(ctx, res.Images, job.Uploads)
	if err != nil {
		return done, err
	}
	return workerproto.Complete{JobID: job.ID, Token: job.Token, Images: n, Info: res.Info,
		ModelHash: res.ModelHash, Downloaded: downloaded, Switched: switched}, nil
}

// generate runs the request on the backend. When ctx ends first it
// interrupts the WebUI and waits a while for its answer: dropping the
// connection would not stop it, and the next job would queue behind.
func (w *Worker) generate(ctx context.Context, req RunRequest) (Result, error) {
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	type answer struct {
		res Result
		err error
	}
	answers := make(chan answer, 1)
	go func() {
		res, err := w.backend.Run(rctx, req)
		answers <- answer{res, err}
	}()
	select {
	case a := <-answers:
		return a.res, a.err
	case <-ctx.Done():
	}
	ictx, icancel := context.WithTimeout(rctx, 30*time.Second)
	defer icancel()
	if err := w.backend.Interrupt(ictx); err != nil {
		w.log.Warn("interrupting the WebUI failed", "error", err)
	}
	t := time.NewTimer(w.cfg.InterruptWait)
	defer t.Stop()
	select {
	case <-answers:
	case <-t.C:
		w.log.Warn("the WebUI did not answer after the interrupt", "waited", w.cfg.InterruptWait)
	}
	return Result{}, context.Cause(ctx)
}

// isCheckpoint reports whether the loaded checkpoint is m.
func isCheckpoint(l Loaded, m workerproto.Model) bool {
	if l.SHA256 != "" {
		return strings.EqualFold(l.SHA256, m.SHA256)
	}
	name, _, _ := strings.Cut(l.Name, " [") // A1111 titles are "name [hash10]"
	return name == m.Name
}

// checkModel fails an answer made with another checkpoint than m (A1111
// silently runs its current model for a name it does not know). The hash
// decides when the WebUI reports one; the name when it has not hashed.
func checkModel(res Result, m workerproto.Model) error {
	want := strings.TrimSuffix(m.Name, filepath.Ext(m.Name))
	hash := strings.ToLower(m.SHA256)
	if len(hash) > 10 {
		hash = hash[:10]
	}
	switch {
	case res.ModelHash != "" && !strings.EqualFold(res.ModelHash, hash):
		return &jobError{reason: fmt.Sprintf("the WebUI ran checkpoint %s [%s], not %s [%s]", res.ModelName, res.ModelHash, want, hash)}
	case res.ModelHash == "" && res.ModelName != want:
		return &jobError{reason: fmt.Sprintf("the WebUI ran checkpoint %q, not %q", res.ModelName, want)}
	}
	return nil
}
