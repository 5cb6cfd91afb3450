package webui

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"easel/worker"
)

func TestJudgeError(t *testing.T) {
	for _, c := range []struct {
		status  int
		body    string
		callers bool
		reason  string
	}{
		{500, `{"error":"KeyError","detail":"","body":"","errors":"'outdir_samples'"}`, true, "KeyError: 'outdir_samples'"},
		{500, `{"error":"HTTPException","detail":"Invalid encoded image","body":"","errors":""}`, true, "HTTPException: Invalid encoded image"},
		{500, `{"error":"OutOfMemoryError","detail":"","body":"","errors":"CUDA out of memory. Tried to allocate 20.00 GiB"}`, true, "OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 GiB"},
		{500, `{"error":"RuntimeError","detail":"","body":"","errors":"CUDA error: an illegal memory access was encountered"}`, false, "RuntimeError: CUDA error: an illegal memory access was encountered"},
		{500, `Internal Server Error`, false, "Internal Server Error"},
		{500, ``, false, "Internal Server Error"},
		{422, `{"detail":[{"loc":["body","steps"],"msg":"value is not a valid integer","type":"type_error.integer"}]}`, true, `["body","steps"] value is not a valid integer`},
		{404, `{"error":"HTTPException","detail":"Sampler not found","body":"","errors":""}`, true, "HTTPException: Sampler not found"},
		{400, `{"message":"bad request"}`, true, "bad request"},
		{401, `{"detail":"Not authenticated"}`, false, "Not authenticated"},
		{429, `{"detail":"busy","code":429}`, false, "busy"},
		{502, `Bad Gateway`, false, "Bad Gateway"},
	} {
		reason, callers := JudgeError(c.status, []byte(c.body))
		if reason != c.reason || callers != c.callers {
			t.Errorf("JudgeError(%d, %s) = %q, %v; want %q, %v", c.status, c.body, reason, callers, c.reason, c.callers)
		}
	}
}

func TestBody(t *testing.T) {
	params := map[string]any{"prompt": "p", "override_settings": map[string]any{"CLIP_stop_at_last_layers": 2}, "send_images": false}
	got := Body(worker.RunRequest{Task: "txt2img", Params: params, Checkpoint: "m.safetensors", VAE: "none"})
	want := map[string]any{"prompt": "p", "send_images": true, "save_images": false,
		"override_settings_restore_afterwards": false,
		"override_settings":                    map[string]any{"CLIP_stop_at_last_layers": 2, "sd_model_checkpoint": "m.safetensors", "sd_vae": "None"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Body (-want +got):\n%s", diff)
	}
	if _, ok := params["override_settings"].(map[string]any)["sd_model_checkpoint"]; ok {
		t.Error("Body changed the job's params")
	}
}

func TestNewTakesAPIAuthFromTheURL(t *testing.T) {
	c, err := New("http://me:secret@127.0.0.1:7860/")
	if err != nil || c.base != "http://127.0.0.1:7860" || c.user != "me" || c.pass != "secret" {
		t.Errorf("New = %+v, %v; want the credentials out of the URL", c, err)
	}
	if _, err := New("127.0.0.1:7860"); err == nil {
		t.Error("New without a scheme succeeded")
	}
}
