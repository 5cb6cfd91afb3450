package sagemaker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"

	"easel/blob"
	"easel/gpu"
	"easel/gpu/sagemaker"
	"easel/gpu/sagemaker/fake"
	"easel/internal/testenv"
)

// testRequest is an inference as Easel sends it to the container: one
// checkpoint and the built-in VAE choice "Automatic".
func testRequest(bucket, id string) gpu.Request {
	return gpu.Request{
		InferenceID: id, Task: "txt2img", Username: "test",
		ParamS3: "s3://" + bucket + "/txt2img/infer_v2/" + id + "/api_param.json",
		Models: gpu.Models{SpaceFreeSize: gpu.SpaceFreeSize, ByType: map[string][]gpu.Model{
			"Stable-diffusion": {{ID: "ckpt-1", Name: "v1-5-pruned-emaonly.safetensors",
				S3: "s3://" + bucket + "/Stable-diffusion/checkpoint/custom/ckpt-1", Type: "Stable-diffusion"}},
			"VAE": {{ID: "VAE", Name: "Automatic", S3: "None", Type: "VAE"}},
		}},
	}
}

// wantBody is the exact container request of testRequest.
func wantBody(bucket, id string) string {
	return `{"task":"txt2img","username":"test","param_s3":"s3://` + bucket + `/txt2img/infer_v2/` + id + `/api_param.json",` +
		`"models":{"Stable-diffusion":[{"id":"ckpt-1","model_name":"v1-5-pruned-emaonly.safetensors",` +
		`"s3":"s3://` + bucket + `/Stable-diffusion/checkpoint/custom/ckpt-1","type":"Stable-diffusion"}],` +
		`"VAE":[{"id":"VAE","model_name":"Automatic","s3":"None","type":"VAE"}],"space_free_size":40000000000.0}}`
}

