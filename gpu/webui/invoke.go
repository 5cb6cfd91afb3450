package webui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"easel/gpu"
)

// taskPaths maps the tasks Invoke runs to A1111 API paths.
var taskPaths = map[string]string{
	"txt2img":            "/sdapi/v1/txt2img",
	"img2img":            "/sdapi/v1/img2img",
	"extra-single-image": "/sdapi/v1/extra-single-image",
}

// maxAnswer bounds an A1111 answer (16 base64 PNGs of 2048x2048 fit).
const maxAnswer = 512 << 20

// HTTPError is an error answer of a member: A1111's error text.
type HTTPError struct {
	Member     string // host and path, no credentials
	StatusCode int
	Message    string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("webui member %s: HTTP %d: %s", e.Member, e.StatusCode, e.Message)
}

// Invoke POSTs req.Params to the A1111 API path of req.Task on one member
// of the endpoint's pool: a free one (at most one request per member),
// healthy ones first, round robin; when all are busy it waits, honouring
// ctx, whose deadline is the request timeout. An unreachable, timed-out
// or 5xx member is marked unhealthy for Cooldown and the error is a
// gpu.TransientError; a 4xx answer is a plain *HTTPError.
func (b *Backend) Invoke(ctx context.Context, name string, req gpu.Request) (gpu.Result, error) {
	p, err := b.poolOf(name)
	if err != nil {
		return gpu.Result{}, err
	}
	path, ok := taskPaths[req.Task]
	if !ok {
		return gpu.Result{}, fmt.Errorf("webui: task %q is not supported (txt2img, img2img, extra-single-image)", req.Task)
	}
	m, err := p.acquire(ctx)
	if err != nil {
		err = fmt.Errorf("webui pool %s: waiting for a free member: %w", p.name, err)
		if errors.Is(err, context.DeadlineExceeded) {
			return gpu.Result{}, gpu.TransientError{Err: err}
		}
		return gpu.Result{}, err
	}
	defer p.release(m)

	body, err := b.post(ctx, m, path, req.Params)
	if err != nil {
		var he *HTTPError
		switch {
		case errors.Is(err, context.Canceled) && ctx.Err() != nil:
			return gpu.Result{}, err // the caller gave up; not the member's fault
		case errors.As(err, &he) && (he.StatusCode == http.StatusTooManyRequests ||
			he.StatusCode == http.StatusRequestTimeout):
			return gpu.Result{}, gpu.TransientError{Err: err} // busy, not broken
		case errors.As(err, &he) && he.StatusCode < 500:
			return gpu.Result{}, err
		}
		p.mark(m, b.Cooldown)
		b.log.Warn("webui member failed", "pool", p.name, "member", m.name, "inference", req.InferenceID, "err", err)
		return gpu.Result{}, gpu.TransientError{Err: err}
	}
	p.mark(m, 0)
	return decodeResult(m, req, body)
}

// post sends params to m and returns the body of a 2xx answer.
func (b *Backend) post(ctx context.Context, m *member, path string, params json.RawMessage) ([]byte, error) {
	if len(params) == 0 {
		params = json.RawMessage("{}")
	}
	hreq, err := b.newRequest(ctx, m, http.MethodPost, path, bytes.NewReader(params))
	if err != nil {
		return nil, err
	}
	resp, err := b.client.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("webui member %s: %w", m.name, causeOf(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("webui member %s: reading the answer: %w", m.name, causeOf(err))
	}
	if resp.StatusCode/100 != 2 {
		return nil, &HTTPError{Member: m.name, StatusCode: resp.StatusCode, Message: errorText(body)}
	}
	return body, nil
}

// decodeResult turns an A1111 answer into a gpu.Result. For
// extra-single-image, "image" becomes Images[0], Parameters echoes the
// request and Info is {"html_info": ...}.
func decodeResult(m *member, req gpu.Request, body []byte) (gpu.Result, error) {
	bad := func(err error) (gpu.Result, error) {
		return gpu.Result{}, fmt.Errorf("webui member %s: the answer is not A1111's %s JSON: %v", m.name, req.Task, err)
	}
	if req.Task == "extra-single-image" {
		var a struct {
			HTMLInfo string `json:"html_info"`
			Image    string `json:"image"`
		}
		if err := json.Unmarshal(body, &a); err != nil {
			return bad(err)
		}
		if a.Image == "" {
			return bad(errors.New("no image"))
		}
		info, _ := json.Marshal(map[string]string{"html_info": a.HTMLInfo})
		return gpu.Result{Images: []string{a.Image}, Parameters: req.Params, Info: string(info)}, nil
	}
	// A WebUI's error JSON with 200 is no result (Failure says why).
	res, err := gpu.ParseResult(body)
	if err != nil {
		return bad(err)
	}
	return res, nil
}

// errorText extracts A1111's error text from an error body: FastAPI's
// {"detail": "..."} or {"detail": [{"msg": ...}]}, A1111's
// {"error": ..., "detail": ..., "errors": ...}, or the raw body.
func errorText(body []byte) string {
	var e struct {
		Error  string          `json:"error"`
		Detail json.RawMessage `json:"detail"`
		Errors string          `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil {
		return truncate(strings.TrimSpace(string(body)))
	}
	var parts []string
	if e.Error != "" {
		parts = append(parts, e.Error)
	}
	var detail string
	var list []struct {
		Loc []any  `json:"loc"`
		Msg string `json:"msg"`
	}
	if json.Unmarshal(e.Detail, &detail) == nil && detail != "" {
		parts = append(parts, detail)
	} else if json.Unmarshal(e.Detail, &list) == nil {
		for _, d := range list {
			parts = append(parts, fmt.Sprintf("%v: %s", d.Loc, d.Msg))
		}
	}
	if e.Errors != "" && e.Errors != detail {
		parts = append(parts, e.Errors)
	}
	if len(parts) == 0 {
		return truncate(strings.TrimSpace(string(body)))
	}
	return truncate(strings.Join(parts, ": "))
}

func truncate(s string) string {
	if len(s) > 1000 {
		return s[:1000] + "…"
	}
	return s
}
