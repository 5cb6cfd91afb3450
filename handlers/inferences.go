package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"easel/blob"
	"easel/gpu"
	"easel/jobs"
	"easel/policy"
	"easel/store"
)

// Inferences runs inference jobs: the actions shared by the API and the
// console.
type Inferences struct {
	store     *store.Store
	policy    *policy.Policy
	blob      *blob.Client
	jobs      JobInserter
	endpoints *Endpoints
	log       *slog.Logger
}

// NewInferences returns the inferences handler.
func NewInferences(s *store.Store, p *policy.Policy, b *blob.Client, j JobInserter, e *Endpoints, log *slog.Logger) *Inferences {
	return &Inferences{store: s, policy: p, blob: b, jobs: j, endpoints: e, log: log}
}

var (
	imageTasks = []string{"txt2img", "img2img"}
	extraTasks = []string{"extra-single-image", "extra-batch-images", "rembg"}
	builtInVAE = []string{"Automatic", "None"}
)

// InferenceInput is ESD's POST /inferences body.
type InferenceInput struct {
	TaskType      string              `json:"task_type"`
	InferenceType string              `json:"inference_type"`
	Models        map[string][]string `json:"models"`
	UserID        string              `json:"user_id"`
	Endpoint      string              `json:"sagemaker_endpoint_name"`
}

// ModelRef is a model an inference was created with.
type ModelRef struct {
	ID   string   `json:"id"`
	Name []string `json:"name"`
	Type string   `json:"type"`
}

// CreatedInference is a new job with the URL to upload its parameters to.
type CreatedInference struct {
	Job       store.Inference
	UploadURL string
	S3        string
	Models    []ModelRef
}

// Create checks the task type, picks an endpoint (the named one, else the
// least loaded InService one the user may use), resolves the models to
// Active checkpoints and records the job as created.
func (h *Inferences) Create(ctx context.Context, actor policy.Principal, in InferenceInput) (CreatedInference, error) {
	if err := h.policy.Require(actor, "inference:create"); err != nil {
		return CreatedInference{}, err
	}
	if !slices.Contains(imageTasks, in.TaskType) && !slices.Contains(extraTasks, in.TaskType) {
		return CreatedInference{}, store.Errorf(store.EInvalid, "task type %s should be in ['extra-single-image', 'extra-batch-images', 'rembg'] or ['txt2img', 'img2img']", in.TaskType)
	}
	if in.InferenceType == "Serverless" {
		return CreatedInference{}, store.Errorf(store.EInvalid, "Serverless inference is not supported yet")
	}
	ep, err := h.pickEndpoint(ctx, actor, in)
	if err != nil {
		return CreatedInference{}, err
	}
	used, refs, err := h.resolveModels(ctx, in)
	if err != nil {
		return CreatedInference{}, err
	}
	id := uuid.New()
	job := store.Inference{ID: id, TaskType: in.TaskType, InferenceType: ep.Type, Owner: actor.Name(),
		EndpointID: ep.ID, EndpointName: ep.Name, EndpointInstanceType: ep.InstanceType, EndpointBackend: ep.Backend,
		ParamsKey: fmt.Sprintf("%s/infer_v2/%s/api_param.json", in.TaskType, id), UsedModels: used, CreateTime: h.store.Now()}
	url, err := h.blob.PresignPut(ctx, job.ParamsKey, presignTTL)
	if err != nil {
		return CreatedInference{}, err
	}
	err = h.store.InTx(ctx, func(tx pgx.Tx) error {
		if err := store.CreateInference(ctx, tx, job); err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor.Name(), "inference.create", id.String(), ep.Name)
	})
	return CreatedInference{Job: job, UploadURL: url, S3: h.s3(job.ParamsKey), Models: refs}, err
}

func (h *Inferences) s3(key string) string { return "s3://" + h.blob.Bucket + "/" + key }

// pickEndpoint is ESD's scheduling (reference §5.3), least loaded instead of
// random, and always among endpoints the user may use.
func (h *Inferences) pickEndpoint(ctx context.Context, actor policy.Principal, in InferenceInput) (store.Endpoint, error) {
	visible, err := h.endpoints.List(ctx, actor, EndpointQuery{})
	if err != nil {
		return store.Endpoint{}, err
	}
	if in.Endpoint != "" {
		for _, e := range visible {
			if e.Name == in.Endpoint {
				if e.Status != gpu.InService {
					return e, store.Errorf(store.EInvalid, "sagemaker endpoint is not ready with status: %s", e.Status)
				}
				return e, nil
			}
		}
		return store.Endpoint{}, store.Errorf(store.EInvalid, "endpoint %s not found", in.Endpoint)
	}
	typ := in.InferenceType
	if typ == "" {
		typ = gpu.Async
	}
	var candidates []store.Endpoint
	var ids []uuid.UUID
	for _, e := range visible {
		if e.Status == gpu.InService && e.Type == typ {
			candidates = append(candidates, e)
			ids = append(ids, e.ID)
		}
	}
	if len(candidates) == 0 {
		return store.Endpoint{}, store.Errorf(store.EInvalid, "no available %s endpoints for user %q", typ, actor.Name())
	}
	busy, err := store.BusyEndpoints(ctx, h.store.Pool, ids)
	if err != nil {
		return store.Endpoint{}, err
	}
	best := candidates[0]
	for _, e := range candidates[1:] {
		if busy[e.ID]*max(best.InitialCount, 1) < busy[best.ID]*max(e.InitialCount, 1) {
			best = e
		}
	}
	return best, nil
}

