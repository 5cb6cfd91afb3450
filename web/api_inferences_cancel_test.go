package web_test

import (
	"strings"
	"testing"

	"easel/internal/testenv"
)

func TestInferenceCancelTimeoutAndVisibility(t *testing.T) {
	t.Parallel()
	s, slowAnswers := inferenceServerCounting(t, testenv.WithEnv("EASEL_JOB_TIMEOUT", "2s"))
	admin := testenv.As("admin")
	// A slow endpoint (3 s per job) for role slowpokes.
	mustRole(t, s, "slowpokes", "inference:all")
	s.MustCall(t, 202, "POST", "/endpoints", admin, map[string]any{"endpoint_name": "slow", "endpoint_type": "Async",
		"instance_type": "slow", "initial_instance_count": 1, "assign_to_roles": []string{"slowpokes"}})
	waitEndpoint(t, s, "esd-async-slow", "InService")
	onSlow := func() string {
		r := s.MustCall(t, 201, "POST", "/inferences", admin, map[string]any{"task_type": "txt2img", "inference_type": "Async",
			"models": map[string]any{}, "sagemaker_endpoint_name": "esd-async-slow"})
		id := r.JSON(t)["data"].(map[string]any)["inference"].(map[string]any)["id"].(string)
		createParams(t, r, map[string]any{"prompt": "slow", "width": 16, "height": 16})
		s.MustCall(t, 202, "PUT", "/inferences/"+id+"/start", admin, nil)
		return id
	}
	// Cancel while it runs: failed at once, and the late result is discarded.
	running := onSlow()
	waitRunning(t, s, running)
	s.MustCall(t, 200, "POST", "/inferences/"+running+"/cancel", admin, nil)
	// A job with no result within EASEL_JOB_TIMEOUT (2 s) fails with the reason.
	late := onSlow()
	job := waitJob(t, s, late)
	if job["status"] != "failed" || !strings.Contains(job["sagemakerRaw"].(string), "timed out") {
		t.Errorf("timed-out job = %v", job)
	}
	// Both slow jobs got their (late) answers from the GPU by now.
	waitFor(t, "the slow pool to answer both jobs", func() bool { return slowAnswers.Load() >= 2 })
	job = getJob(t, s, admin, running)
	if job["status"] != "failed" || !strings.Contains(job["sagemakerRaw"].(string), "cancelled") || len(job["image_names"].([]any)) != 0 {
		t.Errorf("job cancelled while running = %v", job)
	}

	id := createJob(t, s, admin, "Async", "txt2img", map[string]any{"prompt": "x", "width": 16, "height": 16})
	s.MustCall(t, 200, "POST", "/inferences/"+id+"/cancel", admin, nil)
	if job := getJob(t, s, admin, id); job["status"] != "failed" || !strings.Contains(job["sagemakerRaw"].(string), "cancelled") {
		t.Errorf("cancelled job = %v", job)
	}
	s.MustCall(t, 400, "PUT", "/inferences/"+id+"/start", admin, nil)
	s.MustCall(t, 400, "POST", "/inferences/"+id+"/cancel", admin, nil)

	// An endpoint deleted between create and start: a clear 400, the job stays created.
	r := s.MustCall(t, 201, "POST", "/inferences", admin, map[string]any{"task_type": "txt2img", "inference_type": "Async",
		"models": map[string]any{}, "sagemaker_endpoint_name": "esd-async-slow"})
	orphan := r.JSON(t)["data"].(map[string]any)["inference"].(map[string]any)["id"].(string)
	createParams(t, r, map[string]any{"prompt": "orphan"})
	s.MustCall(t, 204, "DELETE", "/endpoints", admin, map[string]any{"endpoint_name_list": []string{"esd-async-slow"}})
	r = s.MustCall(t, 400, "PUT", "/inferences/"+orphan+"/start", admin, nil)
	if !strings.Contains(r.Message(t), "endpoint esd-async-slow of inference "+orphan+" was deleted") {
		t.Errorf("start after the endpoint was deleted: %q", r.Message(t))
	}

	// Visibility: a user sees only their own jobs.
	mustRole(t, s, "makers", "inference:create", "inference:list")
	mustUser(t, s, "admin", "mo", "makers")
	s.MustCall(t, 404, "GET", "/inferences/"+id, testenv.As("mo"), nil)
	s.MustCall(t, 400, "POST", "/inferences", testenv.As("mo"), map[string]any{"task_type": "txt2img", "inference_type": "Async", "models": map[string]any{}})
	list := s.MustCall(t, 200, "GET", "/inferences", testenv.As("mo"), nil).JSON(t)["data"].(map[string]any)["inferences"].([]any)
	if len(list) != 0 {
		t.Errorf("mo sees %d jobs of others", len(list))
	}
	s.MustCall(t, 403, "GET", "/inferences?username=admin", testenv.As("mo"), nil)
	s.MustCall(t, 204, "DELETE", "/inferences", testenv.As("mo"), map[string]any{"inference_id_list": []string{id}})
	getJob(t, s, admin, id) // still there
}
