package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// jobsResult is a job run: end-to-end latencies and the client's steps.
type jobsResult struct {
	result
	ids                         []string
	create, upload, start, wait []time.Duration
	queued, ran                 []time.Duration // from the database
}

// jobs runs n jobs through the ESD flow from clients goroutines.
func (b *bench) jobs(ctx context.Context, n, clients int) jobsResult {
	var c collector
	var mu sync.Mutex
	var out jobsResult
	c.elapsed = parallel(n, clients, func(i int) {
		begin := time.Now()
		s, err := b.job(ctx, i)
		c.add(time.Since(begin), err)
		if err == nil {
			mu.Lock()
			out.ids = append(out.ids, s.id)
			out.create, out.upload = append(out.create, s.create), append(out.upload, s.upload)
			out.start, out.wait = append(out.start, s.start), append(out.wait, s.wait)
			mu.Unlock()
		}
	})
	slices.Sort(c.latencies)
	out.result = c.result
	return out
}

type steps struct {
	id                          string
	create, upload, start, wait time.Duration
}

// job runs one job: create, upload the parameters, start, poll.
func (b *bench) job(ctx context.Context, seed int) (steps, error) {
	var s steps
	t := time.Now()
	status, body, err := b.call(ctx, http.MethodPost, "/prod/inferences",
		map[string]any{"task_type": "txt2img", "inference_type": "Async", "models": map[string]any{}})
	if err != nil {
		return s, err
	}
	var created struct {
		Data struct {
			Inference struct {
				ID        string `json:"id"`
				UploadURL string `json:"api_params_s3_upload_url"`
			} `json:"inference"`
		} `json:"data"`
	}
	if status != http.StatusCreated || json.Unmarshal(body, &created) != nil {
		return s, fmt.Errorf("POST /prod/inferences: %d %.200s", status, body)
	}
	s.id = created.Data.Inference.ID
	s.create, t = time.Since(t), time.Now()

	req, err := http.NewRequestWithContext(ctx, http.MethodPut, created.Data.Inference.UploadURL, bytes.NewReader(params(seed)))
	if err != nil {
		return s, err
	}
	res, err := b.client.Do(req)
	if err != nil {
		return s, fmt.Errorf("PUT params: %w", err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return s, fmt.Errorf("PUT params: %d", res.StatusCode)
	}
	s.upload, t = time.Since(t), time.Now()

	if status, body, err = b.call(ctx, http.MethodPut, "/prod/inferences/"+s.id+"/start", nil); err != nil {
		return s, err
	}
	if status != http.StatusAccepted {
		return s, fmt.Errorf("PUT /prod/inferences/{id}/start: %d %.200s", status, body)
	}
	s.start, t = time.Since(t), time.Now()

	deadline := time.Now().Add(time.Minute)
	for {
		b.polls.Add(1)
		status, body, err := b.call(ctx, http.MethodGet, "/prod/inferences/"+s.id, nil)
		if err != nil {
			return s, err
		}
		var got struct {
			Data struct {
				Status string   `json:"status"`
				Raw    *string  `json:"sagemakerRaw"`
				Images []string `json:"img_presigned_urls"`
			} `json:"data"`
		}
		if status != http.StatusOK || json.Unmarshal(body, &got) != nil {
			return s, fmt.Errorf("GET /prod/inferences/{id}: %d %.200s", status, body)
		}
		switch got.Data.Status {
		case "succeed":
			if len(got.Data.Images) != 1 {
				return s, fmt.Errorf("job %s succeeded with %d images, want 1", s.id, len(got.Data.Images))
			}
			s.wait = time.Since(t)
			return s, nil
		case "failed":
			raw := ""
			if got.Data.Raw != nil {
				raw = *got.Data.Raw
			}
			return s, fmt.Errorf("job failed: %s", raw)
		}
		if time.Now().After(deadline) {
			return s, fmt.Errorf("job %s still %s after a minute", s.id, got.Data.Status)
		}
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-time.After(b.poll):
		}
	}
}
