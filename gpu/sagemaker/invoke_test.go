package sagemaker_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"easel/blob"
	"easel/gpu"
	"easel/gpu/sagemaker"
	"easel/gpu/sagemaker/fake"
	"easel/internal/testenv"
)

func testRequest(id string) gpu.Request {
	return gpu.Request{
		InferenceID: id, Task: "txt2img", Username: "test",
		ParamS3: "s3://esd-bucket/txt2img/infer_v2/" + id + "/api_param.json",
		Models:  map[string][]string{"Stable-diffusion": {"v1-5-pruned-emaonly.safetensors"}},
	}
}

// realTime deploys an InService real-time endpoint.
func realTime(t *testing.T, b *sagemaker.Backend, name string) {
	t.Helper()
	if err := b.Deploy(context.Background(), gpu.Spec{Name: name, ID: "id", Type: gpu.RealTime,
		InstanceType: "ml.g5.2xlarge", InstanceCount: 1}); err != nil {
		t.Fatal(err)
	}
}

func TestInvokeRealTime(t *testing.T) {
	f, b := newBackend(t, testBucket, nil)
	realTime(t, b, "esd-real-time-inv0001")
	waitState(t, b, "esd-real-time-inv0001")
	var got []byte
	f.Invoke = func(endpoint string, body []byte) ([]byte, error) {
		got = body
		return fake.DefaultInvoke(endpoint, body)
	}
	res, err := b.Invoke(context.Background(), "esd-real-time-inv0001", testRequest("inf-1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Images) != 1 || res.Images[0] != fake.TinyPNG || !strings.Contains(res.Info, "infotexts") ||
		!strings.Contains(string(res.Parameters), `"prompt"`) {
		t.Errorf("result = %+v", res)
	}
	var sent map[string]any
	if err := json.Unmarshal(got, &sent); err != nil {
		t.Fatal(err)
	}
	if sent["task"] != "txt2img" || sent["username"] != "test" || sent["param_s3"] == nil || sent["models"] == nil || len(sent) != 4 {
		t.Errorf("container request = %s", got)
	}
	var in struct{ ContentType, InferenceId string }
	decodeCall(t, f, "InvokeEndpoint", &in)
	if in.ContentType != "application/json" || in.InferenceId != "inf-1" {
		t.Errorf("InvokeEndpoint input = %+v", in)
	}
}

func TestInvokeModelError(t *testing.T) {
	f, b := newBackend(t, testBucket, nil)
	realTime(t, b, "esd-real-time-inv0002")
	waitState(t, b, "esd-real-time-inv0002")
	f.Invoke = func(string, []byte) ([]byte, error) { return nil, errors.New("CUDA out of memory") }
	_, err := b.Invoke(context.Background(), "esd-real-time-inv0002", testRequest("inf-2"))
	if err == nil || !strings.Contains(err.Error(), "ModelError: CUDA out of memory") || gpu.IsTransient(err) {
		t.Fatalf("err = %v, want a non-transient ModelError with the model's message", err)
	}
	if n := len(f.CallsTo("InvokeEndpoint")); n != 1 {
		t.Errorf("a ModelError was retried: %d calls", n)
	}
}

func TestInvokeTransient(t *testing.T) {
	f, b := newBackend(t, testBucket, nil)
	realTime(t, b, "esd-real-time-inv0003")
	waitState(t, b, "esd-real-time-inv0003")
	f.FailNext("InvokeEndpoint", 3, http.StatusServiceUnavailable, "ServiceUnavailable", "try later")
	if _, err := b.Invoke(context.Background(), "esd-real-time-inv0003", testRequest("inf-3")); !gpu.IsTransient(err) {
		t.Errorf("503: err = %v, want transient", err)
	}
	f.Throttle("InvokeEndpoint", 1)
	if _, err := b.Invoke(context.Background(), "esd-real-time-inv0003", testRequest("inf-4")); err != nil {
		t.Errorf("one throttle is retried: %v", err)
	}
	if _, err := b.Invoke(context.Background(), "esd-real-time-missing", testRequest("inf-5")); err == nil || gpu.IsTransient(err) {
		t.Errorf("unknown endpoint: err = %v, want a permanent error", err)
	}
}

// s3Fake returns a backend whose async traffic goes through a real bucket,
// with the fake reading inputs from and writing outputs to it.
func s3Fake(t *testing.T) (*fake.Server, *blob.Client, *sagemaker.Backend) {
	t.Helper()
	ctx := context.Background()
	s := testenv.NewS3(t)
	store, err := blob.New(ctx, blob.Config{Endpoint: s.Endpoint, Bucket: s.Bucket, AccessKey: s.AccessKey, SecretKey: s.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	f, b := newBackend(t, s.Bucket, store)
	f.AsyncDelay = 200 * time.Millisecond
	f.ReadObject = func(key string) ([]byte, error) {
		rc, err := store.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	f.WriteObject = func(key string, body []byte) error { return store.Put(ctx, key, body, "application/json") }
	return f, store, b
}

func TestInvokeAsync(t *testing.T) {
	f, store, b := s3Fake(t)
	ctx := context.Background()
	spec := asyncSpec("asy0001")
	if err := b.Deploy(ctx, spec); err != nil {
		t.Fatal(err)
	}
	waitState(t, b, spec.Name)
	var mu sync.Mutex
	var got []byte
	f.Invoke = func(endpoint string, body []byte) ([]byte, error) {
		mu.Lock()
		got = body
		mu.Unlock()
		return fake.DefaultInvoke(endpoint, body)
	}
	h, err := b.InvokeAsync(ctx, spec.Name, testRequest("inf-async-1"))
	if err != nil {
		t.Fatal(err)
	}
	if h.InferenceID != "inf-async-1" || !strings.HasPrefix(h.OutputLocation, "s3://"+store.Bucket+"/sagemaker_output/") {
		t.Fatalf("handle = %+v", h)
	}
	var in struct{ InputLocation, ContentType string }
	decodeCall(t, f, "InvokeEndpointAsync", &in)
	if in.InputLocation != "s3://"+store.Bucket+"/async-inputs/inf-async-1.json" || in.ContentType != "application/json" {
		t.Errorf("InvokeEndpointAsync input = %+v", in)
	}
	if _, done, err := b.FetchAsync(ctx, h); done || err != nil {
		t.Fatalf("FetchAsync right away: done=%v err=%v", done, err)
	}
	res := waitAsync(t, b, h)
	if len(res.Images) != 1 || res.Images[0] != fake.TinyPNG {
		t.Errorf("result = %+v", res)
	}
	mu.Lock()
	defer mu.Unlock()
	want, _ := json.Marshal(testRequest("inf-async-1"))
	if string(got) != string(want) {
		t.Errorf("container got %s, want %s", got, want)
	}
}

func TestInvokeAsyncFailure(t *testing.T) {
	f, _, b := s3Fake(t)
	ctx := context.Background()
	spec := asyncSpec("asy0002")
	if err := b.Deploy(ctx, spec); err != nil {
		t.Fatal(err)
	}
	waitState(t, b, spec.Name)
	f.Invoke = func(string, []byte) ([]byte, error) { return nil, errors.New("model exploded") }
	h, err := b.InvokeAsync(ctx, spec.Name, testRequest("inf-async-2"))
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		_, done, err := b.FetchAsync(ctx, h)
		if done {
			if err == nil || !strings.Contains(err.Error(), "model exploded") {
				t.Fatalf("failed inference: err = %v", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("failure never surfaced")
}

func waitAsync(t *testing.T, b gpu.AsyncBackend, h gpu.AsyncHandle) gpu.Result {
	t.Helper()
	for range 100 {
		res, done, err := b.FetchAsync(context.Background(), h)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			return res
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("async result never arrived")
	return gpu.Result{}
}
