package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"easel/bench/internal/benchenv"
)

// params are the txt2img parameters of every job and direct POST but the
// seed: small, so drawing is cheap.
func params(seed int) []byte {
	b, _ := json.Marshal(map[string]any{"prompt": "a lighthouse at dusk", "width": 64, "height": 64,
		"steps": 1, "batch_size": 1, "seed": seed})
	return b
}

type result struct {
	latencies []time.Duration // sorted, successes only
	elapsed   time.Duration
	errors    int
	samples   []string
}

func (r result) rate() float64 { return float64(len(r.latencies)) / r.elapsed.Seconds() }

func (r result) percentile(p float64) time.Duration { return benchenv.Pct(r.latencies, p) }

// collector gathers what concurrent workers measure.
type collector struct {
	mu sync.Mutex
	result
}

func (c *collector) add(d time.Duration, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		c.latencies = append(c.latencies, d)
		return
	}
	c.errors++
	if e := err.Error(); len(c.samples) < 5 && !slices.Contains(c.samples, e) {
		c.samples = append(c.samples, e)
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

// directRun POSTs n txt2img requests to the simulators, round robin.
func directRun(ctx context.Context, client *http.Client, sims []string, n, clients int) result {
	var c collector
	c.elapsed = parallel(n, clients, func(i int) {
		begin := time.Now()
		err := directPost(ctx, client, sims[i%len(sims)], i)
		c.add(time.Since(begin), err)
	})
	slices.Sort(c.latencies)
	return c.result
}

func directPost(ctx context.Context, client *http.Client, sim string, seed int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sim+"/sdapi/v1/txt2img", bytes.NewReader(params(seed)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var out struct {
		Images []string `json:"images"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK || len(out.Images) != 1 {
		return fmt.Errorf("direct txt2img: status %d, %d images, %v", res.StatusCode, len(out.Images), err)
	}
	return nil
}
