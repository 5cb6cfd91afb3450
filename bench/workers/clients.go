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
	"sync/atomic"
	"time"

	"easel/bench/internal/benchenv"
)

// client is the ESD client side: jobs through Easel's API as admin, and
// the same generations sent straight to simulators.
type client struct {
	http  *http.Client
	base  string // Easel's URL
	poll  time.Duration
	polls atomic.Int64 // GETs of job statuses
}

func newClient(base string, poll time.Duration, conns int) *client {
	tr := &http.Transport{MaxIdleConns: 4 * conns, MaxIdleConnsPerHost: 2 * conns, IdleConnTimeout: time.Minute}
	return &client{http: &http.Client{Transport: tr, Timeout: 30 * time.Second}, base: base, poll: poll}
}

// params are the txt2img parameters of every job and direct POST but the
// seed: small, so drawing is cheap.
func params(seed int) map[string]any {
	return map[string]any{"prompt": "a lighthouse at dusk", "width": 64, "height": 64,
		"steps": 1, "batch_size": 1, "seed": seed}
}

// jobsCmd runs N jobs from C concurrent clients on Endpoint; job i asks
// for checkpoint Models[i % len(Models)].
type jobsCmd struct {
	N, C     int
	Endpoint string
	Models   []string
	Timeout  time.Duration // per job
}

// result is a run of jobs or direct POSTs.
type result struct {
	Latencies []time.Duration // sorted, successes only
	IDs       []string        // of the jobs that succeeded
	Elapsed   time.Duration
	Errors    int
	Samples   []string
	Polls     int64
	queued    []time.Duration // from the database: start -> first lease
	ran       []time.Duration // first lease -> complete
}

func (r result) rate() float64 { return float64(len(r.Latencies)) / r.Elapsed.Seconds() }

func (r result) pct(p float64) time.Duration { return benchenv.Pct(r.Latencies, p) }

// collector gathers what concurrent clients measure.
type collector struct {
	mu sync.Mutex
	result
}

func (c *collector) add(id string, d time.Duration, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		c.Latencies = append(c.Latencies, d)
		if id != "" {
			c.IDs = append(c.IDs, id)
		}
		return
	}
	c.Errors++
	if e := err.Error(); len(c.Samples) < 5 && !slices.Contains(c.Samples, e) {
		c.Samples = append(c.Samples, e)
	}
}

// parallel runs do(i) for i in [0, n) from clients goroutines.
func parallel(n, clients int, do func(i int)) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range min(clients, n) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				do(i)
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// jobs runs cmd: each job is POST /prod/inferences, the PUT of its
// parameters, PUT start, then GET every poll until it ends. A job's
// latency runs from the POST to the GET that shows succeed.
func (c *client) jobs(ctx context.Context, cmd jobsCmd) result {
	var col collector
	polls := c.polls.Load()
	col.Elapsed = parallel(cmd.N, cmd.C, func(i int) {
		begin := time.Now()
		id, err := c.submit(ctx, cmd.Endpoint, cmd.Models[i%len(cmd.Models)], i)
		if err == nil {
			err = c.wait(ctx, id, cmd.Timeout)
		}
		col.add(id, time.Since(begin), err)
	})
	slices.Sort(col.Latencies)
	col.Polls = c.polls.Load() - polls
	return col.result
}

// submit creates a txt2img job on endpoint with checkpoint model, puts
// its parameters and starts it; it returns the job's id.
func (c *client) submit(ctx context.Context, endpoint, model string, seed int) (string, error) {
	var created struct {
		Data struct {
			Inference struct {
				ID        string `json:"id"`
				UploadURL string `json:"api_params_s3_upload_url"`
			} `json:"inference"`
		} `json:"data"`
	}
	err := c.call(ctx, http.MethodPost, "/prod/inferences", map[string]any{"task_type": "txt2img",
		"inference_type": "Async", "sagemaker_endpoint_name": endpoint,
		"models": map[string]any{"Stable-diffusion": []string{model}}}, http.StatusCreated, &created)
	if err != nil {
		return "", err
	}
	id := created.Data.Inference.ID
	raw, _ := json.Marshal(params(seed))
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, created.Data.Inference.UploadURL, bytes.NewReader(raw))
	if err != nil {
		return id, err
	}
	res, err := c.http.Do(req)
	if err != nil {
		return id, fmt.Errorf("PUT params: %w", err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return id, fmt.Errorf("PUT params: %d", res.StatusCode)
	}
	return id, c.call(ctx, http.MethodPut, "/prod/inferences/"+id+"/start", nil, http.StatusAccepted, nil)
}

// wait polls job id until it succeeds; an error when it fails or is
// still running after timeout.
func (c *client) wait(ctx context.Context, id string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c.polls.Add(1)
		var got struct {
			Data struct {
				Status string   `json:"status"`
				Raw    *string  `json:"sagemakerRaw"`
				Images []string `json:"img_presigned_urls"`
			} `json:"data"`
		}
		if err := c.call(ctx, http.MethodGet, "/prod/inferences/"+id, nil, http.StatusOK, &got); err != nil {
			return err
		}
		switch got.Data.Status {
		case "succeed":
			if len(got.Data.Images) != 1 {
				return fmt.Errorf("job %s succeeded with %d images, want 1", id, len(got.Data.Images))
			}
			return nil
		case "failed":
			raw := ""
			if got.Data.Raw != nil {
				raw = *got.Data.Raw
			}
			return fmt.Errorf("job failed: %s", raw)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("job %s still %s after %s", id, got.Data.Status, timeout)
		}
		if err := sleep(ctx, c.poll); err != nil {
			return err
		}
	}
}

// call sends a JSON request to Easel as admin through the service key and
// decodes an answer with status want into out.
func (c *client) call(ctx context.Context, method, path string, in any, want int, out any) error {
	var body io.Reader
	if in != nil {
		raw, _ := json.Marshal(in)
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header = benchenv.As("admin")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	switch {
	case err != nil:
		return err
	case res.StatusCode != want:
		return fmt.Errorf("%s %s: %d %.200s", method, path, res.StatusCode, raw)
	case out != nil:
		return json.Unmarshal(raw, out)
	}
	return nil
}

// clientsChild runs the clients of the throughput phase: commands "jobs"
// (jobsCmd) and "direct" (directCmd) answer a result.
func clientsChild(_ context.Context, raw json.RawMessage) (any, handler, func() error, error) {
	var cfg struct {
		Base  string
		Poll  time.Duration
		Conns int
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, nil, nil, err
	}
	c := newClient(cfg.Base, cfg.Poll, cfg.Conns)
	handle := func(ctx context.Context, op string, args json.RawMessage) (any, error) {
		switch op {
		case "jobs":
			var cmd jobsCmd
			if err := json.Unmarshal(args, &cmd); err != nil {
				return nil, err
			}
			return c.jobs(ctx, cmd), nil
		case "direct":
			var cmd directCmd
			if err := json.Unmarshal(args, &cmd); err != nil {
				return nil, err
			}
			return c.direct(ctx, cmd), nil
		}
		return nil, fmt.Errorf("unknown command %q", op)
	}
	return "ready", handle, func() error { c.http.CloseIdleConnections(); return nil }, nil
}
