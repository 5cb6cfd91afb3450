package sagemaker_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"
)

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
