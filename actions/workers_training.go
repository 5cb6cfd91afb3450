package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"easel/store"
	"easel/trainer"
	"easel/workerproto"
)

// maxTrainingLeases is how often a training is leased before a worker
// that stops reporting fails it for good (CONTRACT-TRAINING §3.7).
const maxTrainingLeases = 3

// trainingURLTTL bounds the presigned URLs of a training: its downloads
// and uploads may take long on a slow link.
const trainingURLTTL = 12 * time.Hour

// trainingAnnouncement is the "checkpoint" of an announcement that a pool
// has a training: it wakes a waiting worker that can train.
const trainingAnnouncement = "training"

// SetTrainings gives the workers the trainings core, which hears their
// progress and results; until it is set no training is leased.
func (h *Workers) SetTrainings(r trainer.Reporter) { h.trainings = r }

// AnnounceTraining tells the waiting workers of pool, when db's
// transaction commits (at once outside one), that it has a training.
func AnnounceTraining(ctx context.Context, db store.DBTX, pool string) error {
	return announce(ctx, db, pool, trainingAnnouncement)
}

// Object keys of a training (CONTRACT-TRAINING §4).
func trainingConfigKey(id uuid.UUID, fmType string) (string, string) {
	name := "kohya_config_cloud.toml"
	if fmType == "sd_xl" {
		name = "kohya_config_cloud_xl.toml"
	}
	return fmt.Sprintf("kohya/train/%s/input/%s", id, name), name
}
func trainingOutputPrefix(id uuid.UUID) string {
	return fmt.Sprintf("Stable-diffusion/checkpoint/custom/%s/", id)
}
func trainingLogsPrefix(id uuid.UUID) string { return fmt.Sprintf("kohya/train/%s/logs/", id) }

// trainingStaging is where the holder of a training's lease uploads; the
// winner's files are copied to the output and logs folders, so a worker
// whose lease expired can never overwrite them.
func trainingStaging(id, token uuid.UUID) string {
	return fmt.Sprintf("kohya/train/%s/lease/%s/", id, token)
}

// doomedTraining is a training leased but impossible to run: it is
// failed once the leasing transaction has committed (the lease keeps
// other workers off it meanwhile).
type doomedTraining struct {
	id     uuid.UUID
	reason string
}

// leaseTraining leases the next training of w's pool to w, if w can train,
// and describes it; nil when there is none.
func (h *Workers) leaseTraining(ctx context.Context, tx pgx.Tx, w store.Worker) (*workerproto.Job, *doomedTraining, error) {
	if w.Trainer == "" || h.trainings == nil {
		return nil, nil, nil
	}
	l, err := store.LeaseTraining(ctx, tx, store.TrainingLeaseOf{Pool: w.Pool, Worker: w.ID, WorkerName: w.Name,
		Trainer: w.Trainer, MaxLeases: maxTrainingLeases, Now: h.store.Now(), TTL: h.t.leaseTTL()})
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	t, err := h.describeTraining(ctx, tx, l)
	if err != nil {
		return nil, &doomedTraining{id: l.ID, reason: err.Error()}, nil
	}
	h.log.Info("training leased", "training", l.ID, "worker", w.Name, "pool", w.Pool, "lease", l.Leases)
	return &workerproto.Job{ID: l.ID.String(), Token: l.Token.String(), Kind: workerproto.KindTraining,
		Training: t, Deadline: workerproto.Time{Time: l.Deadline}}, nil, nil
}

// describeTraining is what a worker needs to run a training: the base
// model, the merged TOML and every dataset file with presigned GETs, the
// settings, and a presigned PUT for the LoRA.
func (h *Workers) describeTraining(ctx context.Context, db store.DBTX, l store.TrainingLease) (*workerproto.Training, error) {
	if l.BaseCheckpoint == nil {
		return nil, fmt.Errorf("the base model %s is not in the library", l.BaseName)
	}
	model, err := h.model(ctx, db, "Stable-diffusion", store.UsedModel{ID: l.BaseCheckpoint.String(), Name: l.BaseName}, trainingURLTTL)
	if err != nil {
		return nil, err
	}
	p, err := readTrainingParams(l.Params)
	if err != nil {
		return nil, err
	}
	t := &workerproto.Training{FMType: l.FMType, OutputName: l.OutputName, Model: model, Dataset: l.Dataset,
		MaxTrainEpochs: p.epochs, SaveEveryNEpochs: p.saveEvery, WD14: p.wd14, Deadline: workerproto.Time{Time: l.Deadline}}
	key, name := trainingConfigKey(l.ID, l.FMType)
	if t.Config, err = h.blob.PresignGet(ctx, key, trainingURLTTL); err != nil {
		return nil, err
	}
	t.ConfigName = name
	ds, err := store.GetDataset(ctx, db, l.Dataset)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("dataset %s was deleted before the training started", l.Dataset)
	}
	if err != nil {
		return nil, err
	}
	files, err := store.DatasetFiles(ctx, db, l.Dataset)
	if err != nil {
		return nil, err
	}
	t.Prefix = ds.Prefix
	seen := map[string]bool{}
	for _, f := range files {
		rel := strings.TrimPrefix(f.ObjectKey, store.DatasetRoot(l.Dataset))
		if f.Status == "Disabled" || seen[rel] {
			continue
		}
		seen[rel] = true
		url, err := h.blob.PresignGet(ctx, f.ObjectKey, trainingURLTTL)
		if err != nil {
			return nil, err
		}
		df := workerproto.DatasetFile{Path: rel, SHA256: f.SHA256, URL: url}
		if f.Size != nil {
			df.Size = *f.Size
		}
		t.Files = append(t.Files, df)
	}
	if len(t.Files) == 0 {
		return nil, fmt.Errorf("dataset %s has no files", l.Dataset)
	}
	t.Upload, err = h.blob.PresignPut(ctx, trainingStaging(l.ID, l.Token)+"output/"+l.OutputName+".safetensors", trainingURLTTL)
	return t, err
}

