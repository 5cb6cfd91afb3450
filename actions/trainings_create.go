package actions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"easel/internal/logx"
	"easel/policy"
	"easel/store"
	"easel/trainer"
)

// Create checks a training in ESD's order (CONTRACT-TRAINING §3.1), writes
// its merged kohya TOML, records it, starts its backend and returns it in
// Starting. A backend that refuses it leaves nothing behind.
func (h *Trainings) Create(ctx context.Context, actor policy.Principal, in TrainingInput) (store.Training, error) {
	if err := h.policy.Require(actor, policy.TrainCreate); err != nil {
		return store.Training{}, err
	}
	r, err := readTrainingInput(in)
	if err != nil {
		return store.Training{}, err
	}
	if err := h.checkNameFree(ctx, r.outputName); err != nil {
		return store.Training{}, err
	}
	if err := r.readEpochs(); err != nil {
		return store.Training{}, err
	}
	model, err := store.FindModelByFirstName(ctx, h.store.DB(), r.model)
	if errors.Is(err, store.ErrNotFound) {
		return store.Training{}, store.FieldError("training_params.model", "Model not found")
	}
	if err != nil {
		return store.Training{}, err
	}
	dataset, err := store.FindTrainingDataset(ctx, h.store.DB(), r.dataset)
	if errors.Is(err, store.ErrNotFound) {
		return store.Training{}, store.FieldError("training_params.dataset", "Dataset not found")
	}
	if err != nil {
		return store.Training{}, err
	}
	if r.fmType, err = checkFMType(r.fmType); err != nil {
		return store.Training{}, err
	}
	instanceType, backend, err := h.resolve(ctx, r.instanceType)
	if err != nil {
		return store.Training{}, err
	}
	r.instanceType = instanceType
	if err := checkOutputName(r.outputName); err != nil {
		return store.Training{}, err
	}
	config, err := MergeKohyaConfig(r.fmType, r.configParams)
	if err != nil {
		return store.Training{}, err
	}
	owners, err := h.ownersOf(ctx, actor)
	if err != nil {
		return store.Training{}, err
	}

	id := uuid.New()
	ids := id.String()
	modelKey := strings.TrimPrefix(model.S3Location, "s3://"+h.blob.Bucket+"/") + "/" + model.Names[0]
	datasetKey := "dataset/" + dataset.Name
	tomlKey := inputPrefix(ids) + KohyaTemplate(r.fmType)
	params, err := h.answeredParams(in, r, modelKey, datasetKey, tomlKey)
	if err != nil {
		return store.Training{}, err
	}
	t := store.Training{ID: id, Status: trainer.Initial, LoraTrainType: "kohya", TrainType: "Stable-diffusion",
		ModelID: "kohya", OutputName: r.outputName, InstanceType: instanceType, Backend: backend.Kind(),
		FMType: r.fmType, Dataset: dataset.Name, BaseCheckpoint: &model.ID, BaseName: model.Names[0],
		BaseSHA256: model.SHA256, DatasetSHA256: datasetSHA256(dataset.FileSums), Params: params,
		AllowedRoles: owners, Creator: actor.Name(), CreatedAt: h.store.Now()}
	if err := h.blob.Put(ctx, tomlKey, config, "application/toml"); err != nil {
		return store.Training{}, err
	}
	err = h.store.InTx(ctx, func(tx pgx.Tx) error {
		if err := store.CreateTraining(ctx, tx, t); err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor.Name(), "training.create", ids, r.outputName)
	})
	if err != nil {
		h.removeObjects(ctx, ids)
		return store.Training{}, err
	}
	job := trainer.Job{ID: ids, InstanceType: instanceType, FMType: r.fmType, OutputName: r.outputName,
		ModelKey: modelKey, ModelName: model.Names[0], ModelSHA256: model.SHA256, DatasetKey: datasetKey,
		DatasetName: dataset.Name, DatasetPrefix: dataset.Prefix, ConfigKey: tomlKey, InputPrefix: inputPrefix(ids),
		OutputPrefix: outputPrefix(ids), LogsPrefix: logsPrefix(ids), Params: params}
	jobName, err := backend.Start(ctx, job)
	if err != nil {
		h.undoCreate(ctx, actor, id)
		return store.Training{}, store.Errorf(store.EInvalid, "%s", err.Error())
	}
	err = h.store.InTx(ctx, func(tx pgx.Tx) error {
		if err := store.StartedTraining(ctx, tx, id, jobName, h.store.Now()); err != nil {
			return err
		}
		if backend.Kind() == trainer.Workers { // wake a waiting worker that can train
			if err := AnnounceTraining(ctx, tx, instanceType); err != nil {
				return err
			}
		}
		return store.Audit(ctx, tx, actor.Name(), "training.start", ids, backend.Kind()+" "+instanceType)
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) { // not found: deleted meanwhile
		return store.Training{}, err
	}
	t.Status, t.JobName = trainer.Starting, jobName
	return t, nil
}

// undoCreate removes a training whose backend refused it: its row and
// its input objects.
func (h *Trainings) undoCreate(ctx context.Context, actor policy.Principal, id uuid.UUID) {
	ctx = context.WithoutCancel(ctx)
	err := h.store.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := store.DeleteTrainings(ctx, tx, []uuid.UUID{id}); err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor.Name(), "training.start_failed", id.String(), "")
	})
	if err != nil {
		logx.For(ctx, h.log).Error("remove training after a failed start", "training", id, "error", err)
	}
	h.removeObjects(ctx, id.String())
}

// removeObjects deletes what is stored under kohya/train/<id>/ now.
func (h *Trainings) removeObjects(ctx context.Context, id string) {
	if _, err := h.blob.DeletePrefix(context.WithoutCancel(ctx), trainPrefix(id)); err != nil {
		logx.For(ctx, h.log).Warn("delete training objects", "training", id, "error", err)
	}
}

// datasetSHA256 is the SHA-256 of a dataset's "<key> <sha256>" lines, ""
// while a file's SHA-256 is unknown.
func datasetSHA256(sums []string) string {
	if len(sums) == 0 {
		return ""
	}
	h := sha256.New()
	for _, s := range sums {
		if strings.HasSuffix(s, " ") {
			return ""
		}
		h.Write([]byte(s + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}
