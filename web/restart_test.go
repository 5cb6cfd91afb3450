package web_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"easel/gpu/sim"
	"easel/internal/testenv"
)

// TestJobsSurviveARestart crashes the server while jobs run on a slow pool
// and starts it again on the same data: every job still ends exactly once,
// succeeded with all its images.
func TestJobsSurviveARestart(t *testing.T) {
	t.Parallel()
	slow := httptest.NewServer(sim.Handler(sim.Options{Delay: 1500 * time.Millisecond}))
	t.Cleanup(slow.Close)
	env := testenv.Env(t, testenv.WithEnv("EASEL_WEBUI_POOLS", "slow="+slow.URL), testenv.WithEnv("EASEL_RECONCILE_INTERVAL", "200ms"))
	s := testenv.Start(t, env)
	admin := testenv.As("admin")
	s.MustCall(t, 202, "POST", "/endpoints", admin, map[string]any{"endpoint_name": "slow", "endpoint_type": "Async",
		"instance_type": "slow", "initial_instance_count": 1, "assign_to_roles": []string{"byoc"}})
	waitEndpoint(t, s, "esd-async-slow", "InService")
	var ids []string
	for i := range 3 {
		r := s.MustCall(t, 201, "POST", "/inferences", admin, map[string]any{"task_type": "txt2img", "inference_type": "Async", "models": map[string]any{}})
		createParams(t, r, map[string]any{"prompt": "restart", "width": 16, "height": 16, "batch_size": 2, "seed": i})
		id := r.JSON(t)["data"].(map[string]any)["inference"].(map[string]any)["id"].(string)
		s.MustCall(t, 202, "PUT", "/inferences/"+id+"/start", admin, nil)
		ids = append(ids, id)
	}
	time.Sleep(500 * time.Millisecond) // the first job is on the GPU now
	s.Crash()

	s2 := testenv.Start(t, env)
	for _, id := range ids {
		job := waitJob(t, s2, id)
		if job["status"] != "succeed" || len(job["img_presigned_urls"].([]any)) != 2 {
			t.Errorf("job %s after the restart: %v", id, job)
		}
	}
}
