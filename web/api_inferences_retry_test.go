package web_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"easel/gpu/sim"
	"easel/internal/testenv"
)

// TestInferenceRetriesTransientFailures: a member that answers 503 once
// makes the job retry with backoff and still succeed, exactly once.
func TestInferenceRetriesTransientFailures(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	simulator := sim.Handler(sim.Options{})
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && calls.Add(1) == 1 {
			http.Error(w, `{"error":"busy","detail":"warming up"}`, http.StatusServiceUnavailable)
			return
		}
		simulator.ServeHTTP(w, r)
	}))
	t.Cleanup(flaky.Close)
	s := testenv.NewServer(t, testenv.WithEnv("EASEL_WEBUI_POOLS", "flaky="+flaky.URL), testenv.WithEnv("EASEL_RECONCILE_INTERVAL", "200ms"))
	admin := testenv.As("admin")
	s.MustCall(t, 202, "POST", "/endpoints", admin, map[string]any{"endpoint_name": "flaky", "endpoint_type": "Async",
		"instance_type": "flaky", "initial_instance_count": 1, "assign_to_roles": []string{"byoc"}})
	waitEndpoint(t, s, "esd-async-flaky", "InService")
	r := s.MustCall(t, 201, "POST", "/inferences", admin, map[string]any{"task_type": "txt2img", "inference_type": "Async", "models": map[string]any{}})
	createParams(t, r, map[string]any{"prompt": "second time lucky", "width": 16, "height": 16})
	id := r.JSON(t)["data"].(map[string]any)["inference"].(map[string]any)["id"].(string)
	s.MustCall(t, 202, "PUT", "/inferences/"+id+"/start", admin, nil)
	job := waitJob(t, s, id)
	if job["status"] != "succeed" || len(job["image_names"].([]any)) != 1 {
		t.Errorf("job after a transient failure = %v", job)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("the member got %d generation requests, want 2 (one failure, one retry)", n)
	}
}
