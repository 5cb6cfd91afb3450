package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"easel/actions"
	"easel/internal/testenv"
	"easel/policy"
	"easel/workerproto"
)

// protoWorker speaks the lease protocol by hand, as a worker would.
type protoWorker struct {
	t   *testing.T
	url string
	key string
	id  string
}

// call POSTs body to path and decodes a JSON answer into out (when given),
// returning the status.
func (w *protoWorker) call(path string, body, out any) int {
	w.t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, w.url+path, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+w.key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, out); err != nil {
			w.t.Fatalf("%s: %v: %s", path, err, b)
		}
	}
	return res.StatusCode
}

func workerServer(t *testing.T) (*testenv.Server, string) {
	t.Helper()
	s := testenv.NewServer(t, testenv.WithEnv("EASEL_WORKER_POOLS", "gpus"),
		testenv.WithEnv("EASEL_WORKER_HEARTBEAT", "400ms"), testenv.WithEnv("EASEL_RECONCILE_INTERVAL", "200ms"))
	key, _, err := s.App.Actions.Keys.Create(context.Background(), policy.Principal{Service: true}, actions.KeyInput{Name: "box", Pool: "gpus"})
	if err != nil {
		t.Fatal(err)
	}
	return s, key
}

func (w *protoWorker) hello(name string) {
	w.t.Helper()
	var welcome workerproto.Welcome
	if got := w.call(workerproto.PathHello, workerproto.Hello{Name: name, GPU: "test GPU"}, &welcome); got != http.StatusOK {
		w.t.Fatalf("hello: %d", got)
	}
	w.id = welcome.WorkerID
}

// waitInBackground long-polls once, from a goroutine (so it reports
// nothing to the test): a worker waiting makes the pool's endpoint serve.
func (w *protoWorker) waitInBackground(wait time.Duration) { w.tryLease(wait) }

// tryLease long-polls once without touching the test (safe in a
// goroutine): the job, or nil with what went wrong.
func (w *protoWorker) tryLease(wait time.Duration) (*workerproto.Job, error) {
	raw, _ := json.Marshal(workerproto.LeaseRequest{WorkerID: w.id, Wait: workerproto.Duration{Duration: wait}})
	req, _ := http.NewRequest(http.MethodPost, w.url+workerproto.PathLease, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+w.key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("lease: status %d", res.StatusCode)
	}
	var job workerproto.Job
	return &job, json.NewDecoder(res.Body).Decode(&job)
}

func (w *protoWorker) lease(wait time.Duration) *workerproto.Job {
	w.t.Helper()
	var job workerproto.Job
	switch got := w.call(workerproto.PathLease, workerproto.LeaseRequest{WorkerID: w.id, Wait: workerproto.Duration{Duration: wait}}, &job); got {
	case http.StatusOK:
		return &job
	case http.StatusNoContent:
		return nil
	default:
		w.t.Fatalf("lease: %d", got)
	}
	return nil
}

