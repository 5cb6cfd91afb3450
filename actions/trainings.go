package actions

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"easel/blob"
	"easel/policy"
	"easel/store"
	"easel/trainer"
)

// Trainings runs kohya LoRA trainings (CONTRACT-TRAINING §3): the actions
// of the API and the console, the choice of backend, and the
// trainer.Reporter through which backends report.
type Trainings struct {
	store  *store.Store
	policy *policy.Policy
	blob   *blob.Client
	jobs   JobInserter
	log    *slog.Logger
	// pools are the configured worker pools; defaultType is
	// EASEL_TRAIN_INSTANCE_TYPE.
	pools       []string
	defaultType string

	mu       sync.RWMutex
	backends map[string]trainer.Backend // by Kind
}

var _ trainer.Reporter = (*Trainings)(nil)

// DefaultTrainInstanceType is ESD's default training instance type.
const DefaultTrainInstanceType = "ml.g4dn.2xlarge"

// NewTrainings returns the trainings actions with the Workers backend
// registered; SetBackend adds others (SageMaker).
func NewTrainings(s *store.Store, p *policy.Policy, b *blob.Client, j JobInserter, pools []string, defaultType string, log *slog.Logger) *Trainings {
	if defaultType == "" {
		defaultType = DefaultTrainInstanceType
	}
	h := &Trainings{store: s, policy: p, blob: b, jobs: j, log: log, pools: pools, defaultType: defaultType,
		backends: map[string]trainer.Backend{}}
	h.SetBackend(&WorkersTrainer{store: s})
	return h
}

// SetBackend registers b for its kind (trainer.SageMaker: the ml.* types;
// trainer.Workers: worker pools), replacing the one registered before.
func (h *Trainings) SetBackend(b trainer.Backend) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.backends[b.Kind()] = b
}

func (h *Trainings) backend(kind string) trainer.Backend {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.backends[kind]
}

// SageMakerTypes are the ml.* types offered when the SageMaker backend is
// registered and does not name its own (the 1.6.0 WebUI's choices).
var SageMakerTypes = []string{"ml.g4dn.2xlarge", "ml.g5.2xlarge", "ml.g5.4xlarge", "ml.g4dn.12xlarge"}

// typeLister is a backend that names the instance types it offers.
type typeLister interface{ InstanceTypes() []string }

// InstanceTypes returns what training_instance_type may name now: the
// ml.* types when SageMaker is registered, then each worker pool with a
// worker that can train.
func (h *Trainings) InstanceTypes(ctx context.Context) ([]string, error) {
	var out []string
	if sm := h.backend(trainer.SageMaker); sm != nil {
		if l, ok := sm.(typeLister); ok {
			out = append(out, l.InstanceTypes()...)
		} else {
			out = append(out, SageMakerTypes...)
		}
	}
	pools, err := store.TrainingPools(ctx, h.store.DB(), h.pools)
	if err != nil {
		return nil, err
	}
	return append(out, pools...), nil
}

// DefaultInstanceType is what "" means (EASEL_TRAIN_INSTANCE_TYPE).
func (h *Trainings) DefaultInstanceType() string { return h.defaultType }

// resolve returns the backend for an instance type ("" is the default).
func (h *Trainings) resolve(ctx context.Context, instanceType string) (string, trainer.Backend, error) {
	if instanceType == "" {
		instanceType = h.defaultType
	}
	if sm := h.backend(trainer.SageMaker); sm != nil && strings.HasPrefix(instanceType, "ml.") {
		return instanceType, sm, nil
	}
	valid, err := h.InstanceTypes(ctx)
	if err != nil {
		return "", nil, err
	}
	if w := h.backend(trainer.Workers); w != nil && !strings.HasPrefix(instanceType, "ml.") && slices.Contains(valid, instanceType) {
		return instanceType, w, nil
	}
	list := "none: configure SageMaker or start a worker with --sd-scripts"
	if len(valid) > 0 {
		list = strings.Join(valid, ", ")
	}
	return "", nil, store.FieldError("training_instance_type",
		"Invalid training_instance_type %s, the valid values are: %s", instanceType, list)
}

// Viewer returns whose visibility applies to actor: nil (everything) for
// the service principal and holders of user:all (ESD's rule; train:all
// does not widen it).
func (h *Trainings) Viewer(ctx context.Context, actor policy.Principal) (*store.Viewer, error) {
	return checkpointViewer(ctx, h.store, h.policy, actor)
}

// ownersOf returns who a new training belongs to: the creator's roles, or
// the creator alone when it has none.
func (h *Trainings) ownersOf(ctx context.Context, actor policy.Principal) ([]string, error) {
	if actor.Username == "" {
		return []string{store.ServicePrincipal}, nil
	}
	u, err := store.FindUser(ctx, h.store.DB(), actor.Username)
	if err != nil {
		return nil, err
	}
	if len(u.Roles) == 0 {
		return []string{u.Username}, nil
	}
	return u.Roles, nil
}

// MayDelete reports whether actor may delete or stop t: train:all, or
// train:create on a training it created.
func (h *Trainings) MayDelete(actor policy.Principal, t store.Training) bool {
	return h.policy.Can(actor, policy.TrainAll) ||
		h.policy.Can(actor, policy.TrainCreate) && t.Creator == actor.Name()
}

// Keys of a training's objects (CONTRACT-TRAINING §4).
func trainPrefix(id string) string  { return fmt.Sprintf("kohya/train/%s/", id) }
func inputPrefix(id string) string  { return trainPrefix(id) + "input/" }
func logsPrefix(id string) string   { return trainPrefix(id) + "logs/" }
func outputPrefix(id string) string { return fmt.Sprintf("Stable-diffusion/checkpoint/custom/%s/", id) }

func (h *Trainings) s3(key string) string { return "s3://" + h.blob.Bucket + "/" + key }

// TrainingLog is one log file of a training with a presigned GET.
type TrainingLog struct {
	Filename string `json:"filename"`
	URL      string `json:"url"`
}

// LogTTL is how long a log file's presigned URL stays valid.
const LogTTL = time.Hour

// Logs returns t's log files with presigned GETs (1 h).
func (h *Trainings) Logs(ctx context.Context, t store.Training) ([]TrainingLog, error) {
	out := make([]TrainingLog, 0, len(t.Logs))
	for _, name := range t.Logs {
		u, err := h.blob.PresignGet(ctx, logsPrefix(t.ID.String())+name, LogTTL)
		if err != nil {
			return nil, err
		}
		out = append(out, TrainingLog{Filename: name, URL: u})
	}
	return out, nil
}

// Locations returns the s3:// input and output locations of training id.
func (h *Trainings) Locations(id string) (input, output string) {
	return h.s3(strings.TrimSuffix(inputPrefix(id), "/")), h.s3(strings.TrimSuffix(outputPrefix(id), "/"))
}
