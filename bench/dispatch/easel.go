package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// bench is the client side: Easel as admin, and the job status polling.
type bench struct {
	client *http.Client
	base   string // Easel's URL
	admin  http.Header
	poll   time.Duration
	polls  atomic.Int64 // GETs of job statuses
}

// createEndpoint creates the Async endpoint on the pool and waits until
// it is InService.
func (b *bench) createEndpoint(ctx context.Context) error {
	status, body, err := b.call(ctx, http.MethodPost, "/prod/endpoints", map[string]any{"endpoint_name": "bench",
		"endpoint_type": "Async", "instance_type": "sim", "initial_instance_count": 1, "assign_to_roles": []string{"IT Operator"}})
	if err != nil {
		return err
	}
	if status != http.StatusAccepted {
		return fmt.Errorf("POST /prod/endpoints: %d %s", status, body)
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		status, body, err := b.call(ctx, http.MethodGet, "/prod/endpoints", nil)
		if err != nil {
			return err
		}
		var out struct {
			Data struct {
				Endpoints []struct {
					Name   string `json:"endpoint_name"`
					Status string `json:"endpoint_status"`
				} `json:"endpoints"`
			} `json:"data"`
		}
		if status != http.StatusOK || json.Unmarshal(body, &out) != nil {
			return fmt.Errorf("GET /prod/endpoints: %d %s", status, body)
		}
		for _, e := range out.Data.Endpoints {
			switch {
			case e.Name == "esd-async-bench" && e.Status == "InService":
				return nil
			case e.Name == "esd-async-bench" && e.Status == "Failed":
				return errors.New("the endpoint failed")
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.New("the endpoint is not InService after a minute")
}

// call sends a JSON request to Easel as admin and returns the answer.
func (b *bench) call(ctx context.Context, method, path string, in any) (int, []byte, error) {
	var body io.Reader
	if in != nil {
		raw, _ := json.Marshal(in)
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, body)
	if err != nil {
		return 0, nil, err
	}
	req.Header = b.admin.Clone()
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := b.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	return res.StatusCode, out, err
}
