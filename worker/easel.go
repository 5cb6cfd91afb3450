package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"easel/workerproto"
)

var (
	// errLeaseLost is a 409: the job is no longer this worker's.
	errLeaseLost = errors.New("the lease is lost (409): another worker has the job, or it ended")
	// errKeyRefused is a 401 or 403: the key is wrong or revoked.
	errKeyRefused = errors.New("the worker key was refused")
)

// statusError is an answer Easel gave with an unexpected status.
type statusError struct {
	path   string
	status int
	body   string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s: %d %s", e.path, e.status, e.body)
}

// retryable reports whether a failed call may succeed if made again:
// network errors and Easel's 5xx, 408 and 429.
func retryable(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return se.status >= 500 || se.status == http.StatusTooManyRequests || se.status == http.StatusRequestTimeout
	}
	return err != nil && !errors.Is(err, errLeaseLost) && !errors.Is(err, errKeyRefused) &&
		!errors.Is(err, context.Canceled)
}

// maxAnswer bounds what is read of Easel's answers (a Job carries its
// init images).
const maxAnswer = 256 << 20

// call POSTs in to Easel's path and decodes a 200 answer into out. It
// returns the status: 200 or 204; any other is an error.
func (w *Worker) call(ctx context.Context, path string, timeout time.Duration, in, out any) (int, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.Server+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+w.cfg.Key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := w.cfg.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		if out == nil {
			return resp.StatusCode, nil
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxAnswer)).Decode(out); err != nil {
			return 0, fmt.Errorf("%s: reading the answer: %w", path, err)
		}
		return resp.StatusCode, nil
	case http.StatusNoContent:
		return resp.StatusCode, nil
	case http.StatusConflict:
		return resp.StatusCode, errLeaseLost
	case http.StatusUnauthorized, http.StatusForbidden:
		return resp.StatusCode, fmt.Errorf("%w (%d on %s)", errKeyRefused, resp.StatusCode, path)
	}
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return resp.StatusCode, &statusError{path: path, status: resp.StatusCode, body: strings.TrimSpace(string(text))}
}

// callRetrying makes the call until it succeeds, fails for good, or
// attempts run out (0: until ctx is done).
func (w *Worker) callRetrying(ctx context.Context, path string, attempts int, in, out any) error {
	for n := 0; ; n++ {
		_, err := w.call(ctx, path, callTimeout, in, out)
		if err == nil || !retryable(err) || ctx.Err() != nil || (attempts > 0 && n+1 >= attempts) {
			return err
		}
		w.log.Warn("calling Easel failed; retrying", "path", path, "error", err)
		if err := sleep(ctx, w.backoff(n)); err != nil {
			return err
		}
	}
}

// callTimeout bounds every call to Easel but Lease.
const callTimeout = 30 * time.Second

const userAgent = "easel-worker/1"

// hello introduces the worker, retrying until Easel answers.
func (w *Worker) hello(ctx context.Context) error {
	h := workerproto.Hello{Name: w.cfg.Name, Trainer: w.cfg.trainer()}
	h.Cached, _ = w.cachedModels(ctx)
	h.GPU, h.GPUMemoryMiB = w.cfg.GPU(ctx)
	if d, err := w.backend.Describe(ctx); err == nil {
		h.WebUI = d.Server
		if d.GPUMemoryMiB > 0 {
			h.GPUMemoryMiB = d.GPUMemoryMiB
		}
	} else {
		w.log.Warn("the WebUI did not describe itself", "error", err)
	}
	var wel workerproto.Welcome
	if err := w.callRetrying(ctx, workerproto.PathHello, 0, h, &wel); err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	if wel.HeartbeatInterval.Duration <= 0 {
		wel.HeartbeatInterval.Duration = 5 * time.Second
	}
	if wel.LeaseTTL.Duration <= 0 {
		wel.LeaseTTL.Duration = 6 * wel.HeartbeatInterval.Duration
	}
	w.welcome = wel
	w.log.Info("Easel welcomed the worker", "worker_id", wel.WorkerID, "pool", wel.Pool,
		"heartbeat_interval", wel.HeartbeatInterval.Duration, "gpu", h.GPU, "webui", h.WebUI, "cached", len(h.Cached),
		"trainer", h.Trainer)
	return nil
}
