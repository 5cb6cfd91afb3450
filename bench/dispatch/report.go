package main

import (
	"fmt"
	"runtime"
	"slices"
	"time"

	"easel/bench/internal/benchenv"
)

// figures are what run measured, for report.
type figures struct {
	clients             int
	direct, serial      result     // direct POSTs, -c clients and 1
	jobs, one           jobsResult // jobs, -c clients and 1
	idle                float64    // commits per second of an idle Easel
	commits, polls      int64      // during the concurrent job phase
	cpuBefore, cpuAfter cpuUse     // around the concurrent job phase
}

// report prints the figures.
func report(f figures) {
	clients, direct, serial, jobs, one := f.clients, f.direct, f.serial, f.jobs, f.one
	fmt.Printf("%-44s %8s %9s %9s %8s\n", "run", "per s", "p50 ms", "p99 ms", "errors")
	row := func(name string, r result) {
		fmt.Printf("%-44s %8.1f %9.2f %9.2f %8d\n", name, r.rate(),
			benchenv.MS(r.percentile(50)), benchenv.MS(r.percentile(99)), r.errors)
		for _, e := range r.samples {
			fmt.Printf("    error: %s\n", e)
		}
	}
	row(fmt.Sprintf("direct POST txt2img, %d clients", clients), direct)
	row(fmt.Sprintf("Easel Async job end to end, %d clients", clients), jobs.result)
	row("direct POST txt2img, 1 client", serial)
	row("Easel Async job end to end, 1 client", one.result)

	fmt.Printf("\nwhere a job's time goes (ms)%*s %9s %9s %9s %9s\n", 15, "",
		fmt.Sprintf("p50 c=%d", clients), fmt.Sprintf("p99 c=%d", clients), "p50 c=1", "p99 c=1")
	at := func(d []time.Duration, p float64) float64 { return benchenv.MS(benchenv.Pct(d, p)) }
	for _, s := range []struct {
		name string
		a, b []time.Duration
	}{
		{"POST /prod/inferences", jobs.create, one.create},
		{"PUT params to the presigned URL", jobs.upload, one.upload},
		{"PUT /prod/inferences/{id}/start", jobs.start, one.start},
		{"start answered -> GET shows succeed", jobs.wait, one.wait},
		{"db: start_time -> run_time (queue wait)", jobs.queued, one.queued},
		{"db: run_time -> complete_time (worker)", jobs.ran, one.ran},
	} {
		slices.Sort(s.a)
		slices.Sort(s.b)
		fmt.Printf("  %-42s %9.2f %9.2f %9.2f %9.2f\n", s.name, at(s.a, 50), at(s.a, 99), at(s.b, 50), at(s.b, 99))
	}

	ok := len(jobs.latencies)
	over := jobs.percentile(50) - direct.percentile(50)
	overOne := one.percentile(50) - serial.percentile(50)
	fmt.Printf("\noverhead per job (p50 job - p50 direct, %d clients): %.2f ms; ratio %.1fx\n",
		clients, benchenv.MS(over), ratio(jobs.percentile(50), direct.percentile(50)))
	fmt.Printf("overhead per job (p50 job - p50 direct, 1 client):   %.2f ms; ratio %.1fx\n",
		benchenv.MS(overOne), ratio(one.percentile(50), serial.percentile(50)))
	fmt.Printf("throughput: %.1f jobs/s, Easel at %.0f%% of direct (%d clients)\n", jobs.rate(), 100*jobs.rate()/direct.rate(), clients)

	delta := f.commits
	window := jobs.elapsed + benchenv.StatsFlush
	background := f.idle * window.Seconds()
	fmt.Printf("\ndatabase commits: %d during the job phase (%s + %s stats flush) = %.1f per job\n",
		delta, jobs.elapsed.Round(time.Millisecond), benchenv.StatsFlush, float64(delta)/float64(max(ok, 1)))
	fmt.Printf("  of which status GETs: %d (%.1f per job, one commit each)\n", f.polls, float64(f.polls)/float64(max(ok, 1)))
	fmt.Printf("  background when idle (River polling and leader election, reconciler): %.1f/s, ~%.0f in the window\n", f.idle, background)
	fmt.Printf("  net: %.1f commits per job without polls and background\n",
		(float64(delta)-float64(f.polls)-background)/float64(max(ok, 1)))
	self, gateway, pg := f.cpuAfter.since(f.cpuBefore)
	perJob := func(d time.Duration) float64 { return benchenv.MS(d) / float64(max(ok, 1)) }
	fmt.Printf("\nCPU time per job during the job phase (%d CPUs = %.0f CPU-ms per second of wall time):\n",
		runtime.NumCPU(), 1000*float64(runtime.NumCPU()))
	fmt.Printf("  this process (clients, pollers, Easel, simulators): %6.2f ms\n", perJob(self))
	fmt.Printf("  S3 gateway (versitygw):                               %6.2f ms\n", perJob(gateway))
	fmt.Printf("  Postgres backends of the bench database:             %6.2f ms\n", perJob(pg))
	fmt.Printf("  total %.2f ms per job: the CPUs allow at most %.0f jobs/s at this cost\n",
		perJob(self+gateway+pg), float64(runtime.NumCPU())*1000/max(perJob(self+gateway+pg), 0.001))
	fmt.Printf("loadavg after: %s\n", benchenv.Loadavg())
	fmt.Printf("\ntargets: overhead p50 < 10 ms: %s with %d clients, %s with 1 client; >= 100 jobs/s: %s\n",
		benchenv.Verdict(over < 10*time.Millisecond), clients, benchenv.Verdict(overOne < 10*time.Millisecond), benchenv.Verdict(jobs.rate() >= 100))
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}
