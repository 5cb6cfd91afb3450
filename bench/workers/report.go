package main

import (
	"cmp"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"time"

	"easel/bench/internal/benchenv"
)

// verdicts gathers a line per target while the phases print their
// figures.
type verdicts struct{ lines []string }

func (v *verdicts) add(ok bool, format string, args ...any) {
	v.lines = append(v.lines, fmt.Sprintf("  %-8s ", benchenv.Verdict(ok)+":")+fmt.Sprintf(format, args...))
}

func (v *verdicts) print() {
	fmt.Printf("\ntargets (2-core machine):\n")
	for _, l := range v.lines {
		fmt.Println(l)
	}
}

func ms(d time.Duration) float64 { return benchenv.MS(d) }

func (v *verdicts) throughput(f throughputFigures) {
	fmt.Printf("\n== throughput: %d workers and %d simulators (two child processes), %d clients (a third), Easel in this process\n",
		f.workers, f.workers, f.clients)
	fmt.Printf("warm-up: %d round(s) of %d jobs; %d of %d simulators have the checkpoint and take the direct POSTs\n\n",
		f.warmRounds, f.workers, f.ready, f.workers)
	fmt.Printf("%-48s %8s %9s %9s %7s\n", "run", "per s", "p50 ms", "p99 ms", "errors")
	row := func(name string, r result) {
		fmt.Printf("%-48s %8.1f %9.2f %9.2f %7d\n", name, r.rate(), ms(r.pct(50)), ms(r.pct(99)), r.Errors)
	}
	row(fmt.Sprintf("direct POST txt2img, %d clients", f.clients), f.direct)
	row(fmt.Sprintf("Easel job end to end, %d clients", f.clients), f.jobs)
	row("direct POST txt2img, 1 client", f.serial)
	row("Easel job end to end, 1 client", f.one)

	over := func(a, b result, p float64) float64 { return ms(a.pct(p) - b.pct(p)) }
	fmt.Printf("\noverhead per job (job - direct): %d clients p50 %.2f ms, p99 %.2f ms; 1 client p50 %.2f ms, p99 %.2f ms\n",
		f.clients, over(f.jobs, f.direct, 50), over(f.jobs, f.direct, 99), over(f.one, f.serial, 50), over(f.one, f.serial, 99))
	fmt.Printf("throughput: %.1f jobs/s, %.0f%% of the direct rate with %d clients\n", f.jobs.rate(), 100*f.jobs.rate()/f.direct.rate(), f.clients)
	at := func(d []time.Duration, p float64) float64 {
		s := slices.Sorted(slices.Values(d))
		return ms(benchenv.Pct(s, p))
	}
	fmt.Printf("as the database saw it (ms)             p50 c=%-3d p99 c=%-3d  p50 c=1  p99 c=1\n", f.clients, f.clients)
	fmt.Printf("  start -> first lease (queue wait)    %9.2f %9.2f %8.2f %8.2f\n", at(f.jobs.queued, 50), at(f.jobs.queued, 99), at(f.one.queued, 50), at(f.one.queued, 99))
	fmt.Printf("  first lease -> complete (worker)     %9.2f %9.2f %8.2f %8.2f\n", at(f.jobs.ran, 50), at(f.jobs.ran, 99), at(f.one.ran, 50), at(f.one.ran, 99))

	jobs := float64(max(len(f.jobs.Latencies), 1))
	window := f.jobs.Elapsed + benchenv.StatsFlush
	background := f.idleEasel * window.Seconds()
	net := (float64(f.commits) - float64(f.jobs.Polls) - background) / jobs
	fmt.Printf("\ndatabase commits during the %d jobs (%s + %s stats flush): %d = %.1f per job\n",
		len(f.jobs.Latencies), f.jobs.Elapsed.Round(time.Millisecond), benchenv.StatsFlush, f.commits, float64(f.commits)/jobs)
	fmt.Printf("  of which the clients' status GETs: %d (%.1f per job, one commit each)\n", f.jobs.Polls, float64(f.jobs.Polls)/jobs)
	fmt.Printf("  Easel's idle background before any worker (River, reconciler every 1s): %.1f/s, ~%.0f in the window\n", f.idleEasel, background)
	fmt.Printf("  net: %.2f commits per job without the GETs and that background\n", net)
	fmt.Printf("  (idle with the %d workers long-polling: %.1f commits/s; not subtracted)\n", f.workers, f.idleWorkers)
	tables := slices.Collect(maps.Keys(f.writes))
	slices.SortFunc(tables, func(a, b string) int { return cmp.Compare(f.writes[b], f.writes[a]) })
	fmt.Printf("  rows written per job (inserted, updated, deleted; pg_stat_user_tables):")
	for _, t := range tables[:min(len(tables), 5)] {
		if f.writes[t] > 0 {
			fmt.Printf(" %s %.1f", t, float64(f.writes[t])/jobs)
		}
	}
	fmt.Println()
	c := f.calls
	per := func(n int64) float64 { return float64(n) / jobs }
	fmt.Printf("worker calls per job: lease %.2f (%.2f answered a job), heartbeat %.2f, complete %.2f, fail %.2f, object store %.2f, failed calls %.2f\n",
		per(c.Lease), per(c.Leased), per(c.Heartbeat), per(c.Complete), per(c.Fail), per(c.Store), per(c.Errors))

	fmt.Printf("\nCPU time per job during the %d jobs (%d CPUs = %.0f CPU-ms per second of wall time):\n",
		len(f.jobs.Latencies), runtime.NumCPU(), 1000*float64(runtime.NumCPU()))
	cpu := func(d time.Duration) float64 { return ms(d) / jobs }
	var total time.Duration
	for _, p := range []struct{ name, label string }{
		{"easel", "Easel (this process: API, lease protocol, River)"},
		{"", "Postgres backends of the bench database"},
		{"gateway", "S3 gateway (versitygw)"},
		{"workers", fmt.Sprintf("workers (child: %d worker.Run)", f.workers)},
		{"sims", "simulators (child: the WebUIs' stand-in)"},
		{"clients", "clients and their status polls (child)"},
	} {
		d := f.backends
		if p.name != "" {
			d = f.cpu[p.name]
		}
		total += d
		fmt.Printf("  %-52s %7.2f ms\n", p.label, cpu(d))
	}
	server := f.cpu["easel"] + f.backends + f.cpu["gateway"]
	fmt.Printf("  total %.2f ms per job: the CPUs allow at most %.0f jobs/s at this cost; Easel's side (Easel, Postgres, gateway) %.2f ms\n",
		cpu(total), float64(runtime.NumCPU())*1000/max(cpu(total), 0.001), cpu(server))
	fmt.Printf("loadavg after: %s\n", benchenv.Loadavg())

	v.add(f.jobs.rate() >= 150, ">= 150 jobs/s: %.1f jobs/s (%d workers, %d clients)", f.jobs.rate(), f.workers, f.clients)
	v.add(net <= 6, "<= 6 commits per job: %.2f (net of status GETs and idle background; %.1f raw)", net, float64(f.commits)/jobs)
}

