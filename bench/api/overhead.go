package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"syscall"
	"time"

	"easel/metrics"
)

// overheadPairs is how many (on, off) pairs of rounds run: alternating
// short rounds let drift on a shared machine (other load, a warming cache)
// fall on both modes alike, and the median pair ignores a disturbed one.
const overheadPairs = 8

// metricsOverhead loads t with the metrics on and off in alternating
// rounds and prints each mode's throughput and CPU time per request and
// their ratios. Turning the metrics off (metrics.Set.SetEnabled) skips
// every observation: the HTTP middleware, the Postgres tracer and the S3
// middleware (the scrape endpoint stays). It returns the CPU time of one
// request with the metrics on.
func metricsOverhead(ctx context.Context, client *http.Client, t target, m *metrics.Set, clients int, d time.Duration) (time.Duration, error) {
	defer m.SetEnabled(true)
	round := max(d/2, time.Second)
	var ratios []float64
	var reqs [2]int
	var elapsed, cpu [2]time.Duration
	for pair := range overheadPairs {
		var rps [2]float64
		for mode, on := range []bool{true, false} {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			m.SetEnabled(on)
			before := cpuTime()
			r := load(ctx, client, t, clients, round)
			if r.errors > 0 {
				return 0, fmt.Errorf("%s, metrics on=%v, pair %d: %d errors, e.g. %v", t.name, on, pair+1, r.errors, r.samples)
			}
			// The warm-up's CPU is counted with its requests left out:
			// the same share in both modes.
			cpu[mode] += cpuTime() - before
			reqs[mode] += len(r.latencies)
			elapsed[mode] += r.elapsed
			rps[mode] = r.rps()
		}
		ratios = append(ratios, rps[0]/rps[1])
	}
	slices.Sort(ratios)
	median := (ratios[len(ratios)/2-1] + ratios[len(ratios)/2]) / 2
	on, off := float64(reqs[0])/elapsed[0].Seconds(), float64(reqs[1])/elapsed[1].Seconds()
	cpuOn, cpuOff := cpu[0].Seconds()/float64(reqs[0]), cpu[1].Seconds()/float64(reqs[1])
	fmt.Printf("\nCost of the metrics on the hot path: %s, %d alternating pairs of %s rounds\n", t.name, overheadPairs, round)
	fmt.Printf("  %-13s %10s %16s\n", "", "req/s", "CPU µs/request")
	fmt.Printf("  %-13s %10.0f %16.0f\n", "metrics on", on, 1e6*cpuOn)
	fmt.Printf("  %-13s %10.0f %16.0f\n", "metrics off", off, 1e6*cpuOff)
	fmt.Printf("  throughput on/off: %.3f overall, %.3f median pair (pairs from %.3f to %.3f)\n",
		on/off, median, ratios[0], ratios[len(ratios)-1])
	fmt.Printf("  throughput lost to the metrics (median pair): %.1f%% (target <= 5%%; below 0 is noise)\n", 100*(1-median))
	fmt.Printf("  CPU per request on/off: %.3f (%+.1f%%); client and server share this process\n", cpuOn/cpuOff, 100*(cpuOn/cpuOff-1))
	return time.Duration(cpuOn * float64(time.Second)), nil
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
