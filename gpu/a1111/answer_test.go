package a1111_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"easel/gpu"
	"easel/gpu/a1111"
)

func TestCheckAnswer(t *testing.T) {
	info := func(name, hash string) string {
		return `{"sd_model_name":"` + name + `","sd_model_hash":"` + hash + `"}`
	}
	img := []string{png1x1}
	for _, tc := range []struct {
		name, task string
		res        gpu.Result
		ckpt, hash string
		want       string // "" for nil, else a substring
	}{
		{"right model", "txt2img", gpu.Result{Images: img, Info: info("base", "0123456789")}, "base.safetensors", "0123456789", ""},
		{"hash case", "img2img", gpu.Result{Images: img, Info: info("base", "0123ABCDEF")}, "sd/base.safetensors", "0123abcdef", ""},
		{"no choice, no check", "txt2img", gpu.Result{Images: img, Info: `not json`}, "", "", ""},
		{"hash unknown to the server", "txt2img", gpu.Result{Images: img, Info: `{"sd_model_name":"base","sd_model_hash":null}`}, "base.safetensors", "0123456789", ""},
		{"hash not known here", "txt2img", gpu.Result{Images: img, Info: info("base", "0123456789")}, "base.safetensors", "", ""},
		{"extras have no model", "extra-single-image", gpu.Result{Images: img, Info: `{"html_info":""}`}, "base.safetensors", "", ""},
		{"no images", "txt2img", gpu.Result{Info: info("base", "0123456789")}, "base.safetensors", "", "produced no images"},
		{"no image from extras", "extra-single-image", gpu.Result{}, "", "", "produced no images"},
		{"other model ran", "txt2img", gpu.Result{Images: img, Info: info("v1-5-pruned-emaonly", "6ce0161689")}, "base.safetensors", "0123456789", `ran model "v1-5-pruned-emaonly", not the selected base.safetensors`},
		{"same name, other file", "txt2img", gpu.Result{Images: img, Info: info("base", "9999999999")}, "base.safetensors", "0123456789", "hash 9999999999, not 0123456789"},
		{"model not said", "txt2img", gpu.Result{Images: img, Info: `{"seed":1}`}, "base.safetensors", "", "does not say which model ran"},
		{"info not JSON", "txt2img", gpu.Result{Images: img, Info: `<html>`}, "base.safetensors", "", "info is not JSON"},
	} {
		err := a1111.CheckAnswer(tc.task, tc.res, tc.ckpt, tc.hash)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: CheckAnswer = %v, want %q", tc.name, err, tc.want)
		}
	}
	if err := a1111.CheckAnswer("txt2img", gpu.Result{}, "", ""); !errors.Is(err, a1111.ErrNoImages) {
		t.Errorf("no images: %v, want ErrNoImages", err)
	}
}

func TestJudge(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   a1111.Verdict
	}{
		{500, `{"error":"HTTPException","detail":"","body":"","errors":"Invalid encoded image"}`, a1111.Caller},
		{500, `{"error":"HTTPException","detail":"Invalid encoded image","body":"","errors":"500: Invalid encoded image"}`, a1111.Caller},
		{500, `{"error":"KeyError","detail":"","body":"","errors":"'outdir_samples_x'"}`, a1111.Caller},
		{500, `{"error":"RuntimeError","detail":"","body":"","errors":"checkpoint not found: ghost.safetensors"}`, a1111.Caller},
		{404, `{"error":"HTTPException","detail":"Sampler not found","body":"","errors":""}`, a1111.Caller},
		{400, `{"error":"HTTPException","detail":"Sampler not found","body":"","errors":""}`, a1111.Caller},
		{404, `{"error":"HTTPException","detail":"Init image not found","body":"","errors":""}`, a1111.Caller},
		{422, `{"detail":[{"loc":["body","steps"],"msg":"value is not a valid integer","type":"type_error.integer"}]}`, a1111.Caller},
		{401, `{"detail":"Not authenticated"}`, a1111.Caller},
		{500, `{"error":"OutOfMemoryError","detail":"","body":"","errors":"CUDA out of memory. Tried to allocate 2.00 GiB"}`, a1111.Server},
		{500, `{"error":"RuntimeError","detail":"","body":"","errors":"simulated failure (--fail-rate)"}`, a1111.Server},
		{500, `Internal Server Error`, a1111.Server},
		{502, `<html>Bad Gateway</html>`, a1111.Server},
		{503, `{"detail":"Service Unavailable"}`, a1111.Server},
		{500, `invalid encoded image (Forge, plain text)`, a1111.Caller},
		{http.StatusTooManyRequests, `{"code":429,"error":"busy"}`, a1111.Busy},
		{http.StatusRequestTimeout, ``, a1111.Busy},
	} {
		if got := a1111.Judge(tc.status, []byte(tc.body)); got != tc.want {
			t.Errorf("Judge(%d, %s) = %v, want %v", tc.status, tc.body, got, tc.want)
		}
	}
}
