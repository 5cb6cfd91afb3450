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
	"easel/gpu/a1111"
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
	body       []byte
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("webui member %s: HTTP %d: %s", e.Member, e.StatusCode, e.Message)
}

// Invoke sends req to one member of the endpoint's pool: a free one (at
// most one request per member), healthy ones first, round robin; when all
// are busy it waits, honouring ctx, whose deadline is the request timeout.
//
// The parameters are sanitised (a1111.Sanitise) and the checkpoint and
// VAE chosen in req.Models selected; a member that lacks them, after a
// rescan, fails the job with a *MissingModelError. The answer must come
// from the chosen checkpoint (a1111.CheckAnswer). Errors that blame the
// request (a1111.Judge: 4xx, and the 500s A1111 answers for bad images or
// options) fail the job and leave the member healthy; 408 and 429 are
// transient; other failures are transient (gpu.TransientError) and mark
// the member unhealthy for Cooldown when it no longer answers its
// progress, or after MaxFailures in a row. When ctx ends while the member
// works, the member is interrupted (POST /sdapi/v1/interrupt) and stays
// taken until it is idle.
func (b *Backend) Invoke(ctx context.Context, name string, req gpu.Request) (gpu.Result, error) {
	p, err := b.poolOf(name)
	if err != nil {
		return gpu.Result{}, err
	}
	path, ok := taskPaths[req.Task]
	if !ok {
		return gpu.Result{}, fmt.Errorf("webui: task %q is not supported (txt2img, img2img, extra-single-image)", req.Task)
	}
	checkpoint, vae := "", ""
	if req.Task == a1111.Txt2img || req.Task == a1111.Img2img {
		checkpoint, vae = chosen(req.Models)
	}
	params, err := prepare(req.Task, req.Params, checkpoint, vae)
	if err != nil {
		return gpu.Result{}, err
	}
	m, err := p.acquire(ctx)
	if err != nil {
		err = fmt.Errorf("webui pool %s: waiting for a free member: %w", p.name, err)
		if errors.Is(err, context.DeadlineExceeded) {
			return gpu.Result{}, gpu.TransientError{Err: err}
		}
		return gpu.Result{}, err
	}
	release := true
	defer func() {
		if release {
			p.release(m)
		}
	}()

	hash10, err := b.ensureModels(ctx, m, checkpoint, vae)
	var body []byte
	if err == nil {
		body, err = b.post(ctx, m, path, params)
		if err != nil && ctx.Err() != nil {
			release = false
			go b.stop(p, m, req.InferenceID) // releases m once it is idle
		}
	}
	if err != nil {
		return gpu.Result{}, b.failure(ctx, p, m, req, err)
	}
	p.succeeded(m)
	res, err := decodeResult(m, req, body)
	if err != nil {
		return res, err
	}
	if res.Failure != "" {
		return res, nil // the WebUI's error JSON with 200: the job fails with it
	}
	if err := a1111.CheckAnswer(req.Task, res, checkpoint, hash10); err != nil {
		return gpu.Result{}, fmt.Errorf("webui member %s: %w", m.name, err)
	}
	return res, nil
}

// failure classifies err, from talking to m about req, and records what
// it says about m.
func (b *Backend) failure(ctx context.Context, p *pool, m *member, req gpu.Request, err error) error {
	var he *HTTPError
	var missing *MissingModelError
	switch {
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return err // the caller gave up; not the member's fault
	case ctx.Err() != nil:
		return gpu.TransientError{Err: err} // out of time; stop judges the member
	case errors.As(err, &missing):
		p.mark(m, 0)
		return err
	case errors.As(err, &he):
		switch a1111.Judge(he.StatusCode, he.body) {
		case a1111.Caller:
			p.mark(m, 0)
			return err
		case a1111.Busy:
			return gpu.TransientError{Err: err}
		}
	}
	if !b.alive(m) {
		p.mark(m, b.Cooldown)
		b.log.Warn("webui member down", "pool", p.name, "member", m.name, "inference", req.InferenceID, "err", err)
	} else if n := p.failed(m); n >= b.MaxFailures {
		p.mark(m, b.Cooldown)
		b.log.Warn("webui member failing", "pool", p.name, "member", m.name, "inference", req.InferenceID,
			"failures_in_a_row", n, "err", err)
	} else {
		b.log.Info("webui member failed a request but answers", "pool", p.name, "member", m.name,
			"inference", req.InferenceID, "err", err)
	}
	return gpu.TransientError{Err: err}
}

// prepare decodes the request's parameters, sanitises them and selects
// the models. Parameters that are not a JSON object, or that a1111.Sanitise
// refuses, are an error matching a1111.ErrInvalid.
func prepare(task string, raw json.RawMessage, checkpoint, vae string) ([]byte, error) {
	params := map[string]any{}
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber() // seeds and sizes pass through exactly
		if err := dec.Decode(&params); err != nil || params == nil {
			return nil, fmt.Errorf("webui: %w: the parameters are not a JSON object", a1111.ErrInvalid)
		}
	}
	params, err := a1111.Sanitise(task, params)
	if err != nil {
		return nil, fmt.Errorf("webui: %w", err)
	}
	a1111.Select(params, checkpoint, vae)
	return json.Marshal(params)
}

// post sends params to m and returns the body of a 2xx answer.
func (b *Backend) post(ctx context.Context, m *member, path string, params []byte) ([]byte, error) {
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
		return nil, &HTTPError{Member: m.name, StatusCode: resp.StatusCode, Message: errorText(body), body: body}
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
	if e.Errors != "" && (detail == "" || !strings.Contains(e.Errors, detail)) {
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
