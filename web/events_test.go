package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"easel/actions"
	"easel/gpu/sim"
	"easel/internal/testenv"
	"easel/policy"
	"easel/store"
)

// sseEvent is one server-sent event as a client reads it.
type sseEvent struct{ id, name, data string }

// openStream GETs an event stream and returns its events, closed when the
// server ends the stream; a status other than 200 is returned with none.
func openStream(t *testing.T, url string, h testenv.Headers) (int, <-chan sseEvent) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		return res.StatusCode, nil
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("content type %q, want text/event-stream", ct)
	}
	out := make(chan sseEvent, 64)
	go func() {
		defer close(out)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" || ev.data != "" {
					out <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data += strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return res.StatusCode, out
}

// drain returns every event until the stream ends (failing after 60 s).
func drain(t *testing.T, events <-chan sseEvent) []sseEvent {
	t.Helper()
	var all []sseEvent
	timeout := time.After(60 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return all
			}
			all = append(all, ev)
		case <-timeout:
			t.Fatalf("the stream did not end; got %v", all)
		}
	}
}

type streamedJob struct {
	Status    string         `json:"status"`
	Inference map[string]any `json:"inference"`
}

func TestInferenceEventStream(t *testing.T) {
	t.Parallel()
	s := inferenceServer(t)
	admin := testenv.As("admin")
	id := slowJob(t, s)
	url := s.URL + "/prod/inferences/" + id + "/events"

	status, events := openStream(t, url, admin)
	if status != 200 {
		t.Fatalf("stream: %d", status)
	}
	first := <-events
	s.MustCall(t, 202, "PUT", "/inferences/"+id+"/start", admin, nil)
	all := append([]sseEvent{first}, drain(t, events)...)

	rank := map[string]int{"created": 0, "inprogress": 1, "succeed": 2}
	var seen []string
	for i, ev := range all {
		var job streamedJob
		if err := json.Unmarshal([]byte(ev.data), &job); err != nil || ev.name != "inference" || ev.id == "" {
			t.Fatalf("event %d = %+v (%v)", i, ev, err)
		}
		if job.Inference["InferenceJobId"] != id || job.Inference["status"] != job.Status {
			t.Errorf("event %d shows %v", i, job.Inference)
		}
		if i > 0 && rank[job.Status] < rank[seen[len(seen)-1]] {
			t.Errorf("event %d: %s after %s", i, job.Status, seen[len(seen)-1])
		}
		seen = append(seen, job.Status)
	}
	if len(seen) < 3 || seen[0] != "created" || seen[len(seen)-1] != "succeed" || !contains(seen, "inprogress") {
		t.Fatalf("states %v, want created, inprogress, …, succeed", seen)
	}
	var last streamedJob
	_ = json.Unmarshal([]byte(all[len(all)-1].data), &last)
	if urls, _ := last.Inference["img_presigned_urls"].([]any); len(urls) != 1 {
		t.Errorf("final event has images %v, want 1", last.Inference["img_presigned_urls"])
	}

	// A client that has the final state resumes to nothing; one that
	// missed it gets it; either way the stream ends.
	if _, again := openStream(t, url, testenv.Headers{"x-api-key": testenv.ServiceKey, "username": "admin",
		"Last-Event-ID": all[len(all)-1].id}); len(drain(t, again)) != 0 {
		t.Error("resuming at the final state sent events")
	}
	if _, again := openStream(t, url, testenv.Headers{"x-api-key": testenv.ServiceKey, "username": "admin",
		"Last-Event-ID": first.id}); len(drain(t, again)) != 1 {
		t.Error("resuming at the first state did not send exactly the final one")
	}

	// Whoever may not GET the job may not watch it, with the same answer.
	mustRole(t, s, "watchers", "inference:list")
	mustUser(t, s, "admin", "mia", "watchers")
	get := s.Call(t, "GET", "/inferences/"+id, testenv.As("mia"), nil).Status
	watch, _ := openStream(t, url, testenv.As("mia"))
	if get != 404 || watch != get {
		t.Errorf("another user: GET %d, events %d, want 404 both", get, watch)
	}
	if watch, _ := openStream(t, url, testenv.Key("not-a-key-0123456789")); watch != 403 {
		t.Errorf("a bad key: events %d, want 403", watch)
	}
}

