package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// Worker is an `easel worker` process as it last reported itself.
type Worker struct {
	ID           uuid.UUID
	Pool         string
	Name         string
	KeyID        uuid.UUID
	GPU          string
	GPUMemoryMiB int64
	WebUI        string
	Cached       []WorkerModel
	Loaded       string // SHA-256 of the checkpoint its WebUI has loaded
	// Trainer is what it trains LoRAs with: "" (it cannot), "sd-scripts"
	// or "simulator" (workerproto.Trainer*).
	Trainer   string
	StartedAt time.Time
	LastSeen  time.Time
	// Job is the inference it holds a live lease on, if any.
	Job *WorkerJob
}

// WorkerModel is a model file in a worker's cache.
type WorkerModel struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size,omitempty"`
}

// WorkerJob is the job a worker runs, as the Workers page shows it.
type WorkerJob struct {
	ID       uuid.UUID
	Progress float32
	Stage    string
	// Training: the job is a LoRA training (Stage is its status).
	Training bool
}

// SaveWorker records a worker saying hello: a new row, or the same worker
// (key and name) starting again. It returns the worker's id.
func SaveWorker(ctx context.Context, db DBTX, w Worker) (uuid.UUID, error) {
	cached, _ := json.Marshal(nonNilModels(w.Cached))
	var id uuid.UUID
	err := db.QueryRow(ctx, `
		INSERT INTO workers (id, pool, name, key_id, gpu, gpu_memory_mib, webui, cached, loaded, started_at, last_seen,
			trainer, can_train)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '', $9, $9, $10, $10 <> '')
		ON CONFLICT (key_id, name) DO UPDATE SET pool = $2, gpu = $5, gpu_memory_mib = $6, webui = $7,
			cached = $8, loaded = '', started_at = $9, last_seen = $9, trainer = $10, can_train = $10 <> ''
		RETURNING id`,
		uuid.New(), w.Pool, w.Name, w.KeyID, w.GPU, w.GPUMemoryMiB, w.WebUI, cached, w.StartedAt, w.Trainer).Scan(&id)
	return id, translate("save worker", err)
}

// TouchWorker records that the worker with id (of key) is alive, with what
// it has now and what it trains with; ErrNotFound when no such worker
// belongs to key.
func TouchWorker(ctx context.Context, db DBTX, id, key uuid.UUID, cached []WorkerModel, loaded, trainer string, now time.Time) (Worker, error) {
	raw, _ := json.Marshal(nonNilModels(cached))
	w, err := scanWorker(db.QueryRow(ctx, `
		UPDATE workers w SET last_seen = $3, cached = $4, loaded = $5, trainer = $6, can_train = $6 <> ''
		WHERE w.id = $1 AND w.key_id = $2
		RETURNING `+workerColumns, id, key, now, raw, loaded, trainer))
	return w, translate("touch worker", err)
}

// CountOnlineWorkers counts the workers of pool seen since since.
func CountOnlineWorkers(ctx context.Context, db DBTX, pool string, since time.Time) (int, error) {
	var n int
	err := db.QueryRow(ctx, `SELECT count(*) FROM workers WHERE pool = $1 AND last_seen >= $2`, pool, since).Scan(&n)
	return n, translate("count workers", err)
}

// ListWorkers returns the workers of the pools given (all when empty),
// most recently seen first, each with the job it holds a live lease on.
func ListWorkers(ctx context.Context, db DBTX, pools []string, now time.Time) ([]Worker, error) {
	rows, err := db.Query(ctx, `
		SELECT `+workerColumns+`, j.id, j.progress, j.stage, j.training FROM workers w
		LEFT JOIN LATERAL (
			SELECT i.id, i.progress, i.stage, false AS training FROM inferences i
			WHERE i.lease_worker = w.id AND i.status = 'inprogress' AND i.lease_deadline > $2
			UNION ALL
			SELECT t.id, 0, t.status, true FROM trainings t
			WHERE t.lease_worker = w.id AND t.status IN ('Starting', 'Downloading', 'Training', 'Uploading')
			  AND t.lease_deadline > $2
			LIMIT 1) j ON true
		WHERE cardinality($1::text[]) = 0 OR w.pool = ANY ($1)
		ORDER BY w.last_seen DESC, w.name`, nonNil(pools), now)
	if err != nil {
		return nil, translate("list workers", err)
	}
	defer rows.Close()
	out := []Worker{}
	for rows.Next() {
		var w Worker
		var cached []byte
		var jobID *uuid.UUID
		var progress *float32
		var stage *string
		var training *bool
		if err := rows.Scan(&w.ID, &w.Pool, &w.Name, &w.KeyID, &w.GPU, &w.GPUMemoryMiB, &w.WebUI, &cached, &w.Loaded,
			&w.Trainer, &w.StartedAt, &w.LastSeen, &jobID, &progress, &stage, &training); err != nil {
			return nil, translate("list workers", err)
		}
		_ = json.Unmarshal(cached, &w.Cached)
		if jobID != nil {
			w.Job = &WorkerJob{ID: *jobID, Progress: *progress, Stage: *stage, Training: *training}
		}
		out = append(out, w)
	}
	return out, translate("list workers", rows.Err())
}

const workerColumns = `w.id, w.pool, w.name, w.key_id, w.gpu, w.gpu_memory_mib, w.webui, w.cached, w.loaded, w.trainer, w.started_at, w.last_seen`

func scanWorker(row interface{ Scan(...any) error }) (Worker, error) {
	var w Worker
	var cached []byte
	err := row.Scan(&w.ID, &w.Pool, &w.Name, &w.KeyID, &w.GPU, &w.GPUMemoryMiB, &w.WebUI, &cached, &w.Loaded, &w.Trainer, &w.StartedAt, &w.LastSeen)
	if err == nil {
		err = json.Unmarshal(cached, &w.Cached)
	}
	return w, err
}

func nonNilModels(m []WorkerModel) []WorkerModel {
	if m == nil {
		return []WorkerModel{}
	}
	return m
}