// seedJob puts what the container reads for testRequest(id): the
// parameter file and the checkpoint.
func seedJob(t *testing.T, put func(key string, body []byte) error, id string) {
	t.Helper()
	for key, body := range map[string]string{
		"txt2img/infer_v2/" + id + "/api_param.json":                                `{"prompt":"a lighthouse","steps":20}`,
		"Stable-diffusion/checkpoint/custom/ckpt-1/v1-5-pruned-emaonly.safetensors": "weights",
	} {
		if err := put(key, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
}

func memPut(f *fake.Server) func(string, []byte) error {
	return func(key string, body []byte) error { f.PutObject(key, body); return nil }
}

// realTime deploys an InService real-time endpoint.
func realTime(t *testing.T, b *sagemaker.Backend, name string) {
	t.Helper()
	deployed(t, b, gpu.Spec{Name: name, ID: "id", Type: gpu.RealTime, InstanceType: "ml.g5.2xlarge", InstanceCount: 1})
}

// recordBodies makes the WebUI behind the fake container keep each body
// it is handed and answer with DefaultInvoke.
func recordBodies(f *fake.Server) func() []string {
	var mu sync.Mutex
	var got []string
	f.Invoke = func(endpoint string, body []byte) ([]byte, error) {
		mu.Lock()
		got = append(got, string(body))
		mu.Unlock()
		return fake.DefaultInvoke(endpoint, body)
	}
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

func TestInvokeRealTime(t *testing.T) {
	f, b := newBackend(t, testBucket, nil)
	realTime(t, b, "esd-real-time-inv0001")
	seedJob(t, memPut(f), "inf-1")
	bodies := recordBodies(f)
	res, err := b.Invoke(context.Background(), "esd-real-time-inv0001", testRequest(testBucket, "inf-1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Images) != 1 || res.Images[0] != fake.TinyPNG || !strings.Contains(res.Info, "infotexts") ||
		!strings.Contains(string(res.Parameters), `"prompt"`) || res.Failure != "" {
		t.Errorf("result = %+v", res)
	}
	if got := bodies(); len(got) != 1 || got[0] != wantBody(testBucket, "inf-1") {
		t.Errorf("container got %q,\nwant %q", got, wantBody(testBucket, "inf-1"))
	}
	var in struct{ ContentType, Accept, InferenceId string }
	decodeCall(t, f, "InvokeEndpoint", &in)
	if in.ContentType != "application/json" || in.Accept != "application/json" || in.InferenceId != "inf-1" {
		t.Errorf("InvokeEndpoint input = %+v", in)
	}
}

func TestModelsWithoutEntriesAreAnEmptyObject(t *testing.T) {
	req := gpu.Request{Task: "extra-single-image", Username: "test", ParamS3: "s3://b/k"}
	got, _ := json.Marshal(req)
	if want := `{"task":"extra-single-image","username":"test","param_s3":"s3://b/k","models":{}}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestFakeContainerReadsLikeESD holds the fake to the container: what it
// cannot read ends in a null answer and a logged Python error, as the
// real one does; a body its request model rejects is a 422 → ModelError.
func TestFakeContainerReadsLikeESD(t *testing.T) {
	f, b := newBackend(t, testBucket, nil)
	realTime(t, b, "esd-real-time-ctr0001")
	seedJob(t, memPut(f), "ok")
	rt := runtimeClient(t, f)
	param := `"param_s3":"s3://esd-bucket/txt2img/infer_v2/ok/api_param.json"`
	model := func(name, s3 string) string {
		return `{"id":"c","model_name":"` + name + `","s3":"` + s3 + `","type":"Stable-diffusion"}`
	}
	folder := "s3://esd-bucket/Stable-diffusion/checkpoint/custom/ckpt-1"
	for _, tc := range []struct {
		name, body, wantLog string
	}{
		{"Easel's old model list", `{"task":"txt2img","username":"test",` + param + `,"models":{"Stable-diffusion":["v1-5-pruned-emaonly.safetensors"]}}`, "KeyError: 'space_free_size'"},
		{"names instead of entries", `{"task":"txt2img",` + param + `,"models":{"space_free_size":4e10,"Stable-diffusion":["v1-5-pruned-emaonly.safetensors"]}}`, "TypeError"},
		{"entry without model_name", `{"task":"txt2img",` + param + `,"models":{"space_free_size":4e10,"Lora":[{"id":"c","s3":"` + folder + `"}]}}`, "KeyError: 'model_name'"},
		{"model file missing", `{"task":"txt2img",` + param + `,"models":{"space_free_size":4e10,"Stable-diffusion":[` + model("other.safetensors", folder) + `]}}`, "download " + folder + "/other.safetensors failed"},
		{"model in another bucket", `{"task":"txt2img",` + param + `,"models":{"space_free_size":4e10,"Stable-diffusion":[` + model("v1-5-pruned-emaonly.safetensors", "s3://elsewhere/Stable-diffusion/checkpoint/custom/ckpt-1") + `]}}`, "NoSuchBucket"},
		{"parameters missing", `{"task":"txt2img","param_s3":"s3://esd-bucket/txt2img/infer_v2/gone/api_param.json","models":{}}`, "reading the parameters"},
	} {
		out, err := rt.InvokeEndpoint(context.Background(), invokeInput("esd-real-time-ctr0001", tc.body))
		if err != nil || string(out.Body) != "null" {
			t.Errorf("%s: answer %s, %v; want 200 null", tc.name, bodyOf(out), err)
			continue
		}
		calls := f.CallsTo("InvokeEndpoint")
		if log := calls[len(calls)-1].Log; !strings.Contains(log, tc.wantLog) {
			t.Errorf("%s: container logged %q, want %q", tc.name, log, tc.wantLog)
		}
	}
	// The correct shape, with the built-in VAE (nothing to download), works.
	body := `{"task":"txt2img","username":"test",` + param + `,"models":{"space_free_size":40000000000.0,"Stable-diffusion":[` +
		model("v1-5-pruned-emaonly.safetensors", folder) + `],"VAE":[{"id":"VAE","model_name":"None","s3":"None","type":"VAE"}]}}`
	if out, err := rt.InvokeEndpoint(context.Background(), invokeInput("esd-real-time-ctr0001", body)); err != nil || !strings.Contains(string(out.Body), "images") {
		t.Errorf("ESD's shape: %s, %v", bodyOf(out), err)
	}
	// Not the container's request model: FastAPI's 422, a ModelError.
	_, err := rt.InvokeEndpoint(context.Background(), invokeInput("esd-real-time-ctr0001", `{"username":"test"}`))
	if err == nil || !strings.Contains(err.Error(), "ModelError") || !strings.Contains(err.Error(), "field required") {
		t.Errorf("no task: %v, want a ModelError with FastAPI's 422", err)
	}
}

// TestInvokeContainerFailures: the container's null and a WebUI's error
// JSON come back with HTTP 200; they are no result.
func TestInvokeContainerFailures(t *testing.T) {
	f, b := newBackend(t, testBucket, nil)
	realTime(t, b, "esd-real-time-inv0002")
	seedJob(t, memPut(f), "inf-2")
	for _, tc := range []struct {
		invoke func(string, []byte) ([]byte, error)
		want   string
	}{
		{fake.AnswerNull, "the inference container answered null: it failed and logged why in CloudWatch, log group /aws/sagemaker/Endpoints/esd-real-time-inv0002"},
		{fake.AnswerWebUIError("OutOfMemoryError", "CUDA out of memory. Tried to allocate 2.00 GiB"), "OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"},
	} {
		f.Invoke = tc.invoke
		res, err := b.Invoke(context.Background(), "esd-real-time-inv0002", testRequest(testBucket, "inf-2"))
		if err != nil || res.Failure != tc.want || len(res.Images) != 0 {
			t.Errorf("result %+v, %v; want Failure %q", res, err, tc.want)
		}
	}
}

func TestInvokeModelError(t *testing.T) {
	f, b := newBackend(t, testBucket, nil)
	realTime(t, b, "esd-real-time-inv0003")
	seedJob(t, memPut(f), "inf-3")
	f.Invoke = func(string, []byte) ([]byte, error) { return nil, errors.New("CUDA out of memory") }
	_, err := b.Invoke(context.Background(), "esd-real-time-inv0003", testRequest(testBucket, "inf-3"))
	if err == nil || !strings.Contains(err.Error(), "ModelError: CUDA out of memory") || gpu.IsTransient(err) {
		t.Fatalf("err = %v, want a non-transient ModelError with the model's message", err)
	}
	if n := len(f.CallsTo("InvokeEndpoint")); n != 1 {
		t.Errorf("a ModelError was retried: %d calls", n)
	}
}

func TestInvokeTransient(t *testing.T) {
	f, b := newBackend(t, testBucket, nil)
	realTime(t, b, "esd-real-time-inv0004")
	seedJob(t, memPut(f), "inf-4")
	f.FailNext("InvokeEndpoint", 3, http.StatusServiceUnavailable, "ServiceUnavailable", "try later")
	if _, err := b.Invoke(context.Background(), "esd-real-time-inv0004", testRequest(testBucket, "inf-4")); !gpu.IsTransient(err) {
		t.Errorf("503: err = %v, want transient", err)
	}
	f.Throttle("InvokeEndpoint", 1)
	if res, err := b.Invoke(context.Background(), "esd-real-time-inv0004", testRequest(testBucket, "inf-4")); err != nil || len(res.Images) != 1 {
		t.Errorf("one throttle is retried: %+v, %v", res, err)
	}
	if _, err := b.Invoke(context.Background(), "esd-real-time-missing", testRequest(testBucket, "inf-4")); err == nil || gpu.IsTransient(err) {
		t.Errorf("unknown endpoint: err = %v, want a permanent error", err)
	}
}

// s3Fake returns a backend whose async traffic goes through a real bucket,
// with the fake reading from and writing to it.
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
	if err := store.Put(ctx, "data/model.tar.gz", []byte("ESD model data"), "application/gzip"); err != nil {
		t.Fatal(err)
	}
	return f, store, b
}

func blobPut(store *blob.Client) func(string, []byte) error {
	return func(key string, body []byte) error {
		return store.Put(context.Background(), key, body, "application/octet-stream")
	}
}

func TestInvokeAsync(t *testing.T) {
	f, store, b := s3Fake(t)
	ctx := context.Background()
	spec := asyncSpec("asy0001")
	deployed(t, b, spec)
	seedJob(t, blobPut(store), "inf-async-1")
	bodies := recordBodies(f)
	h, err := b.InvokeAsync(ctx, spec.Name, testRequest(store.Bucket, "inf-async-1"))
	if err != nil {
		t.Fatal(err)
	}
	if h.InferenceID != "inf-async-1" || h.Endpoint != spec.Name ||
		!strings.HasPrefix(h.OutputLocation, "s3://"+store.Bucket+"/sagemaker_output/") ||
		!strings.HasPrefix(h.FailureLocation, "s3://"+store.Bucket+"/sagemaker_async_failures/") {
		t.Fatalf("handle = %+v", h)
	}
	var in struct{ InputLocation, ContentType, InvocationTimeoutSeconds string }
	decodeCall(t, f, "InvokeEndpointAsync", &in)
	if in.InputLocation != "s3://"+store.Bucket+"/async-inputs/inf-async-1.json" || in.ContentType != "application/json" ||
		in.InvocationTimeoutSeconds != fmt.Sprint(sagemaker.AsyncInvocationTimeout) {
		t.Errorf("InvokeEndpointAsync input = %+v, want InvocationTimeoutSeconds 3600", in)
	}
	if _, done, err := b.FetchAsync(ctx, h); done || err != nil {
		t.Fatalf("FetchAsync right away: done=%v err=%v", done, err)
	}
	res, err := waitAsync(t, b, h)
	if err != nil || len(res.Images) != 1 || res.Images[0] != fake.TinyPNG {
		t.Errorf("result = %+v, %v", res, err)
	}
	if got := bodies(); len(got) != 1 || got[0] != wantBody(store.Bucket, "inf-async-1") {
		t.Errorf("container got %q,\nwant %q", got, wantBody(store.Bucket, "inf-async-1"))
	}
}

// TestInvokeAsyncFailures: a crash is read from the FailureLocation
// SageMaker named (the fake names it so that no guess finds it); a null
// answer is an output, and no result.
func TestInvokeAsyncFailures(t *testing.T) {
	f, store, b := s3Fake(t)
	ctx := context.Background()
	spec := asyncSpec("asy0002")
	deployed(t, b, spec)
	seedJob(t, blobPut(store), "inf-async-2")

	f.Invoke = func(string, []byte) ([]byte, error) { return nil, errors.New("model exploded") }
	h, err := b.InvokeAsync(ctx, spec.Name, testRequest(store.Bucket, "inf-async-2"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := waitAsync(t, b, h); err == nil || !strings.Contains(err.Error(), "model exploded") {
		t.Errorf("crashed container: err = %v, want the failure object's text", err)
	}

	f.Invoke = fake.AnswerNull
	h, err = b.InvokeAsync(ctx, spec.Name, testRequest(store.Bucket, "inf-async-2"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := waitAsync(t, b, h)
	if err != nil || !strings.Contains(res.Failure, "answered null") || !strings.Contains(res.Failure, spec.Name) {
		t.Errorf("null answer: %+v, %v; want a Failure naming the log group", res, err)
	}
}

// waitAsync polls FetchAsync until it is done.
func waitAsync(t *testing.T, b gpu.AsyncBackend, h gpu.AsyncHandle) (gpu.Result, error) {
	t.Helper()
	for range 200 {
		res, done, err := b.FetchAsync(context.Background(), h)
		if done {
			return res, err
		}
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("async result never arrived")
	return gpu.Result{}, nil
}

func invokeInput(endpoint, body string) *sagemakerruntime.InvokeEndpointInput {
	return &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String(endpoint), Body: []byte(body),
		ContentType: aws.String("application/json"), Accept: aws.String("application/json")}
}

func bodyOf(out *sagemakerruntime.InvokeEndpointOutput) string {
	if out == nil {
		return "(none)"
	}
	return string(out.Body)
}
