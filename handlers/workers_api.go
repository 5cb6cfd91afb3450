package handlers

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"easel/actions"
	"easel/store"
	"easel/workerproto"
)

// Workers adapts the lease protocol actions to HTTP (workerproto).
type Workers struct {
	*actions.Workers
}

// NewWorkers returns the workers handler over a.
func NewWorkers(a *actions.Workers) *Workers { return &Workers{Workers: a} }

func workerKey(c echo.Context) store.APIKey {
	k, _ := c.Get("worker_key").(store.APIKey)
	return k
}

// decodeWorker reads a protocol message (the body limit applies first).
func decodeWorker(c echo.Context, v any) error {
	if err := json.NewDecoder(c.Request().Body).Decode(v); err != nil {
		return store.Errorf(store.EInvalid, "the body is not the JSON this call takes: %v", err)
	}
	return nil
}

// Hello is POST /workers/v1/hello.
func (h *Workers) Hello(c echo.Context) error {
	var in workerproto.Hello
	if err := decodeWorker(c, &in); err != nil {
		return err
	}
	out, err := h.Workers.Hello(c.Request().Context(), workerKey(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// Lease is POST /workers/v1/lease: 200 with a job, or 204 after the wait.
func (h *Workers) Lease(c echo.Context) error {
	var in workerproto.LeaseRequest
	if err := decodeWorker(c, &in); err != nil {
		return err
	}
	job, err := h.Workers.Lease(c.Request().Context(), workerKey(c), in)
	if err != nil {
		return err
	}
	if job == nil {
		return c.NoContent(http.StatusNoContent)
	}
	return c.JSON(http.StatusOK, job)
}

// Heartbeat is POST /workers/v1/heartbeat.
func (h *Workers) Heartbeat(c echo.Context) error {
	var in workerproto.Heartbeat
	if err := decodeWorker(c, &in); err != nil {
		return err
	}
	out, err := h.Workers.Heartbeat(c.Request().Context(), workerKey(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// Complete is POST /workers/v1/complete.
func (h *Workers) Complete(c echo.Context) error {
	var in workerproto.Complete
	if err := decodeWorker(c, &in); err != nil {
		return err
	}
	if err := h.Workers.Complete(c.Request().Context(), workerKey(c), in); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// Fail is POST /workers/v1/fail.
func (h *Workers) Fail(c echo.Context) error {
	var in workerproto.Fail
	if err := decodeWorker(c, &in); err != nil {
		return err
	}
	if err := h.Workers.Fail(c.Request().Context(), workerKey(c), in); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// Upload is POST /workers/v1/upload: presigned PUTs for a training's files.
func (h *Workers) Upload(c echo.Context) error {
	var in workerproto.UploadRequest
	if err := decodeWorker(c, &in); err != nil {
		return err
	}
	out, err := h.Workers.Upload(c.Request().Context(), workerKey(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
