package sagemaker_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"easel/gpu"
	"easel/gpu/sagemaker"
	"easel/gpu/sagemaker/fake"
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
