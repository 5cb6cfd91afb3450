package sim_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"easel/gpu/sim"
	"easel/modelfile"
)

func loraFile(t *testing.T) string {
	t.Helper()
	var b bytes.Buffer
	err := modelfile.WriteSafetensors(&b, map[string]string{"ss_network_dim": "4"}, []modelfile.TensorData{
		{Name: "lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight", DType: "F16", Shape: []int64{4, 768}, Data: make([]byte, 2*4*768)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestPromptLoras: a LoRA named in the prompt must be in the Lora folder
// and be a valid safetensors file; a generation with it says so in its
// infotext and counts it.
func TestPromptLoras(t *testing.T) {
	good := loraFile(t)
	h := sim.Handler(sim.Options{ModelsDir: modelsDir(t, map[string]string{
		"Stable-diffusion/base.safetensors": "base weights",
		"Lora/cat_lora.safetensors":         good,
		"Lora/broken.safetensors":           "not a safetensors file at all",
	})})
	_, in := generate(t, h, "/sdapi/v1/txt2img", `{"prompt":"a cat <lora:cat_lora:0.8>","width":16,"height":16}`)
	if want := `Lora hashes: "cat_lora: ` + sha(good)[:12] + `"`; len(in.Infotexts) != 1 || !strings.Contains(in.Infotexts[0], want) {
		t.Errorf("infotexts %q lack %s", in.Infotexts, want)
	}
	if st := stats(t, h); st.Loras["cat_lora.safetensors"] != 1 {
		t.Errorf("stats.loras = %v", st.Loras)
	}
	for body, want := range map[string]string{
		`{"prompt":"<lora:missing:1> a cat","width":16,"height":16}`:                  "LoRA not found: missing",
		`{"prompt":"a cat","negative_prompt":"<lora:broken>","width":16,"height":16}`: "LoRA broken is not a valid safetensors file",
	} {
		rec := post(t, h, "/sdapi/v1/txt2img", body)
		if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("%s: %d %s, want 500 %q", body, rec.Code, rec.Body, want)
		}
	}
}
