package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"easel/gpu/sim"
	"easel/internal/testenv"
)

// TestShutdownWaitsForRealTimeStarts: a Real-time start still waiting for
// its result when the server is told to stop gets its answer: the server
// stops accepting new connections at once, then waits for the request to
// finish before Serve returns.
func TestShutdownWaitsForRealTimeStarts(t *testing.T) {
	t.Parallel()
	// The WebUI holds every generation until the test releases it, so the
	// request is surely waiting when the shutdown begins.
	release := make(chan struct{})
	gpu := sim.Handler(sim.Options{ModelsDir: simModels(t)})
	held := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "2img") {
			<-release
		}
		gpu.ServeHTTP(w, r)
	}))
	t.Cleanup(held.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	s := testenv.StartServing(t, testenv.Env(t, testenv.WithEnv("EASEL_WEBUI_POOLS", "held="+held.URL),
		testenv.WithEnv("EASEL_RECONCILE_INTERVAL", "200ms")))
	admin := testenv.As("admin")
	s.MustCall(t, 202, "POST", "/endpoints", admin, map[string]any{"endpoint_name": "live", "endpoint_type": "Real-time",
		"instance_type": "held", "initial_instance_count": 1, "assign_to_roles": []string{"IT Operator"}})
	waitEndpoint(t, s, "esd-real-time-live", "InService")
	mustActiveModel(t, s, "Stable-diffusion", "base.safetensors")
	id := createJob(t, s, admin, "Real-time", "txt2img", map[string]any{"prompt": "a lighthouse", "width": 32, "height": 32})

	type answer struct {
		status int
		body   []byte
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPut, s.URL+"/prod/inferences/"+id+"/start", nil)
		for k, v := range admin {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		answered <- answer{status: res.StatusCode, body: body, err: err}
	}()
	waitRunning(t, s, id)

	stopped := make(chan error, 1)
	go func() { stopped <- s.Shutdown() }()
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	waitFor(t, "the server to refuse new connections", func() bool {
		res, err := fresh.Get(s.URL + "/healthz")
		if err == nil {
			res.Body.Close()
		}
		return err != nil
	})
	select {
	case a := <-answered:
		t.Fatalf("the waiting start was answered before its job finished: %d %s %v", a.status, a.body, a.err)
	case err := <-stopped:
		t.Fatalf("Serve returned (%v) while a Real-time start was waiting", err)
	default:
	}

	close(release)
	a := <-answered
	if a.err != nil || a.status != http.StatusOK {
		t.Fatalf("the waiting start during shutdown: %d %s %v, want 200", a.status, a.body, a.err)
	}
	var got struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(a.body, &got); err != nil || got.Data["status"] != "succeed" || got.Data["InferenceJobId"] != id {
		t.Errorf("the answer during shutdown: %s (%v), want the finished job", a.body, err)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Serve after a graceful shutdown: %v", err)
	}
}