// trainingParams are the parts of a training's params a worker needs.
type trainingParams struct {
	epochs, saveEvery int
	wd14              *workerproto.WD14
}

func readTrainingParams(raw json.RawMessage) (trainingParams, error) {
	var in struct {
		ConfigParams struct {
			MaxTrainEpochs   any `json:"max_train_epochs"`
			SaveEveryNEpochs any `json:"save_every_n_epochs"`
		} `json:"config_params"`
		WD14       bool `json:"enable_wd14_tagger"`
		WD14Params struct {
			General   any `json:"general_threshold"`
			Character any `json:"character_threshold"`
		} `json:"wd14_tagger_params"`
	}
	var p trainingParams
	if err := json.Unmarshal(raw, &in); err != nil {
		return p, fmt.Errorf("the training's params are not the object POST /trainings stored: %w", err)
	}
	p.epochs, p.saveEvery = number(in.ConfigParams.MaxTrainEpochs), number(in.ConfigParams.SaveEveryNEpochs)
	if in.WD14 {
		p.wd14 = &workerproto.WD14{GeneralThreshold: wdText(in.WD14Params.General), CharacterThreshold: wdText(in.WD14Params.Character)}
	}
	return p, nil
}

// number reads a JSON number or numeric string; 0 otherwise.
func number(v any) int {
	switch x := v.(type) {
	case float64:
		return int(x)
	case string:
		n, _ := strconv.Atoi(strings.TrimSpace(x))
		return n
	}
	return 0
}

// wdText reads a JSON string or number as text; "" otherwise.
func wdText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

// Upload presigns PUTs into the lease's staging folder for the result
// files and logs a training's worker names.
func (h *Workers) Upload(ctx context.Context, key store.APIKey, in workerproto.UploadRequest) (workerproto.UploadReply, error) {
	out := workerproto.UploadReply{Models: map[string]string{}, Logs: map[string]string{}}
	id, token, err := parseLease(in.JobID, in.Token)
	if err != nil {
		return out, err
	}
	if len(in.Models)+len(in.Logs) > workerproto.MaxUploadFiles {
		return out, store.Errorf(store.EInvalid, "at most %d files per call", workerproto.MaxUploadFiles)
	}
	l, err := h.heldTraining(ctx, key, id, token)
	if err != nil {
		return out, err
	}
	for _, m := range in.Models {
		if err := checkModelFile(l.OutputName, m); err != nil {
			return out, err
		}
		if out.Models[m], err = h.blob.PresignPut(ctx, trainingStaging(id, token)+"output/"+m, trainingURLTTL); err != nil {
			return out, err
		}
	}
	for _, p := range in.Logs {
		if err := checkLogPath(p); err != nil {
			return out, err
		}
		if out.Logs[p], err = h.blob.PresignPut(ctx, trainingStaging(id, token)+"logs/"+p, trainingURLTTL); err != nil {
			return out, err
		}
	}
	return out, nil
}

// heldTraining returns the running training id of the key's pool whose
// lease token is token; EConflict otherwise.
func (h *Workers) heldTraining(ctx context.Context, key store.APIKey, id, token uuid.UUID) (store.TrainingLease, error) {
	l, err := store.FindTrainingLease(ctx, h.store.DB(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return l, errLeaseLost
	case err != nil:
		return l, err
	case l.Token != token || l.InstanceType != key.Pool || !runningStatus(l.Status):
		return l, errLeaseLost
	}
	return l, nil
}

func runningStatus(s string) bool {
	switch s {
	case trainer.Starting, trainer.Downloading, trainer.Training, trainer.Uploading:
		return true
	}
	return false
}

// checkModelFile allows <output>.safetensors and kohya's per-epoch
// <output>-NNNNNN.safetensors.
func checkModelFile(output, name string) error {
	stem, ok := strings.CutSuffix(name, ".safetensors")
	if ok && stem == output {
		return nil
	}
	if n, found := strings.CutPrefix(stem, output+"-"); ok && found && len(n) == 6 && strings.Trim(n, "0123456789") == "" {
		return nil
	}
	return store.Errorf(store.EInvalid, "model file %q is not %s.safetensors or %s-NNNNNN.safetensors", name, output, output)
}

// checkLogPath allows a relative '/'-separated path without dot parts.
func checkLogPath(p string) error {
	if p == "" || len(p) > 512 || strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\x00") || path.Clean(p) != p {
		return store.Errorf(store.EInvalid, "log file %q is not a plain relative path", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == "." || part == ".." || part == "" {
			return store.Errorf(store.EInvalid, "log file %q is not a plain relative path", p)
		}
	}
	return nil
}