func (v *verdicts) requeue(cfg config, trials []requeueTrial) {
	hb := cfg.heartbeat
	fmt.Printf("\n== lease-expiry requeue: %d jobs, each on its own pool, whose worker was cut off right after its\n", len(trials))
	fmt.Printf("first heartbeat was answered (heartbeat %s; a lease lasts 1.5 intervals past each heartbeat); the\n", hb)
	fmt.Printf("other worker of the pool last looked for work the given time before the lease expired\n\n")
	fmt.Printf("%-16s %-16s %15s %14s %10s %12s\n", "cut off", "taken over by", "looked before", "cut -> leased", "intervals", "2 - looked")
	var worst, sum time.Duration
	for _, t := range trials {
		fmt.Printf("%-16s %-16s %12.0f ms %11.0f ms %10.3f %12.3f\n", t.cut, t.taker, ms(t.phase), ms(t.after),
			t.after.Seconds()/hb.Seconds(), 2-t.phase.Seconds()/hb.Seconds())
		worst, sum = max(worst, t.after), sum+t.after
	}
	mean := sum / time.Duration(max(len(trials), 1))
	fmt.Printf("mean %.3f, worst %.3f heartbeat intervals (the 2 - looked column is what the design predicts)\n",
		mean.Seconds()/hb.Seconds(), worst.Seconds()/hb.Seconds())
	v.add(worst <= 2*hb, "requeue <= 2 heartbeat intervals: worst %.3f (mean %.3f) over %d jobs", worst.Seconds()/hb.Seconds(), mean.Seconds()/hb.Seconds(), len(trials))
}

func (v *verdicts) affinity(cfg config, runs []affinityRun) {
	fmt.Printf("\n== affinity: %d jobs spread round robin over 4 checkpoints from %d clients, %d fresh workers per run,\n",
		cfg.affinityN, cfg.affinityC, cfg.affinityWorkers)
	fmt.Printf("checkpoint switch %s. Off is the same Easel: the workers' transport removes cached and loaded\n", cfg.switchDelay)
	fmt.Printf("from their POST /workers/v1/lease bodies, so Easel cannot prefer jobs by model.\n\n")
	fmt.Printf("%-14s %7s %8s %8s %9s %7s %10s %10s %8s\n", "affinity", "jobs/s", "p50 s", "p99 s", "switched", "share", "sim loads", "downloads", "wall s")
	share := map[bool]float64{}
	simShare := map[bool]float64{}
	for _, r := range runs {
		n := float64(max(len(r.res.Latencies), 1))
		label := "on"
		if r.strip {
			label = "off (stripped)"
		}
		share[r.strip], simShare[r.strip] = float64(r.switched)/n, float64(r.sims.Switches)/n
		fmt.Printf("%-14s %7.1f %8.2f %8.2f %9d %6.1f%% %10d %10d %8.1f\n", label, r.res.rate(), r.res.pct(50).Seconds(),
			r.res.pct(99).Seconds(), r.switched, 100*share[r.strip], r.sims.Switches, r.downloaded, r.res.Elapsed.Seconds())
	}
	if len(runs) < 2 {
		return
	}
	ratio := func(off, on float64) string {
		if on == 0 {
			return "inf (no switch with affinity on)"
		}
		return fmt.Sprintf("%.1fx", off/on)
	}
	fmt.Printf("affinity cuts the share of jobs that switched by %s (Inference.Switched); the simulators' loads by %s\n",
		ratio(share[true], share[false]), ratio(simShare[true], simShare[false]))
	ok := share[true] > 0 && (share[false] == 0 || share[true]/share[false] >= 4)
	v.add(ok, "affinity cuts switches >= 4x: %s (%.1f%% of jobs off, %.1f%% on)", ratio(share[true], share[false]), 100*share[true], 100*share[false])
}
