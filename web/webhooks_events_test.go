package web_test

import (
	"slices"
	"strings"
	"testing"

	"easel/actions"
	"easel/internal/testenv"
	"easel/policy"
	"easel/store"
)

func TestWebhookBadInput(t *testing.T) {
	t.Parallel()
	s := inferenceServer(t) // the default SSRF guard: no private addresses
	admin := testenv.As("admin")
	body := func(extra map[string]any) map[string]any {
		b := map[string]any{"task_type": "txt2img", "inference_type": "Async",
			"models": map[string]any{"Stable-diffusion": []string{"base.safetensors"}}}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	for _, c := range []struct {
		extra map[string]any
		want  string
	}{
		{map[string]any{"webhook": "http://127.0.0.1:9/hook"}, "webhook http://127.0.0.1:9/hook is not allowed"},
		{map[string]any{"webhook": "ftp://example.com/hook"}, "webhook ftp://example.com/hook is not allowed"},
		{map[string]any{"webhook_events_filter": []string{"completed"}}, "webhook must be an http or https URL"},
		{map[string]any{"webhook": "https://example.com/hook", "webhook_events_filter": []string{"output"}}, `webhook_events_filter: "output" is not an event`},
	} {
		r := s.MustCall(t, 400, "POST", "/inferences", admin, body(c.extra))
		if got := r.Message(t); !strings.Contains(got, c.want) {
			t.Errorf("%v: message %q, want %q", c.extra, got, c.want)
		}
	}
	// Nothing was stored.
	n := 0
	if err := store.ListInferences(t.Context(), s.App.Store.DB(), store.InferenceFilter{}, func(store.Inference) error { n++; return nil }); err != nil || n != 0 {
		t.Errorf("jobs stored after bad input: %d (%v)", n, err)
	}
	// A standing webhook is checked by the same rule.
	_, err := s.App.Actions.Webhooks.Create(t.Context(), policy.User("admin"), actions.WebhookInput{URL: "http://[::1]/x"})
	if store.ErrorCode(err) != store.EInvalid || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("standing webhook to loopback: %v", err)
	}
}

// TestWebhookEventsOfEachTransition: the database records a delivery for
// each state change a job's webhook asks for, whichever code made it (the
// URL is never reachable: .invalid names do not resolve).
func TestWebhookEventsOfEachTransition(t *testing.T) {
	t.Parallel()
	s := inferenceServer(t)
	admin := testenv.As("admin")
	eventsOf := func(id string) []string {
		var got []string
		for _, d := range deliveriesOf(t, s, "admin") {
			if d.InferenceID.String() == id {
				got = append(got, d.Event)
			}
		}
		slices.Sort(got)
		return got
	}
	create := func() string {
		r := s.MustCall(t, 201, "POST", "/inferences", admin, map[string]any{"task_type": "txt2img", "inference_type": "Async",
			"models": map[string]any{"Stable-diffusion": []string{"base.safetensors"}}, "webhook": "https://hooks.invalid/easel"})
		createParams(t, r, map[string]any{"prompt": "a field", "width": 32, "height": 32})
		return r.JSON(t)["data"].(map[string]any)["inference"].(map[string]any)["id"].(string)
	}
	done := create()
	s.MustCall(t, 202, "PUT", "/inferences/"+done+"/start", admin, nil)
	waitJob(t, s, done)
	cancelled := create()
	s.MustCall(t, 200, "POST", "/inferences/"+cancelled+"/cancel", admin, nil)
	if got := eventsOf(done); !slices.Equal(got, []string{"completed", "start"}) {
		t.Errorf("a finished job's deliveries: %v, want start and completed", got)
	}
	if got := eventsOf(cancelled); !slices.Equal(got, []string{"cancelled"}) {
		t.Errorf("a cancelled job's deliveries: %v, want cancelled", got)
	}
	// They are sent (and fail: the name does not resolve), and recorded.
	waitFor(t, "an attempt", func() bool {
		for _, d := range deliveriesOf(t, s, "admin") {
			if d.Attempts > 0 && d.LastError != "" && d.Status == store.DeliveryPending {
				return true
			}
		}
		return false
	})
}
