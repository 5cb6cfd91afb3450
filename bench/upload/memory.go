package main

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"easel/bench/internal/benchenv"
)

// sampler follows the peak RSS of this process and of the gateway.
type sampler struct {
	pids     [2]string // "self" and the gateway's
	mu       sync.Mutex
	peak     sample
	hwmReset bool
}

type sample struct {
	at       time.Time
	rss, hwm [2]int64   // VmRSS, VmHWM
	cpu      [2]float64 // user + system seconds
	both     int64      // rss[0] + rss[1]
}

func (s *sampler) sample() sample {
	x := sample{at: time.Now()}
	for i, pid := range s.pids {
		status, _ := os.ReadFile("/proc/" + pid + "/status")
		for _, line := range strings.Split(string(status), "\n") {
			k, v, _ := strings.Cut(line, ":")
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			switch k {
			case "VmRSS":
				x.rss[i] = kb << 10
			case "VmHWM":
				x.hwm[i] = kb << 10
			}
		}
		x.cpu[i] = benchenv.CPUTime(pid).Seconds()
	}
	x.both = x.rss[0] + x.rss[1]
	return x
}

// track records x and returns the peaks since the last reset.
func (s *sampler) track(x sample) sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range x.rss {
		s.peak.rss[i] = max(s.peak.rss[i], x.rss[i])
	}
	s.peak.both = max(s.peak.both, x.both)
	return s.peak
}

// reset starts a phase: VmHWM back to the current RSS (clear_refs 5), the
// peaks to the current sample, which it returns.
func (s *sampler) reset() sample {
	ok := true
	for _, pid := range s.pids {
		ok = os.WriteFile("/proc/"+pid+"/clear_refs", []byte("5"), 0) == nil && ok
	}
	x := s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peak, s.hwmReset = x, ok
	return x
}

func mb(n int64) float64 { return float64(n) / 1e6 }
