package main

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"easel/bench/internal/benchenv"
)

type target struct {
	name, url string
	header    http.Header
}

type result struct {
	latencies []time.Duration // sorted
	elapsed   time.Duration
	errors    int
	samples   []string // a few distinct error descriptions
}

func (r result) rps() float64 {
	return float64(len(r.latencies)) / r.elapsed.Seconds()
}

// percentile is the nearest-rank percentile p of the latencies.
func (r result) percentile(p float64) time.Duration {
	return benchenv.Pct(r.latencies, p)
}

func warmup(d time.Duration) time.Duration { return min(d/5, time.Second) }

// load runs clients workers against t for a warm-up, then for d, and
// returns every request's latency (errors included) measured in the second
// phase.
func load(ctx context.Context, client *http.Client, t target, clients int, d time.Duration) result {
	wctx, cancel := context.WithTimeout(ctx, warmup(d))
	hammer(wctx, client, t, clients)
	cancel()
	lctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	per := hammer(lctx, client, t, clients)
	r := result{elapsed: time.Since(start)}
	errs := map[string]bool{}
	for _, w := range per {
		r.latencies = append(r.latencies, w.latencies...)
		r.errors += w.errors
		for _, e := range w.samples {
			if !errs[e] && len(r.samples) < 5 {
				errs[e] = true
				r.samples = append(r.samples, e)
			}
		}
	}
	slices.Sort(r.latencies)
	return r
}

// hammer sends requests from clients goroutines until ctx is done.
func hammer(ctx context.Context, client *http.Client, t target, clients int) []result {
	per := make([]result, clients)
	var wg sync.WaitGroup
	for i := range per {
		wg.Go(func() {
			w := &per[i]
			for ctx.Err() == nil {
				begin := time.Now()
				status, err := get(client, t)
				if err != nil && ctx.Err() != nil {
					return // a request cut off by our own deadline
				}
				w.latencies = append(w.latencies, time.Since(begin))
				switch {
				case err != nil:
					w.errors++
					w.samples = appendOnce(w.samples, err.Error())
				case status != http.StatusOK:
					w.errors++
					w.samples = appendOnce(w.samples, "status "+strconv.Itoa(status))
				}
			}
		})
	}
	wg.Wait()
	return per
}

func get(client *http.Client, t target) (int, error) {
	req, err := http.NewRequest(http.MethodGet, t.url, nil)
	if err != nil {
		return 0, err
	}
	req.Header = t.header.Clone()
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		return 0, err
	}
	return res.StatusCode, nil
}

func appendOnce(s []string, e string) []string {
	if len(s) >= 5 || slices.Contains(s, e) {
		return s
	}
	return append(s, e)
}
