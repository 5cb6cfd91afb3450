package web_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"easel/actions"
	"easel/internal/testenv"
	"easel/policy"
	"easel/workerproto"
)

// TestWorkerSeesCancel: a cancelled job answers the heartbeat with
// Cancelled, and its worker can no longer complete it.
func TestWorkerSeesCancel(t *testing.T) {
	t.Parallel()
	s, key := workerServer(t)
	admin := testenv.As("admin")
	w := &protoWorker{t: t, url: s.URL, key: key}
	w.hello("box")
	s.MustCall(t, 202, "POST", "/endpoints", admin, map[string]any{"endpoint_name": "gpus", "endpoint_type": "Async",
		"instance_type": "gpus", "initial_instance_count": 1, "assign_to_roles": []string{"byoc"}})
	go w.waitInBackground(2 * time.Second)
	waitEndpoint(t, s, "esd-async-gpus", "InService")
	r := s.MustCall(t, 201, "POST", "/inferences", admin, map[string]any{"task_type": "txt2img", "inference_type": "Async", "models": map[string]any{}})
	createParams(t, r, map[string]any{"prompt": "x"})
	id := r.JSON(t)["data"].(map[string]any)["inference"].(map[string]any)["id"].(string)
	s.MustCall(t, 202, "PUT", "/inferences/"+id+"/start", admin, nil)
	job := w.lease(5 * time.Second)
	if job == nil {
		t.Fatal("no job leased")
	}
	s.MustCall(t, 200, "POST", "/inferences/"+id+"/cancel", admin, nil)
	var beat workerproto.HeartbeatReply
	if got := w.call(workerproto.PathHeartbeat, workerproto.Heartbeat{JobID: id, Token: job.Token}, &beat); got != 200 || !beat.Cancelled {
		t.Errorf("heartbeat after cancel: %d %+v, want cancelled", got, beat)
	}
	if got := w.call(workerproto.PathComplete, workerproto.Complete{JobID: id, Token: job.Token, Images: 1}, nil); got != http.StatusConflict {
		t.Errorf("completing a cancelled job: %d, want 409", got)
	}
	if st := getJob(t, s, admin, id)["status"]; st != "failed" {
		t.Errorf("status = %v, want failed (cancelled)", st)
	}
}

// TestWorkersOnTwoReplicas: two Easel processes share the database; a job
// started on one wakes a worker long-polling the other at once (a wait
// shorter than the replica's own re-look proves the announcement came
// through Postgres).
func TestWorkersOnTwoReplicas(t *testing.T) {
	t.Parallel()
	env := testenv.Env(t, testenv.WithEnv("EASEL_WORKER_POOLS", "gpus"), testenv.WithEnv("EASEL_WORKER_HEARTBEAT", "30s"),
		testenv.WithEnv("EASEL_RECONCILE_INTERVAL", "200ms"))
	a, b := testenv.Start(t, env), testenv.Start(t, env)
	key, _, err := a.App.Actions.Keys.Create(context.Background(), policy.Principal{Service: true}, actions.KeyInput{Pool: "gpus"})
	if err != nil {
		t.Fatal(err)
	}
	admin := testenv.As("admin")
	onB := &protoWorker{t: t, url: b.URL, key: key}
	// Replica b learns of the new key from a's notification.
	waitFor(t, "replica b to know the worker key", func() bool {
		return onB.call(workerproto.PathHello, workerproto.Hello{Name: "box-b"}, nil) == http.StatusOK
	})
	onB.hello("box-b")
	a.MustCall(t, 202, "POST", "/endpoints", admin, map[string]any{"endpoint_name": "gpus", "endpoint_type": "Async",
		"instance_type": "gpus", "initial_instance_count": 1, "assign_to_roles": []string{"byoc"}})
	waitEndpoint(t, a, "esd-async-gpus", "InService")
	seen := func() time.Time {
		ws, err := b.App.Actions.Workers.List(context.Background(), policy.Principal{Service: true}, []string{"gpus"})
		if err != nil || len(ws) != 1 {
			t.Fatalf("workers: %v %v", ws, err)
		}
		return ws[0].LastSeen
	}
	hello := seen()
	got := make(chan *workerproto.Job, 1)
	go func() { job, _ := onB.tryLease(10 * time.Second); got <- job }()
	// The worker's long poll on b has begun (it records the call) when the
	// job starts on a.
	waitFor(t, "the worker to wait on replica b", func() bool { return seen().After(hello) })
	r := a.MustCall(t, 201, "POST", "/inferences", admin, map[string]any{"task_type": "txt2img", "inference_type": "Async", "models": map[string]any{}})
	createParams(t, r, map[string]any{"prompt": "x"})
	id := r.JSON(t)["data"].(map[string]any)["inference"].(map[string]any)["id"].(string)
	a.MustCall(t, 202, "PUT", "/inferences/"+id+"/start", admin, nil)
	if job := <-got; job == nil || job.ID != id {
		t.Fatalf("the worker on replica b got %+v, want job %s within its one long poll", job, id)
	}
}