// resolveModels maps txt2img/img2img model names to Active checkpoints.
func (h *Inferences) resolveModels(ctx context.Context, in InferenceInput) (map[string][]store.UsedModel, []ModelRef, error) {
	used := map[string][]store.UsedModel{}
	refs := []ModelRef{}
	if !slices.Contains(imageTasks, in.TaskType) {
		return used, refs, nil
	}
	var misses []string
	for _, typ := range sortedKeys(in.Models) {
		for _, name := range in.Models[typ] {
			if typ == "VAE" && slices.Contains(builtInVAE, name) {
				refs = append(refs, ModelRef{ID: "VAE", Name: []string{name}, Type: "VAE"})
				continue
			}
			c, err := store.FindActiveCheckpoint(ctx, h.store.Pool, typ, name)
			if errors.Is(err, store.ErrNotFound) {
				misses = append(misses, fmt.Sprintf("checkpoint with name %s, type %s is not found", name, typ))
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			used[typ] = append(used[typ], store.UsedModel{ID: c.ID.String(), Name: c.Names[0], S3: c.S3Location, Type: typ})
			refs = append(refs, ModelRef{ID: c.ID.String(), Name: c.Names, Type: typ})
		}
	}
	if len(misses) > 0 {
		return nil, nil, store.Errorf(store.EInvalid, "%s", strings.Join(misses, " "))
	}
	return used, refs, nil
}

// visibleJob returns the job with id if actor may see it (its owner, or
// inference:all); otherwise ESD's not-found error.
func (h *Inferences) visibleJob(ctx context.Context, db store.DBTX, actor policy.Principal, raw string, lock bool) (store.Inference, error) {
	notFound := store.Errorf(store.ENotFound, "inference with id %s not found", raw)
	id, err := uuid.Parse(raw)
	if err != nil {
		return store.Inference{}, notFound
	}
	find := store.FindInference
	if lock {
		find = store.LockInference
	}
	job, err := find(ctx, db, id)
	if errors.Is(err, store.ErrNotFound) {
		return job, notFound
	}
	if err != nil {
		return job, err
	}
	if job.Owner != actor.Name() && !h.policy.Can(actor, "inference:all") {
		return job, notFound
	}
	return job, nil
}

// Get returns one job.
func (h *Inferences) Get(ctx context.Context, actor policy.Principal, id string) (store.Inference, error) {
	if err := h.policy.Require(actor, "inference:list"); err != nil {
		return store.Inference{}, err
	}
	return h.visibleJob(ctx, h.store.Pool, actor, id, false)
}

// Start checks the uploaded parameters and queues the job; a Real-time job
// is then awaited up to realtimeWait for its result. The job is inprogress
// (or done) when Start returns, and finishes exactly once.
func (h *Inferences) Start(ctx context.Context, actor policy.Principal, id string, realtimeWait time.Duration) (store.Inference, error) {
	if err := h.policy.Require(actor, "inference:create"); err != nil {
		return store.Inference{}, err
	}
	job, err := h.visibleJob(ctx, h.store.Pool, actor, id, false)
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
	if _, err := store.FindEndpoint(ctx, h.store.Pool, job.EndpointID); errors.Is(err, store.ErrNotFound) {
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
		args := jobs.RunArgs{InferenceID: job.ID}
		if len(params) <= jobs.InlineParams {
			args.Params = params
		}
		if _, err := h.jobs.InsertTx(ctx, tx, args, nil); err != nil {
			return fmt.Errorf("enqueue inference: %w", err)
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

// await polls a job until it leaves inprogress or wait passes.
func (h *Inferences) await(ctx context.Context, id uuid.UUID, wait time.Duration) (store.Inference, error) {
	deadline := time.Now().Add(wait)
	for {
		job, err := store.FindInference(ctx, h.store.Pool, id)
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
	if err := h.policy.Require(actor, "inference:create"); err != nil {
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
	if err := h.policy.Require(actor, "inference:list"); err != nil {
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
	if err := h.policy.Require(actor, "inference:list"); err != nil {
		return err
	}
	all := h.policy.Can(actor, "inference:all")
	switch {
	case username != "" && username != actor.Name():
		if !h.policy.UserExists(username) {
			return store.Errorf(store.EInvalid, "user: %q not exist", username)
		}
		if !all {
			return policy.Denied(actor, "inference:all")
		}
		f.Owner = username
	case username != "" || !all:
		f.Owner = actor.Name()
	}
	return h.store.ListInferences(ctx, f, fn)
}
