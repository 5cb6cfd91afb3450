package sim

import (
	"context"
	"net/http"
	"time"
)

// job is the generation running on the simulated GPU.
type job struct {
	name        string // txt2img, img2img, extras
	step, steps int
	started     time.Time
	text        string // textinfo
	interrupted bool
	stop        chan struct{} // closed by interrupt
}

// acquire waits for the GPU, one generation at a time like A1111's queue
// lock. It returns false when the client went away while it waited or the
// simulator is closing.
func (s *server) acquire(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	select {
	case s.gpu <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}

func (s *server) release() { <-s.gpu }

// begin records j as the running job; call with the GPU held.
func (s *server) begin(name string, steps int) *job {
	j := &job{name: name, steps: steps, started: time.Now(), stop: make(chan struct{})}
	s.mu.Lock()
	s.running = j
	if name != "extras" {
		s.stats.Generations++
	}
	s.mu.Unlock()
	return j
}

func (s *server) end(j *job) {
	s.mu.Lock()
	if s.running == j {
		s.running = nil
	}
	s.mu.Unlock()
}

// load makes c the loaded checkpoint: loading another one takes
// SwitchDelay and counts as a switch. Like A1111's, a load is not
// interrupted.
func (s *server) load(j *job, c *checkpoint) {
	s.mu.Lock()
	same := s.loaded == c
	if !same {
		j.text = "Loading weights " + c.name
	}
	s.mu.Unlock()
	if same {
		return
	}
	if d := s.opts.SwitchDelay; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-s.done:
			t.Stop()
		}
	}
	s.mu.Lock()
	s.loaded, j.text = c, ""
	s.stats.Switches++
	s.mu.Unlock()
}

// sample runs j's steps, spreading Delay over them; it returns false when
// the job was interrupted (or the simulator closed) before the last step.
func (s *server) sample(j *job) bool {
	tick := s.opts.Delay / time.Duration(j.steps)
	for i := 1; i <= j.steps; i++ {
		if tick > 0 {
			t := time.NewTimer(tick)
			select {
			case <-t.C:
			case <-j.stop:
				t.Stop()
				return false
			case <-s.done:
				t.Stop()
				return false
			}
		} else {
			select {
			case <-j.stop:
				return false
			default:
			}
		}
		s.mu.Lock()
		j.step = i
		s.mu.Unlock()
	}
	return true
}

// interrupt stops the running job, as A1111's does; with none it does
// nothing.
func (s *server) interrupt(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.Interrupts++
	if j := s.running; j != nil && !j.interrupted {
		j.interrupted = true
		close(j.stop)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{})
}

// progress answers A1111's progress: the running job's step, or idle
// (job_count 0). It takes no lock on the GPU, so it is the liveness probe.
func (s *server) progress(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	state := map[string]any{"skipped": false, "interrupted": false, "job": "", "job_count": 0,
		"job_timestamp": "0", "job_no": 0, "sampling_step": 0, "sampling_steps": 0}
	out := map[string]any{"progress": 0.0, "eta_relative": 0.0, "state": state,
		"current_image": nil, "textinfo": nil}
	j := s.running
	if j == nil {
		writeJSON(w, http.StatusOK, out)
		return
	}
	state["job"], state["job_count"], state["interrupted"] = j.name, 1, j.interrupted
	state["job_timestamp"] = j.started.Format("20060102150405")
	state["sampling_step"], state["sampling_steps"] = j.step, j.steps
	p := float64(j.step) / float64(j.steps)
	out["progress"] = p
	if p > 0 {
		elapsed := time.Since(j.started).Seconds()
		out["eta_relative"] = elapsed/p - elapsed
	}
	if j.text != "" {
		out["textinfo"] = j.text
	}
	writeJSON(w, http.StatusOK, out)
}
