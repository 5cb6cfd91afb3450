package actions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"easel/blob"
	"easel/gpu"
	"easel/netguard"
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
	// urls is the SSRF policy of webhooks (that of URL imports).
	urls netguard.Policy
}

// NewInferences returns the inferences actions.
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
	// Webhook is told of the job's state changes (Replicate's
	// predictions), those of WebhookEventsFilter (none: all).
	Webhook             string   `json:"webhook"`
	WebhookEventsFilter []string `json:"webhook_events_filter"`
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
	if err := h.policy.Require(actor, policy.InferenceCreate); err != nil {
		return CreatedInference{}, err
	}
	if !slices.Contains(imageTasks, in.TaskType) && !slices.Contains(extraTasks, in.TaskType) {
		return CreatedInference{}, store.Errorf(store.EInvalid, "task type %s should be in ['extra-single-image', 'extra-batch-images', 'rembg'] or ['txt2img', 'img2img']", in.TaskType)
	}
	if in.InferenceType == "Serverless" {
		return CreatedInference{}, store.Errorf(store.EInvalid, "Serverless inference is not supported yet")
	}
	var hookEvents []string
	if in.Webhook != "" || in.WebhookEventsFilter != nil {
		var err error
		if hookEvents, err = CheckWebhook(h.urls, "webhook", in.Webhook, "webhook_events_filter", in.WebhookEventsFilter); err != nil {
			return CreatedInference{}, err
		}
	}
	ep, err := h.pickEndpoint(ctx, actor, in)
	if err != nil {
		return CreatedInference{}, err
	}
	used, refs, err := h.resolveModels(ctx, actor, in)
	if err != nil {
		return CreatedInference{}, err
	}
	id := uuid.New()
	job := store.Inference{ID: id, TaskType: in.TaskType, InferenceType: ep.Type, Owner: actor.Name(),
		EndpointID: ep.ID, EndpointName: ep.Name, EndpointInstanceType: ep.InstanceType, EndpointBackend: ep.Backend,
		ParamsKey: fmt.Sprintf("%s/infer_v2/%s/api_param.json", in.TaskType, id), UsedModels: used, CreateTime: h.store.Now(),
		Webhook: in.Webhook, WebhookEvents: hookEvents}
	if sd := used["Stable-diffusion"]; len(sd) > 0 {
		job.CheckpointSHA = sd[0].SHA256
	}
	url, err := h.blob.PresignPut(ctx, job.ParamsKey, PresignTTL)
	if err != nil {
		return CreatedInference{}, err
	}
	err = h.store.InTx(ctx, func(tx pgx.Tx) error {
		if err := store.CreateInference(ctx, tx, job); err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor.Name(), "inference.create", id.String(), ep.Name)
	})
	return CreatedInference{Job: job, UploadURL: url, S3: h.S3URI(job.ParamsKey), Models: refs}, err
}

// S3URI returns the s3:// address of key in the bucket.
func (h *Inferences) S3URI(key string) string { return "s3://" + h.blob.Bucket + "/" + key }

// pickEndpoint is ESD's scheduling (one eligible endpoint), least loaded instead of
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
	busy, err := store.BusyEndpoints(ctx, h.store.DB(), ids)
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

// resolveModels maps txt2img/img2img model names to Active checkpoints
// that actor may see; one it may not see is not found, like a missing one.
func (h *Inferences) resolveModels(ctx context.Context, actor policy.Principal, in InferenceInput) (map[string][]store.UsedModel, []ModelRef, error) {
	used := map[string][]store.UsedModel{}
	refs := []ModelRef{}
	if !slices.Contains(imageTasks, in.TaskType) {
		return used, refs, nil
	}
	viewer, err := checkpointViewer(ctx, h.store, h.policy, actor)
	if err != nil {
		return nil, nil, err
	}
	var misses []string
	for _, typ := range sortedKeys(in.Models) {
		for _, name := range in.Models[typ] {
			if typ == "VAE" && slices.Contains(builtInVAE, name) {
				// The ESD container resets the VAE on this entry.
				used[typ] = append(used[typ], store.UsedModel{ID: "VAE", Name: name, S3: gpu.BuiltInS3, Type: typ})
				refs = append(refs, ModelRef{ID: "VAE", Name: []string{name}, Type: "VAE"})
				continue
			}
			c, err := store.FindActiveCheckpoint(ctx, h.store.DB(), viewer, typ, name)
			if errors.Is(err, store.ErrNotFound) {
				misses = append(misses, fmt.Sprintf("checkpoint with name %s, type %s is not found", name, typ))
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			used[typ] = append(used[typ], store.UsedModel{ID: c.ID.String(), Name: c.Names[0], S3: c.S3Location, Type: typ, SHA256: c.SHA256})
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
	if job.Owner != actor.Name() && !h.policy.Can(actor, policy.InferenceAll) {
		return job, notFound
	}
	return job, nil
}

// Get returns one job.
func (h *Inferences) Get(ctx context.Context, actor policy.Principal, id string) (store.Inference, error) {
	if err := h.policy.Require(actor, policy.InferenceList); err != nil {
		return store.Inference{}, err
	}
	return h.visibleJob(ctx, h.store.DB(), actor, id, false)
}
