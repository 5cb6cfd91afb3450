package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"easel/gpu/a1111"
	"easel/jobs"
	"easel/store"
	"easel/workerproto"
)

// notReady is a job a worker cannot run yet (a model's checksum is still
// being computed): it goes back to the queue until retry has passed.
type notReady struct {
	why   string
	retry time.Duration
}

func (e notReady) Error() string { return e.why }

// stagingPrefix is where the holder of a lease puts its images; the
// winner's are copied to the job's results, so a late worker whose lease
// expired can never overwrite them.
func stagingPrefix(id, token uuid.UUID) string {
	return fmt.Sprintf("out/%s/lease/%s/", id, token)
}

// describe turns a lease into the Job a worker runs: the parameters, every
// model with a presigned GET and its SHA-256, and presigned PUTs for the
// images.
func (h *Workers) describe(ctx context.Context, db store.DBTX, l store.Lease) (*workerproto.Job, error) {
	raw, err := jobs.ReadParams(ctx, h.blob, l.ParamsKey)
	if err != nil {
		return nil, err
	}
	var params map[string]any
	if err := json.Unmarshal(raw, &params); err != nil {
		return nil, fmt.Errorf("the parameter file is not a JSON object: %w", err)
	}
	// Workers get what is safe for a shared WebUI, like push pools.
	if params, err = a1111.Sanitise(l.TaskType, params); err != nil {
		return nil, err
	}
	ttl := time.Until(l.StartTime.Add(h.t.JobTimeout)) + time.Minute
	job := &workerproto.Job{ID: l.ID.String(), Token: l.Token.String(), Task: l.TaskType, Params: params,
		Deadline: workerproto.Time{Time: l.Deadline}}
	for typ, used := range l.UsedModels {
		for _, u := range used {
			if typ == "VAE" && u.ID == "VAE" { // Automatic or None: nothing to fetch
				job.VAE = u.Name
				continue
			}
			m, err := h.model(ctx, db, typ, u, ttl)
			if err != nil {
				return nil, err
			}
			job.Models = append(job.Models, m)
			switch typ {
			case "Stable-diffusion":
				job.Checkpoint = m.Name
				if l.CheckpointSHA == "" {
					if err := store.SetCheckpointSHA(ctx, db, l.ID, m.SHA256); err != nil {
						return nil, err
					}
				}
			case "VAE":
				job.VAE = m.Name
			}
		}
	}
	for n := range jobs.MaxImages {
		url, err := h.blob.PresignPut(ctx, fmt.Sprintf("%simage_%d.png", stagingPrefix(l.ID, l.Token), n), ttl)
		if err != nil {
			return nil, err
		}
		job.Uploads = append(job.Uploads, url)
	}
	return job, nil
}

// model returns the library file u of a job, with a presigned GET.
func (h *Workers) model(ctx context.Context, db store.DBTX, typ string, u store.UsedModel, ttl time.Duration) (workerproto.Model, error) {
	id, err := uuid.Parse(u.ID)
	if err != nil {
		return workerproto.Model{}, fmt.Errorf("model %s has no id in the library", u.Name)
	}
	c, err := store.FindCheckpoint(ctx, db, id)
	if errors.Is(err, store.ErrNotFound) {
		return workerproto.Model{}, fmt.Errorf("model %s was deleted from the library after the job was created", u.Name)
	}
	if err != nil {
		return workerproto.Model{}, err
	}
	if c.SHA256 == "" {
		return workerproto.Model{}, notReady{why: fmt.Sprintf("the SHA-256 of model %s is still being computed", u.Name), retry: 2 * time.Second}
	}
	name := c.Names[0] // as it is called now, should it have been renamed
	key := strings.TrimPrefix(c.S3Location, "s3://"+h.blob.Bucket+"/") + "/" + name
	url, err := h.blob.PresignGet(ctx, key, ttl)
	if err != nil {
		return workerproto.Model{}, err
	}
	var size int64
	if c.Size != nil {
		size = *c.Size
	}
	return workerproto.Model{Type: typ, Name: name, SHA256: c.SHA256, Size: size, URL: url}, nil
}