// TestWorkerLeaseProtocol runs a job through the protocol by hand: the
// chosen model's bytes are what the lease hands out, a stale completion is
// refused, a lost lease goes to another worker, and the job ends once.
func TestWorkerLeaseProtocol(t *testing.T) {
	t.Parallel()
	s, key := workerServer(t)
	admin := testenv.As("admin")
	a := &protoWorker{t: t, url: s.URL, key: key}
	a.hello("box-a")
	s.MustCall(t, 202, "POST", "/endpoints", admin, map[string]any{"endpoint_name": "gpus", "endpoint_type": "Async",
		"instance_type": "gpus", "initial_instance_count": 1, "assign_to_roles": []string{"byoc"}})
	weights := []byte("the weights of tiny.safetensors")
	sum := sha256.Sum256(weights)
	sha := hex.EncodeToString(sum[:])
	uploadModelBytes(t, s, "Stable-diffusion", "tiny.safetensors", weights)
	waitFor(t, "the checksum of the upload", func() bool { return checkpointsOf(t, s, admin, "")[0]["sha256"] == sha })
	// The endpoint serves once a worker is online (it keeps polling).
	go a.waitInBackground(2 * time.Second)
	waitEndpoint(t, s, "esd-async-gpus", "InService")

	r := s.MustCall(t, 201, "POST", "/inferences", admin, map[string]any{"task_type": "txt2img", "inference_type": "Async",
		"models": map[string]any{"Stable-diffusion": []string{"tiny.safetensors"}, "VAE": []string{"Automatic"}}})
	createParams(t, r, map[string]any{"prompt": "a lighthouse", "width": 64, "height": 64})
	id := r.JSON(t)["data"].(map[string]any)["inference"].(map[string]any)["id"].(string)
	s.MustCall(t, 202, "PUT", "/inferences/"+id+"/start", admin, nil)

	job := a.lease(5 * time.Second)
	if job == nil || job.ID != id {
		t.Fatalf("lease = %+v, want job %s", job, id)
	}
	if job.Checkpoint != "tiny.safetensors" || job.VAE != "Automatic" || job.Params["prompt"] != "a lighthouse" || len(job.Uploads) == 0 {
		t.Errorf("job = %+v", job)
	}
	if len(job.Models) != 1 || job.Models[0].SHA256 != sha {
		t.Fatalf("models = %+v, want tiny.safetensors with SHA-256 %s", job.Models, sha)
	}
	if got := fetch(t, job.Models[0].URL); !bytes.Equal(got, weights) {
		t.Errorf("the model URL gives %q, want the uploaded bytes", got)
	}
	var beat workerproto.HeartbeatReply
	if got := a.call(workerproto.PathHeartbeat, workerproto.Heartbeat{JobID: id, Token: job.Token, Progress: 0.5, Stage: "generating"}, &beat); got != 200 || beat.Cancelled {
		t.Fatalf("heartbeat: %d %+v", got, beat)
	}

	// a stops beating: its lease expires and b gets the job.
	b := &protoWorker{t: t, url: s.URL, key: key}
	b.hello("box-b")
	again := b.lease(5 * time.Second)
	if again == nil || again.ID != id || again.Token == job.Token {
		t.Fatalf("second lease = %+v", again)
	}
	png := tinyPNG(t)
	put(t, again.Uploads[0], png)
	// a's late completion is refused; b's is the one.
	if got := a.call(workerproto.PathComplete, workerproto.Complete{JobID: id, Token: job.Token, Images: 1, ModelHash: sha[:10]}, nil); got != http.StatusConflict {
		t.Errorf("stale completion: %d, want 409", got)
	}
	if got := b.call(workerproto.PathComplete, workerproto.Complete{JobID: id, Token: again.Token, Images: 1, ModelHash: sha[:10],
		Info: `{"infotexts": ["a lighthouse"]}`, Downloaded: true}, nil); got != http.StatusNoContent {
		t.Fatalf("completion: %d", got)
	}
	if got := b.call(workerproto.PathComplete, workerproto.Complete{JobID: id, Token: again.Token, Images: 1, ModelHash: sha[:10]}, nil); got != http.StatusConflict {
		t.Errorf("second completion: %d, want 409", got)
	}
	done := getJob(t, s, admin, id)
	urls, _ := done["img_presigned_urls"].([]any)
	if done["status"] != "succeed" || len(urls) != 1 {
		t.Fatalf("job = %v", done)
	}
	if got := fetch(t, urls[0].(string)); !bytes.Equal(got, png) {
		t.Error("the result image is not what the worker uploaded")
	}
	if got := a.call(workerproto.PathHeartbeat, workerproto.Heartbeat{JobID: id, Token: job.Token}, nil); got != http.StatusConflict {
		t.Errorf("heartbeat of a lost lease: %d, want 409", got)
	}
}

// TestWorkerKeysServeTheirPoolOnly: a worker key cannot call the API, and
// nothing but a worker key can call the lease protocol.
func TestWorkerKeysServeTheirPoolOnly(t *testing.T) {
	t.Parallel()
	s, key := workerServer(t)
	s.MustCall(t, 403, "GET", "/ping", testenv.Key(key), nil)
	s.MustCall(t, 403, "GET", "/users", testenv.Headers{"x-api-key": key, "username": "admin"}, nil)
	for _, k := range []string{testenv.ServiceKey, s.UserKey(t, "admin"), "", "nonsense"} {
		w := &protoWorker{t: t, url: s.URL, key: k}
		if got := w.call(workerproto.PathHello, workerproto.Hello{Name: "x"}, nil); got != http.StatusUnauthorized {
			t.Errorf("hello with key %.8q: %d, want 401", k, got)
		}
	}
	// The console does not take it either (it knows sessions only).
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/users", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Errorf("console with a worker key: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	// Only endpoint administrators make worker keys, for configured pools.
	mustRole(t, s, "keymakers", "user:all")
	mustUser(t, s, "admin", "kim", "keymakers")
	if _, _, err := s.App.Actions.Keys.Create(context.Background(), policy.User("kim"), actions.KeyInput{Pool: "gpus"}); err == nil {
		t.Error("a user without sagemaker_endpoint:all made a worker key")
	}
	if _, _, err := s.App.Actions.Keys.Create(context.Background(), policy.User("admin"), actions.KeyInput{Pool: "elsewhere"}); err == nil {
		t.Error("a worker key for an unknown pool was made")
	}
}

func fetch(t *testing.T, url string) []byte {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
	}
	return b
}

func put(t *testing.T, url string, body []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("PUT upload: %d", res.StatusCode)
	}
}
