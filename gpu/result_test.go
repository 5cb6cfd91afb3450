package gpu_test

import (
	"encoding/json"
	"testing"

	"easel/gpu"
)

func TestParseResult(t *testing.T) {
	for _, tc := range []struct {
		body, failure string
		images        int
	}{
		{`{"images":["aGk="],"parameters":{},"info":"{}"}`, "", 1},
		{`{"html_info":"<p>","image":"aGk="}`, "", 1},
		{` null `, "the server answered null instead of a result", 0},
		{`{"error":"OutOfMemoryError","detail":"CUDA out of memory","body":"","errors":"CUDA out of memory"}`, "OutOfMemoryError: CUDA out of memory", 0},
		{`{"error":"HTTPException","detail":[{"loc":["body","steps"],"msg":"bad"}]}`, `HTTPException: [{"loc":["body","steps"],"msg":"bad"}]`, 0},
		{`{"parameters":{},"info":"{}"}`, "", 0},
	} {
		res, err := gpu.ParseResult([]byte(tc.body))
		if err != nil || res.Failure != tc.failure || len(res.Images) != tc.images {
			t.Errorf("ParseResult(%s) = %+v, %v; want failure %q, %d images", tc.body, res, err, tc.failure, tc.images)
		}
	}
	if _, err := gpu.ParseResult([]byte("<html>")); err == nil {
		t.Error("ParseResult(<html>): want an error")
	}
}

func TestModelsJSON(t *testing.T) {
	m := gpu.Models{SpaceFreeSize: gpu.SpaceFreeSize, ByType: map[string][]gpu.Model{
		"VAE": {{ID: "VAE", Name: "None", S3: gpu.BuiltInS3, Type: "VAE"}}}}
	got, _ := json.Marshal(m)
	if want := `{"VAE":[{"id":"VAE","model_name":"None","s3":"None","type":"VAE"}],"space_free_size":40000000000.0}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got, _ := json.Marshal(gpu.Models{}); string(got) != "{}" {
		t.Errorf("no models: got %s, want {}", got)
	}
}
