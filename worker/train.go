package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"

	"easel/workerproto"
)

// trainRunner runs the two programs of a training: kohya sd-scripts
// (sdScripts) or the simulator (simTrainer). Their output goes to out,
// which reads progress from it.
type trainRunner interface {
	// tag captions the images with the WD14 tagger.
	tag(ctx context.Context, s *trainSpec, out *trainOutput) error
	// train trains the LoRA into s.outputDir.
	train(ctx context.Context, s *trainSpec, out *trainOutput) error
}

func (w *Worker) trainRunner() trainRunner {
	if w.cfg.SDScripts == SimulatorSDScripts {
		return &simTrainer{duration: w.cfg.SimTrainTime}
	}
	return &sdScripts{dir: w.cfg.SDScripts, grace: w.cfg.TrainGrace}
}

// runTraining runs a leased training like an inference: heartbeats (with
// status, epoch, step and loss), cancel, Grace at shutdown, and one
// Complete or Fail at its end.
func (w *Worker) runTraining(ctx context.Context, job *workerproto.Job) {
	st := &jobState{stage: stageDownloading, deadline: job.Deadline.Time}
	p := workerproto.TrainingProgress{Status: workerproto.TrainingDownloading}
	if job.Training != nil {
		p.Epochs = job.Training.MaxTrainEpochs
		w.log.Info("training leased", "job", job.ID, "output", job.Training.OutputName,
			"model", job.Training.Model.Name, "dataset", job.Training.Dataset, "trainer", w.cfg.trainer())
	}
	st.setTraining(p)
	w.runLeased(ctx, job, st, w.executeTraining)
}

// executeTraining prepares the work folder, tags (if asked), trains and
// uploads the result and the logs; it returns the Complete to send.
func (w *Worker) executeTraining(ctx context.Context, job *workerproto.Job, st *jobState) (workerproto.Complete, error) {
	var done workerproto.Complete
	t := job.Training
	if t == nil {
		return done, &jobError{reason: "the training job has no description"}
	}
	if w.cfg.SDScripts == "" {
		return done, &jobError{reason: "this worker cannot train (no --sd-scripts)", transient: true}
	}
	if _, err := uuid.Parse(job.ID); err != nil {
		return done, &jobError{reason: fmt.Sprintf("training id %q is not a UUID", job.ID)}
	}
	dir := filepath.Join(w.cfg.TrainDir, job.ID)
	if err := os.RemoveAll(dir); err != nil {
		return done, err
	}
	defer os.RemoveAll(dir)
	spec, err := w.prepareTraining(ctx, dir, t, st)
	if err != nil {
		return done, err
	}
	out, err := newTrainOutput(st, spec.outputLog)
	if err != nil {
		return done, err
	}
	defer out.close()
	run := w.trainRunner()
	st.updateTraining(func(p *workerproto.TrainingProgress) { p.Status = workerproto.TrainingTraining })
	if t.WD14 != nil {
		if err := run.tag(ctx, spec, out); err != nil {
			return done, ranFailed(ctx, "WD14 tagging", err, out)
		}
	}
	if err := run.train(ctx, spec, out); err != nil {
		return done, ranFailed(ctx, "training", err, out)
	}
	models, err := spec.results()
	if err != nil || len(models) == 0 {
		return done, &jobError{reason: "no model file produced: " + out.lastLines()}
	}
	st.updateTraining(func(p *workerproto.TrainingProgress) { p.Status = workerproto.TrainingUploading })
	out.close()
	res, err := w.uploadTraining(ctx, job, spec, models)
	if err != nil {
		return done, err
	}
	return workerproto.Complete{JobID: job.ID, Token: job.Token, Kind: workerproto.KindTraining, Training: &res}, nil
}

// ranFailed explains a failed program: the context's cause when the job
// was stopped, else the error and the last lines of its output.
func ranFailed(ctx context.Context, what string, err error, out *trainOutput) error {
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	return &jobError{reason: fmt.Sprintf("%s failed: %v; last output: %s", what, err, out.lastLines())}
}

// uploadTraining puts the LoRA files and the logs to presigned URLs and
// returns what it put.
func (w *Worker) uploadTraining(ctx context.Context, job *workerproto.Job, s *trainSpec, models []string) (workerproto.TrainingResult, error) {
	res := workerproto.TrainingResult{Models: []string{}, Logs: []string{}}
	main := s.outputName + ".safetensors"
	req := workerproto.UploadRequest{JobID: job.ID, Token: job.Token}
	for _, m := range models {
		if m != main {
			req.Models = append(req.Models, m)
		}
	}
	logs, err := s.logFiles()
	if err != nil {
		return res, err
	}
	req.Logs = logs
	if len(req.Logs)+len(req.Models) > workerproto.MaxUploadFiles {
		req.Logs = req.Logs[:max(0, workerproto.MaxUploadFiles-len(req.Models))]
	}
	var urls workerproto.UploadReply
	if len(req.Logs)+len(req.Models) > 0 {
		if err := w.callRetrying(ctx, workerproto.PathUpload, 0, req, &urls); err != nil {
			if errors.Is(err, errLeaseLost) {
				return res, err
			}
			return res, &jobError{reason: fmt.Sprintf("asking for upload URLs: %v", err), transient: true}
		}
	}
	urls.Models = mapOr(urls.Models)
	urls.Models[main] = job.Training.Upload
	for _, m := range models {
		url := urls.Models[m]
		if url == "" {
			continue
		}
		if err := w.uploadFile(ctx, url, filepath.Join(s.outputDir, m)); err != nil {
			return res, &jobError{reason: fmt.Sprintf("uploading %s: %v", m, err), transient: true}
		}
		res.Models = append(res.Models, m)
	}
	for _, l := range req.Logs {
		url := urls.Logs[l]
		if url == "" {
			continue
		}
		if err := w.uploadFile(ctx, url, filepath.Join(s.logsDir, filepath.FromSlash(l))); err != nil {
			w.log.Warn("a training log was not uploaded", "job", job.ID, "log", l, "error", err)
			continue
		}
		res.Logs = append(res.Logs, l)
	}
	return res, nil
}

func mapOr(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// uploadFile PUTs a file to a presigned URL, streaming it, retrying
// network errors and 5xx a few times (retryPut).
func (w *Worker) uploadFile(ctx context.Context, url, path string) error {
	return w.retryPut(ctx, func() error { return w.putFileOnce(ctx, url, path) })
}

// plainName reports whether name is a file name without folders.
func plainName(name string) bool {
	return name != "" && name == filepath.Base(name) && filepath.IsLocal(name) && !strings.ContainsAny(name, `/\`+"\x00")
}

// asStatus is errors.As for a statusError.
func asStatus(err error, se **statusError) bool { return err != nil && errors.As(err, se) }

func (w *Worker) putFileOnce(ctx context.Context, url, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, f)
	if err != nil {
		return err
	}
	req.ContentLength = st.Size()
	if st.Size() == 0 {
		req.Body = http.NoBody
	}
	resp, err := w.cfg.HTTP.Do(req)
	if err != nil {
		return redact(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		text, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		return &statusError{path: "PUT " + filepath.Base(path), status: resp.StatusCode, body: strings.TrimSpace(string(text))}
	}
	return nil
}
