package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"easel/gpu/sim"
	"easel/internal/testenv"
)

// TestCancelInterruptsTheWebUI: cancelling a job while a WebUI member
// generates it interrupts the member (closing the connection would leave
// it generating, and the next job waiting behind it), and the member
// serves the next job.
func TestCancelInterruptsTheWebUI(t *testing.T) {
	t.Parallel()
	member := httptest.NewServer(sim.Handler(sim.Options{Delay: 1000 * time.Second}))
	t.Cleanup(member.Close)
	getJSON := func(path string, v any) {
		res, err := http.Get(member.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	// simState is the member's counters and whether it generates now.
	simState := func() (sim.Stats, bool) {
		var st sim.Stats
		var p struct {
			State struct {
				JobCount int `json:"job_count"`
			} `json:"state"`
		}
		getJSON(sim.StatsPath, &st)
		getJSON("/sdapi/v1/progress", &p)
		return st, p.State.JobCount > 0
	}
	s := testenv.NewServer(t, testenv.WithEnv("EASEL_WEBUI_POOLS", "studio="+member.URL),
		testenv.WithEnv("EASEL_RECONCILE_INTERVAL", "200ms"))
	admin := testenv.As("admin")
	s.MustCall(t, 202, "POST", "/endpoints", admin, map[string]any{"endpoint_name": "q", "endpoint_type": "Async",
		"instance_type": "studio", "initial_instance_count": 1, "assign_to_roles": []string{"byoc"}})
	waitEndpoint(t, s, "esd-async-q", "InService")
	start := func() string {
		r := s.MustCall(t, 201, "POST", "/inferences", admin, map[string]any{"task_type": "txt2img", "inference_type": "Async", "models": map[string]any{}})
		createParams(t, r, map[string]any{"prompt": "never finishes", "width": 16, "height": 16})
		id := r.JSON(t)["data"].(map[string]any)["inference"].(map[string]any)["id"].(string)
		s.MustCall(t, 202, "PUT", "/inferences/"+id+"/start", admin, nil)
		return id
	}
	for i := 1; i <= 2; i++ {
		id := start()
		waitFor(t, "the member to generate job "+id, func() bool { st, running := simState(); return running && st.Generations == i })
		s.MustCall(t, 200, "POST", "/inferences/"+id+"/cancel", admin, nil)
		waitFor(t, "the member to be interrupted", func() bool { st, running := simState(); return !running && st.Interrupts == i })
		if job := getJob(t, s, admin, id); job["status"] != "failed" || !strings.Contains(job["sagemakerRaw"].(string), "cancelled") {
			t.Errorf("cancelled job = %v", job)
		}
	}
}
