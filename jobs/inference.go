package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	_ "image/jpeg" // results may arrive as JPEG; they are stored as PNG
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"easel/gpu"
	"easel/store"
)

// Limits on what an inference may ask for.
const (
	MaxParamsBytes = 16 << 20
	MaxSide        = 2048
	MaxImages      = 16
)

// RunArgs runs one started inference on its endpoint.
type RunArgs struct {
	InferenceID uuid.UUID `json:"inference_id"`
	// Params are the checked parameters when small (InlineParams), so the
	// worker need not read them from the store again.
	Params json.RawMessage `json:"params,omitempty"`
}

// InlineParams is the largest parameter file carried in the job itself.
const InlineParams = 64 << 10

// Kind names the job in River.
func (RunArgs) Kind() string { return "inference_run" }

// InsertOpts: transient backend errors are retried with backoff.
func (RunArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

// ResultPrefix is where a job's results live.
func ResultPrefix(id uuid.UUID) string { return fmt.Sprintf("out/%s/result/", id) }

// ParamFileKey is the job's result parameter file.
func ParamFileKey(id uuid.UUID) string { return ResultPrefix(id) + id.String() + "_param.json" }

type runWorker struct {
	river.WorkerDefaults[RunArgs]
	d Deps
}

func (w *runWorker) Timeout(*river.Job[RunArgs]) time.Duration {
	return w.d.Cfg.JobTimeout + time.Minute
}

// Work runs the job unless it is no longer inprogress (done, cancelled),
// and records the outcome exactly once.
func (w *runWorker) Work(ctx context.Context, job *river.Job[RunArgs]) error {
	inf, err := store.FindInference(ctx, w.d.Store.DB(), job.Args.InferenceID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && inf.Status != store.InferenceInProgress) {
		return nil
	}
	if err != nil {
		return err
	}
	deadline := inf.StartTime.Add(w.d.Cfg.JobTimeout)
	timedOut := fmt.Errorf("timed out: no result within %s of the start (EASEL_JOB_TIMEOUT)", w.d.Cfg.JobTimeout)
	if w.d.Store.Now().After(deadline) {
		return w.fail(ctx, inf, timedOut)
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	// A run starts now, unless this is an Async job's poll of the
	// submission it made (its handle is stored).
	if now := w.d.Store.Now(); inf.RunTime == nil || len(inf.AsyncHandle) == 0 {
		if _, err := store.UpdateInference(ctx, w.d.Store.DB(), inf.ID, store.InferenceUpdate{RunTime: &now, OnlyIf: store.InferenceInProgress}); err != nil {
			return err
		}
		if inf.RunTime == nil {
			w.d.Metrics.JobStarted(inf.EndpointName, inf.EndpointBackend, now.Sub(inf.StartTime))
		}
		inf.RunTime = &now
	}
	watched, stopWatch := w.watchCancel(ctx, inf.ID)
	res, err := w.invoke(watched, inf, job.Args.Params)
	cancelled := errors.Is(context.Cause(watched), errCancelled)
	stopWatch()
	var snooze *river.JobSnoozeError
	switch {
	case cancelled:
		return nil // it ended meanwhile (cancelled): nothing to record
	case errors.As(err, &snooze):
		return err
	case err != nil && ctx.Err() != nil && time.Now().After(deadline):
		return w.fail(ctx, inf, timedOut)
	case err != nil && ctx.Err() != nil:
		// Shutting down: leave the job inprogress for the next attempt,
		// here or on another replica.
		return err
	case err != nil && gpu.IsTransient(err) && job.Attempt < job.MaxAttempts:
		return err
	case err != nil:
		return w.fail(ctx, inf, err)
	}
	return w.store(ctx, inf, res)
}

// invoke runs the inference on its backend: SageMaker async endpoints
// submit and are polled (the job snoozes meanwhile); others answer inline.
func (w *runWorker) invoke(ctx context.Context, inf store.Inference, params json.RawMessage) (gpu.Result, error) {
	e, err := store.FindEndpoint(ctx, w.d.Store.DB(), inf.EndpointID)
	if errors.Is(err, store.ErrNotFound) {
		return gpu.Result{}, fmt.Errorf("endpoint %s was deleted while the job waited", inf.EndpointName)
	}
	if err != nil {
		return gpu.Result{}, gpu.TransientError{Err: err}
	}
	b, ok := backendOf(w.d, e)
	if !ok {
		return gpu.Result{}, fmt.Errorf("the %s backend is not configured on this server", e.Backend)
	}
	if len(params) == 0 {
		if params, err = ReadParams(ctx, w.d.Blob, inf.ParamsKey); err != nil {
			return gpu.Result{}, err
		}
	}
	req := gpu.Request{InferenceID: inf.ID.String(), Task: inf.TaskType, Username: inf.Owner,
		ParamS3: "s3://" + w.d.Blob.Bucket + "/" + inf.ParamsKey, Models: containerModels(inf.UsedModels), Params: params}
	ab, async := b.(gpu.AsyncBackend)
	if !async || inf.InferenceType != gpu.Async {
		return b.Invoke(ctx, e.Name, req)
	}
	var h gpu.AsyncHandle
	if len(inf.AsyncHandle) == 0 {
		if h, err = ab.InvokeAsync(ctx, e.Name, req); err != nil {
			return gpu.Result{}, err
		}
		raw, _ := json.Marshal(h)
		if _, err := store.UpdateInference(ctx, w.d.Store.DB(), inf.ID, store.InferenceUpdate{AsyncHandle: raw}); err != nil {
			return gpu.Result{}, gpu.TransientError{Err: err}
		}
	} else if err := json.Unmarshal(inf.AsyncHandle, &h); err != nil {
		return gpu.Result{}, err
	}
	res, done, err := ab.FetchAsync(ctx, h)
	if err != nil {
		return res, err
	}
	if !done {
		return res, river.JobSnooze(2 * time.Second)
	}
	return res, nil
}

// store writes the images and the parameter file, then marks the job
// succeeded — unless it stopped being inprogress meanwhile (cancelled), in
// which case what was written is removed. A result that is no result
// (resultError) fails the job instead.
func (w *runWorker) store(ctx context.Context, inf store.Inference, res gpu.Result) error {
	if err := resultError(inf.TaskType, res); err != nil {
		return w.fail(ctx, inf, err)
	}
	var names []string
	objects := map[string][]byte{}
	for i, b64 := range res.Images {
		png, err := toPNG(b64)
		if err != nil {
			return w.fail(ctx, inf, fmt.Errorf("image %d of the result: %w", i, err))
		}
		name := fmt.Sprintf("image_%d.png", i)
		generated := strings.HasPrefix(inf.TaskType, "txt2img") || strings.HasPrefix(inf.TaskType, "img2img")
		if len(res.Images) == 1 && !generated {
			name = "image.png"
		}
		if generated {
			// Keep the generation parameters in the file, as A1111 does,
			// for any WebUI's PNG Info.
			if png, err = WithParameters(png, Infotext(res.Parameters, res.Info, i)); err != nil {
				return w.fail(ctx, inf, fmt.Errorf("image %d of the result: %w", i, err))
			}
		}
		objects[ResultPrefix(inf.ID)+name] = png
		names = append(names, name)
	}
	info := res.Info
	if info == "" {
		info = `{"infotexts": []}`
	}
	file, _ := json.Marshal(map[string]any{"parameters": res.Parameters, "info": info,
		"endpont_name": inf.EndpointName, "endpoint_name": inf.EndpointName, "inference_id": inf.ID.String()})
	objects[ParamFileKey(inf.ID)] = file
	if err := w.putAll(ctx, objects); err != nil {
		return gpu.TransientError{Err: err}
	}
	succeed, now, raw := store.InferenceSucceeded, w.d.Store.Now(), ""
	ok, err := store.UpdateInference(ctx, w.d.Store.DB(), inf.ID, store.InferenceUpdate{Status: &succeed,
		ImageNames: names, CompleteTime: &now, SageMakerRaw: &raw, OnlyIf: store.InferenceInProgress})
	if err != nil {
		return err
	}
	if !ok {
		_, err := w.d.Blob.DeletePrefix(context.WithoutCancel(ctx), ResultPrefix(inf.ID))
		return err
	}
	w.finished(inf, succeed, now)
	// Make the gallery's thumbnails now rather than at the next round.
	if c, err := river.ClientFromContextSafely[pgx.Tx](ctx); err == nil {
		if _, err := c.Insert(ctx, ThumbnailsArgs{}, nil); err != nil {
			w.d.Log.Warn("thumbnails not queued", "inference", inf.ID, "error", err)
		}
	}
	return nil
}

// finished records the end of a job this worker ran (the metrics).
func (w *runWorker) finished(inf store.Inference, status string, at time.Time) {
	var run time.Duration
	if inf.RunTime != nil {
		run = at.Sub(*inf.RunTime)
	}
	w.d.Metrics.JobFinished(inf.EndpointName, inf.EndpointBackend, status, run)
}

// putAll writes the objects at once (images and the parameter file).
func (w *runWorker) putAll(ctx context.Context, objects map[string][]byte) error {
	errs := make(chan error, len(objects))
	for key, body := range objects {
		go func() {
			ct := "image/png"
			if strings.HasSuffix(key, ".json") {
				ct = "application/json"
			}
			errs <- w.d.Blob.Put(ctx, key, body, ct)
		}()
	}
	var all []error
	for range objects {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}

// fail marks the job failed with the backend's error text.
func (w *runWorker) fail(ctx context.Context, inf store.Inference, cause error) error {
	failed, now, raw := store.InferenceFailed, w.d.Store.Now(), cause.Error()
	ok, err := store.UpdateInference(context.WithoutCancel(ctx), w.d.Store.DB(), inf.ID, store.InferenceUpdate{
		Status: &failed, SageMakerRaw: &raw, CompleteTime: &now, OnlyIf: store.InferenceInProgress})
	if err != nil {
		return err
	}
	if ok {
		w.finished(inf, failed, now)
	}
	w.d.Log.Info("inference failed", "inference", inf.ID, "endpoint", inf.EndpointName, "error", raw)
	return nil
}
