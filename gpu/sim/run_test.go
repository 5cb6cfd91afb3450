package sim_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"easel/gpu/sim"
)

type progress struct {
	Progress    float64 `json:"progress"`
	EtaRelative float64 `json:"eta_relative"`
	State       struct {
		Job           string `json:"job"`
		JobCount      int    `json:"job_count"`
		SamplingStep  int    `json:"sampling_step"`
		SamplingSteps int    `json:"sampling_steps"`
		Interrupted   bool   `json:"interrupted"`
	} `json:"state"`
	TextInfo *string `json:"textinfo"`
}

func getProgress(t *testing.T, h http.Handler) progress {
	t.Helper()
	var p progress
	getJSON(t, h, "/sdapi/v1/progress?skip_current_image=true", &p)
	return p
}

// waitFor polls cond until it holds (or fails the test after a minute).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// slowGeneration starts a txt2img on srv that samples 1000 steps of one
// second each, and returns its answer's channel.
func slowGeneration(t *testing.T, ctx context.Context, srv *httptest.Server) <-chan *http.Response {
	t.Helper()
	answer := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/sdapi/v1/txt2img",
			strings.NewReader(`{"prompt":"slow","steps":1000,"width":16,"height":16}`))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			res = nil
		}
		answer <- res
	}()
	return answer
}

func TestProgressWhileGenerating(t *testing.T) {
	h := sim.Handler(sim.Options{Delay: 1000 * time.Second})
	srv := httptest.NewServer(h)
	defer srv.Close()
	if p := getProgress(t, h); p.State.JobCount != 0 || p.State.Job != "" || p.Progress != 0 {
		t.Fatalf("idle progress = %+v", p)
	}
	answer := slowGeneration(t, context.Background(), srv)
	var p progress
	waitFor(t, "the first step", func() bool { p = getProgress(t, h); return p.State.SamplingStep >= 1 })
	if p.State.Job != "txt2img" || p.State.JobCount != 1 || p.State.SamplingSteps != 1000 ||
		p.Progress <= 0 || p.Progress >= 1 || p.EtaRelative <= 0 || p.State.Interrupted {
		t.Errorf("progress while generating = %+v", p)
	}
	post(t, h, "/sdapi/v1/interrupt", "")
	if res := <-answer; res == nil || res.StatusCode != 200 {
		t.Fatalf("interrupted generation: %v", res)
	} else {
		res.Body.Close()
	}
}

// TestInterrupt: dropping the connection does not stop a generation (as
// in A1111, the next request waits behind it); an interrupt does, and the
// interrupted request answers 200 without images.
func TestInterrupt(t *testing.T) {
	h := sim.Handler(sim.Options{Delay: 1000 * time.Second})
	srv := httptest.NewServer(h)
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	dropped := slowGeneration(t, ctx, srv)
	waitFor(t, "the generation to start", func() bool { return getProgress(t, h).State.JobCount == 1 })
	cancel()
	if res := <-dropped; res != nil {
		t.Fatalf("the dropped request got an answer: %d", res.StatusCode)
	}
	if p := getProgress(t, h); p.State.JobCount != 1 {
		t.Fatalf("the generation stopped when its client went away: %+v", p)
	}
	post(t, h, "/sdapi/v1/interrupt", "")
	waitFor(t, "the GPU to go idle", func() bool { return getProgress(t, h).State.JobCount == 0 })

	answer := slowGeneration(t, context.Background(), srv)
	waitFor(t, "the second generation to start", func() bool { return getProgress(t, h).State.JobCount == 1 })
	if rec := post(t, h, "/sdapi/v1/interrupt", ""); rec.Code != 200 {
		t.Fatalf("interrupt: %d", rec.Code)
	}
	res := <-answer
	if res == nil || res.StatusCode != 200 {
		t.Fatalf("interrupted generation: %v", res)
	}
	defer res.Body.Close()
	var a genAnswer
	if err := json.NewDecoder(res.Body).Decode(&a); err != nil || len(a.Images) != 0 || a.Info == "" {
		t.Fatalf("interrupted answer: %v, %d images, info %q", err, len(a.Images), a.Info)
	}
	if st := stats(t, h); st.Interrupts != 2 || st.Generations != 2 {
		t.Errorf("stats = %+v, want 2 interrupts of 2 generations", st)
	}
	// An interrupt with nothing running does not stop the next generation.
	fast := sim.Handler(sim.Options{})
	post(t, fast, "/sdapi/v1/interrupt", "")
	a2, _ := generate(t, fast, "/sdapi/v1/txt2img", `{"width":16,"height":16}`)
	if len(a2.Images) != 1 {
		t.Errorf("after an idle interrupt: %d images", len(a2.Images))
	}
}
