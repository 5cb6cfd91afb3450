package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// usage is the resident memory of Easel (this process) and of the gateway.
type usage struct{ easel, gateway int64 }

// sampler follows the peak RSS every 20 ms.
type sampler struct {
	gw   string
	mu   sync.Mutex
	top  usage
	done chan struct{}
}

func newSampler(gw string) *sampler {
	s := &sampler{gw: gw, done: make(chan struct{})}
	go func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				u := s.sample()
				s.mu.Lock()
				s.top = usage{max(s.top.easel, u.easel), max(s.top.gateway, u.gateway)}
				s.mu.Unlock()
			}
		}
	}()
	return s
}

func (s *sampler) stop() { close(s.done) }

func (s *sampler) sample() usage { return usage{rss("self"), rss(s.gw)} }

// reset starts a phase: the peaks become the current use, which it returns.
func (s *sampler) reset() usage {
	u := s.sample()
	s.mu.Lock()
	s.top = u
	s.mu.Unlock()
	return u
}

func (s *sampler) peak() usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.top
}

// rss is VmRSS of a process in bytes (0 when unreadable).
func rss(pid string) int64 {
	if pid == "" {
		return 0
	}
	status, _ := os.ReadFile("/proc/" + pid + "/status")
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mb(n int64) float64 { return float64(n) / 1e6 }
func mbs(n int64) string { return fmt.Sprintf("%.0f MB", mb(n)) }
