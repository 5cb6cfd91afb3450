package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"easel/gpu/sim"
	"easel/internal/testenv"
)

// TestWebUIAnswerWithoutImagesFails: the rule that a job with no images
// failed holds for the WebUI pool backend too — a 200 carrying the WebUI's
// error, or carrying no images, ends failed with the reason.
func TestWebUIAnswerWithoutImagesFails(t *testing.T) {
	t.Parallel()
	var answer atomic.Value
	answer.Store("")
	simulator := sim.Handler(sim.Options{ModelsDir: simModels(t)})
	member := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := answer.Load().(string); a != "" && r.URL.Path == "/sdapi/v1/txt2img" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(a))
			return
		}
		simulator.ServeHTTP(w, r)
	}))
	t.Cleanup(member.Close)
	s := testenv.NewServer(t, testenv.WithEnv("EASEL_WEBUI_POOLS", "studio="+member.URL),
		testenv.WithEnv("EASEL_RECONCILE_INTERVAL", "200ms"))
	s.MustCall(t, 202, "POST", "/endpoints", testenv.As("admin"), map[string]any{"endpoint_name": "live",
		"endpoint_type": "Real-time", "instance_type": "studio", "initial_instance_count": 1, "assign_to_roles": []string{"IT Operator"}})
	waitEndpoint(t, s, "esd-real-time-live", "InService")
	mustActiveModel(t, s, "Stable-diffusion", "base.safetensors")
	for _, tc := range []struct{ answer, want string }{
		{`{"error":"OutOfMemoryError","detail":"CUDA out of memory","body":"","errors":"CUDA out of memory"}`, "OutOfMemoryError: CUDA out of memory"},
		{`{"images":[],"parameters":{},"info":"{}"}`, "the inference produced no images"},
	} {
		answer.Store(tc.answer)
		id := createJob(t, s, testenv.As("admin"), "Real-time", "txt2img", map[string]any{"prompt": "x", "width": 32, "height": 32})
		s.MustCall(t, 200, "PUT", "/inferences/"+id+"/start", testenv.As("admin"), nil)
		job := waitJob(t, s, id)
		if job["status"] != "failed" || !strings.Contains(job["sagemakerRaw"].(string), tc.want) {
			t.Errorf("answer %s: job = %v, want failed with %q", tc.answer, job, tc.want)
		}
	}
}
