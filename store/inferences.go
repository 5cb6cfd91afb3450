package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Inference job statuses (ESD's).
const (
	InferenceCreated    = "created"
	InferenceInProgress = "inprogress"
	InferenceSucceeded  = "succeed"
	InferenceFailed     = "failed"
)

// UsedModel is a checkpoint an inference uses.
type UsedModel struct {
	ID   string `json:"id"`
	Name string `json:"model_name"`
	S3   string `json:"s3"`
	Type string `json:"type"`
	// SHA256 is the file's checksum when the job was created ("" until the
	// library has computed it).
	SHA256 string `json:"sha256,omitempty"`
}

// Inference is one inference job.
type Inference struct {
	ID                   uuid.UUID
	TaskType             string
	InferenceType        string // Async or Real-time
	Status               string
	Owner                string
	EndpointID           uuid.UUID
	EndpointName         string
	EndpointInstanceType string
	EndpointBackend      string
	ParamsKey            string
	UsedModels           map[string][]UsedModel
	ImageNames           []string
	SageMakerRaw         string
	Prompt               string
	AsyncHandle          json.RawMessage
	CreateTime           time.Time
	StartTime            time.Time
	RunTime              *time.Time // when a worker started it
	CompleteTime         *time.Time
	// The GPU worker that ran it (worker pools only), where it stands, and
	// whether a model had to be downloaded or the checkpoint switched.
	WorkerName    string
	Progress      float32
	Stage         string
	Downloaded    bool
	Switched      bool
	CheckpointSHA string // SHA-256 of the job's checkpoint when it was created
	Thumbnails    bool   // the gallery's JPEGs of the images are stored
	// Webhook is the job's own webhook URL ("" none) and WebhookEvents the
	// events it is told of (start, completed, failed, cancelled).
	Webhook       string
	WebhookEvents []string
}

const inferenceColumns = `i.id, i.task_type, i.inference_type, i.status, i.owner, i.endpoint_id, i.endpoint_name,
	i.endpoint_instance_type, i.endpoint_backend, i.params_key, i.used_models, i.image_names, i.sagemaker_raw,
	i.prompt, i.async_handle, i.create_time, i.start_time, i.run_time, i.complete_time,
	i.worker_name, i.progress, i.stage, i.downloaded, i.switched, i.checkpoint_sha, i.thumbnails, i.webhook, i.webhook_events`

// scanInference scans inferenceColumns, then the extra columns of the
// query into extra.
func scanInference(row interface{ Scan(...any) error }, extra ...any) (Inference, error) {
	var i Inference
	var used []byte
	err := row.Scan(append([]any{&i.ID, &i.TaskType, &i.InferenceType, &i.Status, &i.Owner, &i.EndpointID, &i.EndpointName,
		&i.EndpointInstanceType, &i.EndpointBackend, &i.ParamsKey, &used, &i.ImageNames, &i.SageMakerRaw,
		&i.Prompt, &i.AsyncHandle, &i.CreateTime, &i.StartTime, &i.RunTime, &i.CompleteTime,
		&i.WorkerName, &i.Progress, &i.Stage, &i.Downloaded, &i.Switched, &i.CheckpointSHA, &i.Thumbnails, &i.Webhook, &i.WebhookEvents}, extra...)...)
	if err == nil {
		err = json.Unmarshal(used, &i.UsedModels)
	}
	return i, err
}

// CreateInference inserts a created job.
func CreateInference(ctx context.Context, db DBTX, i Inference) error {
	used, _ := json.Marshal(i.UsedModels)
	_, err := db.Exec(ctx, `
		INSERT INTO inferences (id, task_type, inference_type, status, owner, endpoint_id, endpoint_name,
			endpoint_instance_type, endpoint_backend, params_key, used_models, create_time, start_time, checkpoint_sha,
			webhook, webhook_events)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, COALESCE($15::text[], '{start,completed,failed,cancelled}'))`,
		i.ID, i.TaskType, i.InferenceType, InferenceCreated, i.Owner, i.EndpointID, i.EndpointName,
		i.EndpointInstanceType, i.EndpointBackend, i.ParamsKey, used, i.CreateTime, i.CheckpointSHA,
		i.Webhook, i.WebhookEvents)
	return translate("create inference", err)
}

// FindInference returns the job with id, or ErrNotFound.
func FindInference(ctx context.Context, db DBTX, id uuid.UUID) (Inference, error) {
	i, err := scanInference(db.QueryRow(ctx, `SELECT `+inferenceColumns+` FROM inferences i WHERE i.id = $1`, id))
	return i, translate("find inference", err)
}

// LockInference is FindInference holding the row until the transaction ends.
func LockInference(ctx context.Context, db DBTX, id uuid.UUID) (Inference, error) {
	i, err := scanInference(db.QueryRow(ctx, `SELECT `+inferenceColumns+` FROM inferences i WHERE i.id = $1 FOR UPDATE`, id))
	return i, translate("lock inference", err)
}

// InferenceFilter narrows ListInferences.
type InferenceFilter struct {
	Owner    string // "" all
	Status   string
	Endpoint string
	Model    string // keeps jobs that used a checkpoint of this name
	Since    *time.Time
	After    *uuid.UUID // keyset: continue after this job
	Limit    int        // 0: all
}

// ListInferences calls fn for each job matching f, newest first, without
// holding them all in memory.
func ListInferences(ctx context.Context, db DBTX, f InferenceFilter, fn func(Inference) error) error {
	limit := f.Limit
	if limit <= 0 {
		limit = 1 << 30
	}
	rows, err := db.Query(ctx, `
		SELECT `+inferenceColumns+` FROM inferences i
		WHERE ($1 = '' OR i.owner = $1)
		  AND ($2 = '' OR i.status = $2)
		  AND ($3 = '' OR i.endpoint_name = $3)
		  AND ($4::timestamptz IS NULL OR i.create_time >= $4)
		  AND ($5::uuid IS NULL OR (i.create_time, i.id) < (SELECT create_time, id FROM inferences WHERE id = $5))
		  AND ($7 = '' OR EXISTS (SELECT 1 FROM jsonb_each(i.used_models) t, jsonb_array_elements(t.value) m
		                          WHERE m->>'model_name' = $7))
		ORDER BY i.create_time DESC, i.id DESC
		LIMIT $6`, f.Owner, f.Status, f.Endpoint, f.Since, f.After, limit, f.Model)
	if err != nil {
		return translate("list inferences", err)
	}
	defer rows.Close()
	for rows.Next() {
		i, err := scanInference(rows)
		if err != nil {
			return translate("list inferences", err)
		}
		if err := fn(i); err != nil {
			return err
		}
	}
	return translate("list inferences", rows.Err())
}

// InferenceUpdate changes some fields of a job; nil leaves a field.
type InferenceUpdate struct {
	Status       *string
	ImageNames   []string
	SageMakerRaw *string
	Prompt       *string
	AsyncHandle  json.RawMessage
	StartTime    *time.Time
	RunTime      *time.Time
	CompleteTime *time.Time
	// OnlyIf applies the update only while the job has this status.
	OnlyIf string
}

// UpdateInference applies upd and reports whether the job was changed
// (false when OnlyIf did not hold).
func UpdateInference(ctx context.Context, db DBTX, id uuid.UUID, upd InferenceUpdate) (bool, error) {
	tag, err := db.Exec(ctx, `
		UPDATE inferences SET
			status = COALESCE($2, status),
			image_names = COALESCE($3, image_names),
			sagemaker_raw = COALESCE($4, sagemaker_raw),
			prompt = COALESCE($5, prompt),
			async_handle = COALESCE($6::jsonb, async_handle),
			start_time = COALESCE($7, start_time),
			run_time = COALESCE($8, run_time),
			complete_time = COALESCE($9, complete_time)
		WHERE id = $1 AND ($10 = '' OR status = $10)`,
		id, upd.Status, upd.ImageNames, upd.SageMakerRaw, upd.Prompt, nullJSON(upd.AsyncHandle),
		upd.StartTime, upd.RunTime, upd.CompleteTime, upd.OnlyIf)
	if err != nil {
		return false, translate("update inference", err)
	}
	return tag.RowsAffected() == 1, nil
}

func nullJSON(b json.RawMessage) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// DeleteInferences removes jobs and returns them.
func DeleteInferences(ctx context.Context, db DBTX, ids []uuid.UUID) ([]Inference, error) {
	rows, err := db.Query(ctx, `DELETE FROM inferences i WHERE i.id = ANY ($1) RETURNING `+inferenceColumns, ids)
	if err != nil {
		return nil, translate("delete inferences", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Inference, error) { return scanInference(r) })
	return out, translate("delete inferences", err)
}

// BusyEndpoints returns how many jobs are in progress on each of ids.
func BusyEndpoints(ctx context.Context, db DBTX, ids []uuid.UUID) (map[uuid.UUID]int, error) {
	rows, err := db.Query(ctx, `SELECT endpoint_id, count(*) FROM inferences
		WHERE status = 'inprogress' AND endpoint_id = ANY ($1) GROUP BY endpoint_id`, ids)
	if err != nil {
		return nil, translate("busy endpoints", err)
	}
	defer rows.Close()
	out := map[uuid.UUID]int{}
	for rows.Next() {
		var id uuid.UUID
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, translate("busy endpoints", err)
		}
		out[id] = n
	}
	return out, translate("busy endpoints", rows.Err())
}

// FindActiveCheckpoint returns the Active checkpoint of type typ named name
// that v may see (nil sees all), by the same visibility rule as the list;
// one it may not see is ErrNotFound, like a missing one.
func FindActiveCheckpoint(ctx context.Context, db DBTX, v *Viewer, typ, name string) (Checkpoint, error) {
	c, err := scanCheckpoint(db.QueryRow(ctx, `SELECT `+checkpointColumns+` FROM checkpoints c
		JOIN checkpoint_names n ON n.checkpoint_id = c.id
		WHERE `+visibleTo("c.allowed_roles")+` AND n.name = $4 AND c.type = $5 AND c.status = 'Active'`,
		append(viewerArgs(v), name, typ)...))
	return c, translate("find active checkpoint", err)
}

// SetCheckpointSHA records the SHA-256 of a job's checkpoint, learnt after
// the job was created.
func SetCheckpointSHA(ctx context.Context, db DBTX, id uuid.UUID, sha string) error {
	_, err := db.Exec(ctx, `UPDATE inferences SET checkpoint_sha = $2 WHERE id = $1 AND checkpoint_sha = ''`, id, sha)
	return translate("set checkpoint sha", err)
}
