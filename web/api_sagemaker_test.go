package web_test

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"easel/gpu/sagemaker/fake"
	"easel/internal/testenv"
)

// TestSageMakerEndpointLifecycle drives the SageMaker backend through the
// API against the in-process fake of its wire protocols.
func TestSageMakerEndpointLifecycle(t *testing.T) {
	t.Parallel()
	s, f := sageMakerServer(t)

	r := s.MustCall(t, 202, "POST", "/endpoints", testenv.As("admin"), map[string]any{
		"endpoint_type": "Async", "instance_type": "ml.g5.2xlarge", "initial_instance_count": 1,
		"autoscaling_enabled": true, "assign_to_roles": []string{"byoc"}})
	name := r.JSON(t)["data"].(map[string]any)["endpoint_name"].(string)
	e := waitEndpoint(t, s, name, "InService")
	if e["backend"] != "sagemaker" || e["current_instance_count"] != "1" {
		t.Errorf("endpoint = %v", e)
	}
	waitFor(t, "autoscaling registered", func() bool { return len(f.CallsTo("RegisterScalableTarget")) == 1 })
	if n := len(f.CallsTo("CreateEndpoint")); n != 1 {
		t.Errorf("CreateEndpoint called %d times, want 1", n)
	}

	// An async inference: the fake writes its output into the real bucket.
	var failNext atomic.Bool
	f.Invoke = func(endpoint string, body []byte) ([]byte, error) {
		if failNext.Load() {
			return nil, errors.New("CUDA out of memory")
		}
		return fake.DefaultInvoke(endpoint, body)
	}
	for _, wantFail := range []bool{false, true} {
		failNext.Store(wantFail)
		r := s.MustCall(t, 201, "POST", "/inferences", testenv.As("admin"), map[string]any{"task_type": "txt2img",
			"inference_type": "Async", "models": map[string]any{}, "sagemaker_endpoint_name": name})
		createParams(t, r, map[string]any{"prompt": "via sagemaker", "width": 64, "height": 64})
		id := r.JSON(t)["data"].(map[string]any)["inference"].(map[string]any)["id"].(string)
		s.MustCall(t, 202, "PUT", "/inferences/"+id+"/start", testenv.As("admin"), nil)
		job := waitJob(t, s, id)
		switch {
		case !wantFail && (job["status"] != "succeed" || len(job["img_presigned_urls"].([]any)) != 1):
			t.Errorf("sagemaker async job = %v", job)
		case wantFail && (job["status"] != "failed" || !strings.Contains(fmt.Sprint(job["sagemakerRaw"]), "CUDA out of memory")):
			t.Errorf("failing sagemaker job = %v", job)
		}
	}
	if n := len(f.CallsTo("InvokeEndpointAsync")); n != 2 {
		t.Errorf("InvokeEndpointAsync called %d times, want 2", n)
	}

	// An instance type outside the catalogue is refused with the valid ones.
	r = s.MustCall(t, 400, "POST", "/endpoints", testenv.As("admin"), map[string]any{
		"endpoint_type": "Real-time", "instance_type": "ml.fail.xlarge", "initial_instance_count": 1, "assign_to_roles": []string{"IT Operator"}})
	if !strings.Contains(r.Message(t), "valid types: ml.g4dn.2xlarge") {
		t.Errorf("unknown ml type: %q", r.Message(t))
	}

	s.MustCall(t, 204, "DELETE", "/endpoints", testenv.As("admin"), map[string]any{"endpoint_name_list": []string{name}})
	waitFor(t, "every SageMaker resource deleted", func() bool { return f.State().Empty() })
}