// slowJob creates (and does not start) a job on the slow pool, which
// takes seconds per image: the job is seen running.
func slowJob(t *testing.T, s *testenv.Server) string {
	t.Helper()
	admin := testenv.As("admin")
	mustRole(t, s, "slowpokes", "inference:create")
	s.MustCall(t, 202, "POST", "/endpoints", admin, map[string]any{"endpoint_name": "slowq", "endpoint_type": "Async",
		"instance_type": "slow", "initial_instance_count": 1, "assign_to_roles": []string{"slowpokes"}})
	waitEndpoint(t, s, "esd-async-slowq", "InService")
	r := s.MustCall(t, 201, "POST", "/inferences", admin, map[string]any{"task_type": "txt2img", "inference_type": "Async",
		"sagemaker_endpoint_name": "esd-async-slowq", "models": map[string]any{"Stable-diffusion": []string{"base.safetensors"}}})
	createParams(t, r, map[string]any{"prompt": "a mill", "width": 32, "height": 32})
	return r.JSON(t)["data"].(map[string]any)["inference"].(map[string]any)["id"].(string)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestEventsReachEveryReplica: two Easels on one database; a change made
// through one reaches a subscriber of the other.
func TestEventsReachEveryReplica(t *testing.T) {
	t.Parallel()
	studio := httptest.NewServer(sim.Handler(sim.Options{ModelsDir: simModels(t)}))
	t.Cleanup(studio.Close)
	env := testenv.Env(t, testenv.WithEnv("EASEL_WEBUI_POOLS", "studio="+studio.URL))
	a := testenv.Start(t, env)
	b := testenv.Start(t, env)

	sub, err := b.App.Actions.Events.Subscribe(policy.User("admin"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	a.MustCall(t, 202, "POST", "/endpoints", testenv.As("admin"), map[string]any{"endpoint_name": "far", "endpoint_type": "Async",
		"instance_type": "studio", "initial_instance_count": 1, "assign_to_roles": []string{"byoc"}})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for {
		ev, ok := sub.Next(ctx)
		if !ok {
			t.Fatal("no endpoint event reached the other replica")
		}
		if ev.Kind == "endpoint" {
			break
		}
	}
}

// TestEventSubscribers: at most MaxStreamsPerUser streams per user, and a
// subscriber that does not read is dropped, never waited for.
func TestEventSubscribers(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	ev := s.App.Actions.Events
	admin := policy.User("admin")
	var subs []*actions.Subscription
	for range actions.MaxStreamsPerUser {
		sub, err := ev.Subscribe(admin, "")
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub)
	}
	if _, err := ev.Subscribe(admin, ""); store.ErrorCode(err) != store.ETooMany {
		t.Errorf("one stream too many: %v, want too many", err)
	}
	subs[0].Close()
	slow, err := ev.Subscribe(admin, "")
	if err != nil {
		t.Fatalf("after closing one: %v", err)
	}
	done := make(chan struct{})
	go func() {
		for range 1000 {
			ev.Publish(actions.Event{Kind: "endpoint", ID: "e", Status: "InService"})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("publishing waited for a subscriber that does not read")
	}
	n := 0
	for {
		_, ok := slow.Next(t.Context())
		if !ok {
			break
		}
		n++
	}
	if n == 0 || n >= 1000 {
		t.Errorf("the slow subscriber read %d events before it was dropped, want some but not all", n)
	}
	// Inferences of others are not sent to a user without inference:all.
	mustRole(t, s, "watchers", "inference:list")
	mustUser(t, s, "admin", "mia", "watchers")
	mine, err := ev.Subscribe(policy.User("mia"), "")
	if err != nil {
		t.Fatal(err)
	}
	ev.Publish(actions.Event{Kind: "inference", ID: "1", Owner: "admin", Status: "inprogress"})
	ev.Publish(actions.Event{Kind: "endpoint", ID: "2", Status: "InService"})
	ev.Publish(actions.Event{Kind: "inference", ID: "3", Owner: "mia", Status: "inprogress"})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if got, ok := mine.Next(ctx); !ok || got.ID != "3" {
		t.Errorf("mia's first event %+v (%v), want her own job 3 only", got, ok)
	}
	for _, sub := range subs[1:] {
		sub.Close()
	}
}
