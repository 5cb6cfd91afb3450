package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"easel/blob"
	"easel/jobs"
	"easel/store"
	"easel/trainer"
)

// maxLossPoints bounds a training's loss curve: past it, every other
// point is dropped (the first and the latest stay).
const maxLossPoints = 2000

// maxTrainingObjects bounds how many output or log objects one training
// registers.
const maxTrainingObjects = 1000

// reporterActor names the backends in the audit log.
const reporterActor = "trainer"

// Progress records a running training's status and progress, and a point
// [step, loss] on its loss curve when a loss is reported. News about a
// training that is deleted or has ended is ignored.
func (h *Trainings) Progress(ctx context.Context, id string, p trainer.Progress) error {
	uid, err := uuid.Parse(id)
	if err != nil {
		return nil // no such training
	}
	status := trainer.Normalise(p.Status)
	if !trainer.Running(status) {
		return fmt.Errorf("training %s: progress with status %q; use Finish to end it", id, p.Status)
	}
	progress, _ := json.Marshal(p)
	return h.store.InTx(ctx, func(tx pgx.Tx) error {
		t, err := store.FindTraining(ctx, tx, uid, true)
		if errors.Is(err, store.ErrNotFound) || err == nil && t.Finished() {
			return nil
		}
		if err != nil {
			return err
		}
		upd := store.TrainingProgress{Status: status, Progress: progress}
		if (p.Loss != 0 || p.Step != 0) && !math.IsNaN(p.Loss) && !math.IsInf(p.Loss, 0) {
			upd.LossCurve = appendLoss(t.LossCurve, float64(p.Step), p.Loss)
		}
		if _, err := store.UpdateTrainingProgress(ctx, tx, uid, upd, h.store.Now()); err != nil {
			return err
		}
		if status != t.Status {
			return store.Audit(ctx, tx, reporterActor, "training.status", id, status)
		}
		return nil
	})
}

// appendLoss adds [step, loss] to curve, thinning it past maxLossPoints.
func appendLoss(curve json.RawMessage, step, loss float64) json.RawMessage {
	var points [][2]float64
	_ = json.Unmarshal(curve, &points)
	points = append(points, [2]float64{step, loss})
	if len(points) > maxLossPoints {
		thin := make([][2]float64, 0, len(points)/2+1)
		for i := 0; i < len(points)-1; i += 2 {
			thin = append(thin, points[i])
		}
		points = append(thin, points[len(points)-1])
	}
	out, _ := json.Marshal(points)
	return out
}

// Finish ends a training (CONTRACT-TRAINING §3.6). On Completed each
// .safetensors file under its output prefix becomes an Active Lora
// checkpoint owned like the training, with its lineage; a job that
// produced none is Failed ("no model file produced"). The logs under its
// logs prefix are recorded. News about a training that is deleted or has
// ended is ignored.
func (h *Trainings) Finish(ctx context.Context, id string, o trainer.Outcome) error {
	uid, err := uuid.Parse(id)
	if err != nil {
		return nil
	}
	end := store.TrainingEnd{Status: trainer.Normalise(o.Status), Reason: o.Reason}
	if trainer.Running(end.Status) || end.Status == trainer.Initial {
		return fmt.Errorf("training %s: finish with status %q", id, o.Status)
	}
	if o.BillableSeconds > 0 {
		end.BillableSeconds = &o.BillableSeconds
	}
	t, err := store.FindTraining(ctx, h.store.DB(), uid, false)
	if errors.Is(err, store.ErrNotFound) || err == nil && t.Finished() {
		return nil
	}
	if err != nil {
		return err
	}
	var models []blob.Object
	if end.Status == trainer.Completed {
		if models, err = h.producedModels(ctx, id); err != nil {
			return err
		}
		if len(models) == 0 {
			end.Status, end.Reason = trainer.Failed, "no model file produced"
		}
	}
	if end.Logs, err = h.logNames(ctx, id); err != nil {
		return err
	}
	if end.Reason == "" && end.Status != trainer.Completed {
		end.Reason = "training " + strings.ToLower(end.Status)
	}
	return h.store.InTx(ctx, func(tx pgx.Tx) error {
		t, err := store.FindTraining(ctx, tx, uid, true)
		if errors.Is(err, store.ErrNotFound) || err == nil && t.Finished() {
			return nil
		}
		if err != nil {
			return err
		}
		for _, m := range models {
			if err := h.register(ctx, tx, t, m); err != nil {
				return err
			}
		}
		if err := store.EndTraining(ctx, tx, uid, end, h.store.Now()); err != nil {
			return err
		}
		return store.Audit(ctx, tx, reporterActor, "training."+strings.ToLower(end.Status), id, end.Reason)
	})
}

// producedModels returns the .safetensors files directly under the
// training's output prefix.
func (h *Trainings) producedModels(ctx context.Context, id string) ([]blob.Object, error) {
	objs, err := h.blob.ObjectsUnder(ctx, outputPrefix(id), maxTrainingObjects)
	if err != nil {
		return nil, err
	}
	var out []blob.Object
	for _, o := range objs {
		name := strings.TrimPrefix(o.Key, outputPrefix(id))
		if strings.HasSuffix(name, ".safetensors") && checkFilename(name) == nil {
			out = append(out, blob.Object{Key: name, Size: o.Size})
		}
	}
	return out, nil
}

// logNames returns the names of the files under the training's logs prefix.
func (h *Trainings) logNames(ctx context.Context, id string) ([]string, error) {
	objs, err := h.blob.ObjectsUnder(ctx, logsPrefix(id), maxTrainingObjects)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, o := range objs {
		out = append(out, strings.TrimPrefix(o.Key, logsPrefix(id)))
	}
	return out, nil
}

// register makes the produced file m (Key: its name) a Lora checkpoint of
// t, unless a checkpoint of that name exists.
func (h *Trainings) register(ctx context.Context, tx pgx.Tx, t store.Training, m blob.Object) error {
	taken, err := store.NameTaken(ctx, tx, m.Key)
	if err != nil || taken {
		return err
	}
	c := store.Checkpoint{ID: uuid.New(), Type: "Lora", Status: store.CheckpointActive,
		S3Location: h.s3(strings.TrimSuffix(outputPrefix(t.ID.String()), "/")), Names: []string{m.Key},
		AllowedRoles: t.AllowedRoles, Creator: t.Creator, Message: "trained by " + t.ID.String(),
		CreatedAt: h.store.Now()}
	base := ""
	if t.BaseCheckpoint != nil {
		base = t.BaseCheckpoint.String()
	}
	l := store.Lineage{TrainingID: t.ID.String(), OutputName: t.OutputName, Dataset: t.Dataset,
		DatasetSHA256: t.DatasetSHA256, BaseModel: t.BaseName, BaseCheckpointID: base, BaseSHA256: t.BaseSHA256,
		FMType: t.FMType}
	if err := store.CreateTrainedCheckpoint(ctx, tx, c, m.Size, l); err != nil {
		return err
	}
	if _, err := h.jobs.InsertTx(ctx, tx, jobs.ChecksumArgs{CheckpointID: c.ID}, nil); err != nil {
		return fmt.Errorf("enqueue checksum: %w", err)
	}
	return store.Audit(ctx, tx, reporterActor, "checkpoint.trained", c.ID.String(), path.Join(t.ID.String(), m.Key))
}
