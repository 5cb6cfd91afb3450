package web_test

import (
	"context"
	"strings"
	"testing"

	"easel/internal/testenv"
	"easel/store"
)

// Item 4: a model the caller cannot list is "not found" for an inference,
// exactly like a missing one.
func TestInferenceCannotUseAnInvisibleModel(t *testing.T) {
	t.Parallel()
	s := inferenceServer(t) // base.safetensors made by admin: shared with IT Operator only
	mustRole(t, s, "crew", "inference:create", "inference:list", "checkpoint:list")
	mustUser(t, s, "admin", "bo", "crew")
	s.MustCall(t, 202, "POST", "/endpoints", testenv.As("admin"), map[string]any{"endpoint_name": "crewq", "endpoint_type": "Async",
		"instance_type": "studio", "initial_instance_count": 1, "assign_to_roles": []string{"crew"}})
	waitEndpoint(t, s, "esd-async-crewq", "InService")
	bo := testenv.As("bo")
	body := func(model string) map[string]any {
		return map[string]any{"task_type": "txt2img", "inference_type": "Async",
			"models": map[string]any{"Stable-diffusion": []string{model}}}
	}
	hidden := s.MustCall(t, 400, "POST", "/inferences", bo, body("base.safetensors")).Message(t)
	missing := s.MustCall(t, 400, "POST", "/inferences", bo, body("nope.safetensors")).Message(t)
	if want := strings.ReplaceAll(missing, "nope.safetensors", "base.safetensors"); hidden != want {
		t.Errorf("invisible model: message %q, want %q (as for a missing one)", hidden, want)
	}
	if strings.Contains(hidden, "-") && strings.Contains(hidden, "id") {
		t.Errorf("message leaks an id: %q", hidden)
	}
	// Shared with bo's role, the same model works.
	if _, err := s.App.Store.DB().Exec(context.Background(), `UPDATE checkpoints SET allowed_roles = '{crew}'`); err != nil {
		t.Fatal(err)
	}
	s.MustCall(t, 201, "POST", "/inferences", bo, body("base.safetensors"))
}

// Item 5: an endpoint can be assigned only to roles its creator holds,
// unless the creator holds sagemaker_endpoint:all.
func TestEndpointRolesMustBeHeld(t *testing.T) {
	t.Parallel()
	s := simPoolServer(t)
	mustRole(t, s, "builders", "sagemaker_endpoint:create", "sagemaker_endpoint:list")
	mustUser(t, s, "admin", "eve", "builders")
	eve := testenv.As("eve")
	ep := func(name string, roles ...string) map[string]any {
		return map[string]any{"endpoint_name": name, "endpoint_type": "Async", "instance_type": "studio",
			"initial_instance_count": 1, "assign_to_roles": roles}
	}
	r := s.MustCall(t, 403, "POST", "/endpoints", eve, ep("grab", store.DefaultRole))
	if !strings.Contains(r.Message(t), `does not hold role "IT Operator"`) {
		t.Errorf("message = %q", r.Message(t))
	}
	s.MustCall(t, 403, "POST", "/endpoints", eve, ep("grab2", "builders", "byoc"))
	if got := endpointsOf(t, s, testenv.As("admin"), ""); len(got) != 0 {
		t.Errorf("refused endpoints were stored: %v", got)
	}
	s.MustCall(t, 202, "POST", "/endpoints", eve, ep("mine", "builders"))
	// Item 13: endpoint names are plain too.
	for _, name := range []string{".", "..", "a/b", "a.b", "zero\u200bwidth", "tab\tx"} {
		r := s.MustCall(t, 400, "POST", "/endpoints", eve, ep(name, "builders"))
		if !strings.Contains(r.Message(t), "endpoint_name") {
			t.Errorf("endpoint %q: message %q", name, r.Message(t))
		}
	}
	// The role's own administrator can still create its endpoint.
	s.MustCall(t, 202, "POST", "/endpoints", testenv.As("admin"), ep("ops", store.DefaultRole))
}
