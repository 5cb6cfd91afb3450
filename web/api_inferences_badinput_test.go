package web_test

import (
	"strings"
	"testing"

	"easel/internal/testenv"
)

func TestInferenceBadInput(t *testing.T) {
	t.Parallel()
	s := inferenceServer(t)
	admin := testenv.As("admin")
	for _, tc := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"unknown task", map[string]any{"task_type": "upscale", "inference_type": "Async", "models": map[string]any{}}, "task type upscale should be in"},
		{"unknown model", map[string]any{"task_type": "txt2img", "inference_type": "Async", "models": map[string]any{"Stable-diffusion": []string{"ghost.ckpt"}, "Lora": []string{"x"}}},
			"checkpoint with name x, type Lora is not found checkpoint with name ghost.ckpt, type Stable-diffusion is not found"},
		{"unknown endpoint", map[string]any{"task_type": "txt2img", "inference_type": "Async", "models": map[string]any{}, "sagemaker_endpoint_name": "nope"}, "endpoint nope not found"},
		{"bad inference type", map[string]any{"task_type": "txt2img", "inference_type": "Batch", "models": map[string]any{}}, "not found in enum"},
	} {
		r := s.Call(t, "POST", "/inferences", admin, tc.body)
		if r.Status != 400 || !strings.Contains(r.Message(t), tc.want) {
			t.Errorf("%s: got %d %q, want 400 containing %q", tc.name, r.Status, r.Message(t), tc.want)
		}
	}
	for _, tc := range []struct {
		name   string
		params any
		want   string
	}{
		{"params not uploaded", nil, "not uploaded yet"},
		{"params not JSON", "not json at all", "not a JSON object"},
		{"too large an image", map[string]any{"prompt": "x", "width": 4096, "height": 4096}, "asks for 4096x4096 images; the limit is 2048x2048"},
		{"too many images", map[string]any{"prompt": "x", "batch_size": 100}, "asks for 100 images (batch_size x n_iter); the limit is 16"},
	} {
		id := createJob(t, s, admin, "Async", "txt2img", tc.params)
		r := s.Call(t, "PUT", "/inferences/"+id+"/start", admin, nil)
		if r.Status != 400 || !strings.Contains(r.Message(t), tc.want) {
			t.Errorf("%s: got %d %q, want 400 containing %q", tc.name, r.Status, r.Message(t), tc.want)
		}
		if job := getJob(t, s, admin, id); job["status"] != "created" {
			t.Errorf("%s: job became %v", tc.name, job["status"])
		}
	}
	s.MustCall(t, 404, "GET", "/inferences/7e759754-0000-4000-8000-000000000000", admin, nil)
	s.MustCall(t, 404, "PUT", "/inferences/not-a-uuid/start", admin, nil)

	// The backend refusing the parameters fails the job with its words.
	id := createJob(t, s, admin, "Async", "txt2img", map[string]any{"prompt": "x", "steps": "many"})
	s.MustCall(t, 202, "PUT", "/inferences/"+id+"/start", admin, nil)
	if job := waitJob(t, s, id); job["status"] != "failed" || !strings.Contains(job["sagemakerRaw"].(string), "422") {
		t.Errorf("rejected parameters: %v", job)
	}
}
