package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"easel/actions"
	"easel/gpu"
	"easel/jobs"
	"easel/store"
)

// RealtimeWait is how long a Real-time start waits for its result before
// answering with the job still inprogress (API Gateway cut ESD at 29 s).
// A graceful shutdown waits at least this long (app.ShutdownWait).
const RealtimeWait = 25 * time.Second

// rowOf is ESD's list row of job (jobs.RowOf: webhooks send the same).
func (h *Inferences) rowOf(job store.Inference) jobs.InferenceRow {
	return jobs.RowOf(h.blob.Bucket, job)
}

// detail is GET /inferences/{id}'s data: the row plus presigned URLs.
func (h *Inferences) detail(c echo.Context, job store.Inference) (map[string]any, error) {
	return jobs.DetailOf(c.Request().Context(), h.blob, job, actions.PresignTTL)
}

// CreateAPI is POST /inferences (201 with the params upload URL).
func (h *Inferences) CreateAPI(c echo.Context) error {
	var in actions.InferenceInput
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	out, err := h.Create(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	inf := map[string]any{"id": out.Job.ID.String(), "type": out.Job.TaskType,
		"api_params_s3_location": out.S3, "api_params_s3_upload_url": out.UploadURL}
	if len(out.Models) > 0 || in.TaskType == "txt2img" || in.TaskType == "img2img" {
		inf["models"] = out.Models
	}
	return Respond(c, http.StatusCreated, map[string]any{"inference": inf}, "")
}

// StartAPI is PUT /inferences/{id}/start: 202 for Async, 200 with the job
// for Real-time.
func (h *Inferences) StartAPI(c echo.Context) error {
	job, err := h.Start(c.Request().Context(), actor(c), c.Param("id"), RealtimeWait)
	if err != nil {
		return err
	}
	if job.InferenceType == gpu.Async {
		return Respond(c, http.StatusAccepted, map[string]any{"inference": map[string]any{
			"inference_id": job.ID.String(), "status": job.Status, "endpoint_name": job.EndpointName,
			"output_path": h.S3URI(jobs.ParamFileKey(job.ID)),
		}}, "")
	}
	data, err := h.detail(c, job)
	if err != nil {
		return err
	}
	return Respond(c, http.StatusOK, data, "")
}

// GetAPI is GET /inferences/{id}.
func (h *Inferences) GetAPI(c echo.Context) error {
	job, err := h.Get(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	data, err := h.detail(c, job)
	if err != nil {
		return err
	}
	return Respond(c, http.StatusOK, data, "")
}

// CancelAPI is POST /inferences/{id}/cancel (ours).
func (h *Inferences) CancelAPI(c echo.Context) error {
	job, err := h.Cancel(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	data, err := h.detail(c, job)
	if err != nil {
		return err
	}
	return Respond(c, http.StatusOK, data, "inference cancelled")
}

// ListAPI is GET /inferences: newest first; with a positive limit one page
// and last_evaluated_key, without it every row, streamed.
func (h *Inferences) ListAPI(c echo.Context) error {
	f := store.InferenceFilter{}
	if raw := c.QueryParam("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 {
			return store.Errorf(store.EInvalid, "limit must be a whole number, not %q", raw)
		}
		f.Limit = n
	}
	if raw := c.QueryParam("exclusive_start_key"); raw != "" {
		id, err := uuid.Parse(raw)
		if err != nil {
			return store.Errorf(store.EInvalid, "exclusive_start_key %q is not a key this API returned", raw)
		}
		f.After = &id
	}
	w := newListStream(c, "inferences")
	var last string
	n := 0
	err := h.List(c.Request().Context(), actor(c), f, c.QueryParam("username"), func(job store.Inference) error {
		n++
		last = job.ID.String()
		return w.item(h.rowOf(job))
	})
	if err != nil {
		return w.fail(err)
	}
	extra := map[string]any{}
	if f.Limit > 0 && n == f.Limit {
		extra["last_evaluated_key"] = last
	}
	return w.finish(extra)
}

// DeleteAPI is DELETE /inferences: rows, parameters and result images.
func (h *Inferences) DeleteAPI(c echo.Context) error {
	var in struct {
		IDs []string `json:"inference_id_list"`
	}
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	if err := h.Delete(c.Request().Context(), actor(c), in.IDs); err != nil {
		return err
	}
	return Respond(c, http.StatusNoContent, nil, "inferences deleted")
}
