package sim_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"easel/gpu/sim"
)

// modelsDir writes files (path under the models folder → content) and
// returns the folder.
func modelsDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content)
	}
	return dir
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func sha(content string) string {
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])
}

// getJSON GETs path from h into v.
func getJSON(t *testing.T, h http.Handler, path string, v any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, rec.Body)
	}
}

func stats(t *testing.T, h http.Handler) sim.Stats {
	t.Helper()
	var st sim.Stats
	getJSON(t, h, sim.StatsPath, &st)
	return st
}

type sdModel struct {
	Title     string  `json:"title"`
	ModelName string  `json:"model_name"`
	Hash      string  `json:"hash"`
	SHA256    string  `json:"sha256"`
	Filename  string  `json:"filename"`
	Config    *string `json:"config"`
}

const (
	baseWeights = "weights of base.safetensors"
	xlWeights   = "weights of sdxl"
)

func TestModelsDir(t *testing.T) {
	dir := modelsDir(t, map[string]string{
		"Stable-diffusion/base.safetensors":    baseWeights,
		"Stable-diffusion/xl/big.ckpt":         xlWeights,
		"Stable-diffusion/notes.txt":           "not a model",
		"Lora/cartoony.safetensors":            "lora",
		"VAE/vae-ft-mse-840000.safetensors":    "vae",
		"Stable-diffusion/.hidden.safetensors": "hidden",
	})
	h := sim.Handler(sim.Options{ModelsDir: dir})
	var models []sdModel
	getJSON(t, h, "/sdapi/v1/sd-models", &models)
	want := []sdModel{
		{Title: "base.safetensors [" + sha(baseWeights)[:10] + "]", ModelName: "base", Hash: sha(baseWeights)[:10],
			SHA256: sha(baseWeights), Filename: filepath.Join(dir, "Stable-diffusion", "base.safetensors")},
		{Title: "xl/big.ckpt [" + sha(xlWeights)[:10] + "]", ModelName: "xl_big", Hash: sha(xlWeights)[:10],
			SHA256: sha(xlWeights), Filename: filepath.Join(dir, "Stable-diffusion", "xl", "big.ckpt")},
	}
	if len(models) != len(want) {
		t.Fatalf("sd-models = %+v, want %+v", models, want)
	}
	for i := range want {
		if models[i] != want[i] {
			t.Errorf("sd-models[%d] = %+v, want %+v", i, models[i], want[i])
		}
	}
	var loras []map[string]any
	getJSON(t, h, "/sdapi/v1/loras", &loras)
	if len(loras) != 1 || loras[0]["name"] != "cartoony" || loras[0]["alias"] != "cartoony" ||
		loras[0]["path"] != filepath.Join(dir, "Lora", "cartoony.safetensors") || loras[0]["metadata"] == nil {
		t.Errorf("loras = %v", loras)
	}
	var vaes []map[string]any
	getJSON(t, h, "/sdapi/v1/sd-vae", &vaes)
	if len(vaes) != 1 || vaes[0]["model_name"] != "vae-ft-mse-840000.safetensors" {
		t.Errorf("sd-vae = %v", vaes)
	}
	var flags map[string]any
	getJSON(t, h, "/sdapi/v1/cmd-flags", &flags)
	for k, sub := range map[string]string{"ckpt_dir": "Stable-diffusion", "lora_dir": "Lora", "vae_dir": "VAE", "embeddings_dir": "embeddings", "data_dir": ""} {
		if flags[k] != filepath.Join(dir, sub) {
			t.Errorf("cmd-flags %s = %v, want %s", k, flags[k], filepath.Join(dir, sub))
		}
	}
	var mem struct {
		RAM  map[string]any `json:"ram"`
		CUDA map[string]any `json:"cuda"`
	}
	getJSON(t, h, "/sdapi/v1/memory", &mem)
	if mem.RAM["total"] == nil || mem.CUDA["error"] != "unavailable" {
		t.Errorf("memory = %+v", mem)
	}
	var opts map[string]any
	getJSON(t, h, "/sdapi/v1/options", &opts)
	if opts["sd_model_checkpoint"] != want[0].Title || opts["sd_checkpoint_hash"] != want[0].SHA256 {
		t.Errorf("options: sd_model_checkpoint %v, sd_checkpoint_hash %v", opts["sd_model_checkpoint"], opts["sd_checkpoint_hash"])
	}
}

// TestChosenModelRuns: the model selected by name or title is the one in
// info, infotext and on the image; its hash is the file's SHA-256.
func TestChosenModelRuns(t *testing.T) {
	dir := modelsDir(t, map[string]string{
		"Stable-diffusion/base.safetensors": baseWeights,
		"Stable-diffusion/xl/big.ckpt":      xlWeights,
		"VAE/clear.pt":                      "vae weights",
	})
	h := sim.Handler(sim.Options{ModelsDir: dir})
	type modelInfo struct {
		Name      string   `json:"sd_model_name"`
		Hash      string   `json:"sd_model_hash"`
		VAE       *string  `json:"sd_vae_name"`
		Infotexts []string `json:"infotexts"`
	}
	run := func(overrides string) (genAnswer, modelInfo) {
		t.Helper()
		a, _ := generate(t, h, "/sdapi/v1/txt2img", `{"prompt":"p","seed":1,"width":64,"height":64,"override_settings":`+overrides+`}`)
		var in modelInfo
		if err := json.Unmarshal([]byte(a.Info), &in); err != nil {
			t.Fatal(err)
		}
		return a, in
	}
	xlHash, baseHash := sha(xlWeights)[:10], sha(baseWeights)[:10]
	for _, sel := range []string{`"xl/big.ckpt"`, `"xl/big.ckpt [` + xlHash + `]"`} {
		_, in := run(`{"sd_model_checkpoint":` + sel + `}`)
		if in.Name != "big" || in.Hash != xlHash {
			t.Errorf("selected %s: sd_model_name %q, sd_model_hash %q; want big, %s", sel, in.Name, in.Hash, xlHash)
		}
		if want := "Model hash: " + xlHash + ", Model: big"; len(in.Infotexts) != 1 || !strings.Contains(in.Infotexts[0], want) {
			t.Errorf("selected %s: infotexts %q, want %q", sel, in.Infotexts, want)
		}
	}
	xl, _ := run(`{"sd_model_checkpoint":"xl/big.ckpt"}`)
	base, in := run(`{}`) // the default: the first checkpoint
	if in.Name != "base" || in.Hash != baseHash || in.VAE != nil {
		t.Errorf("default model: %+v, want base, %s", in, baseHash)
	}
	if xl.Images[0] == base.Images[0] {
		t.Error("the image label does not change with the model")
	}
	_, in = run(`{"sd_model_checkpoint":"base.safetensors","sd_vae":"clear.pt"}`)
	if in.VAE == nil || *in.VAE != "clear.pt" || !strings.Contains(in.Infotexts[0], "VAE: clear.pt") {
		t.Errorf("VAE: %+v", in)
	}
}

func TestUnknownCheckpointRefused(t *testing.T) {
	dir := modelsDir(t, map[string]string{"Stable-diffusion/base.safetensors": baseWeights})
	for name, h := range map[string]http.Handler{
		"models dir": sim.Handler(sim.Options{ModelsDir: dir}),
		"built-in":   sim.Handler(sim.Options{}),
	} {
		for _, ckpt := range []string{"ghost.safetensors", "base", "BASE.safetensors"} {
			rec := post(t, h, "/sdapi/v1/txt2img", `{"override_settings":{"sd_model_checkpoint":"`+ckpt+`"}}`)
			var e map[string]string
			_ = json.Unmarshal(rec.Body.Bytes(), &e)
			if rec.Code != 500 || e["error"] != "RuntimeError" || e["errors"] != "checkpoint not found: "+ckpt {
				t.Errorf("%s: checkpoint %s: %d %s", name, ckpt, rec.Code, rec.Body)
			}
		}
		if st := stats(t, h); st.Generations != 0 {
			t.Errorf("%s: %d generations ran for refused requests", name, st.Generations)
		}
	}
	// The built-in model answers to its name and title.
	h := sim.Handler(sim.Options{})
	for _, ckpt := range []string{sim.ModelName, sim.ModelTitle} {
		generate(t, h, "/sdapi/v1/txt2img", `{"width":16,"height":16,"override_settings":{"sd_model_checkpoint":"`+ckpt+`"}}`)
	}
	// A models folder without checkpoints cannot generate.
	empty := sim.Handler(sim.Options{ModelsDir: t.TempDir()})
	if rec := post(t, empty, "/sdapi/v1/txt2img", `{}`); rec.Code != 500 || !strings.Contains(rec.Body.String(), "no checkpoint") {
		t.Errorf("no checkpoints: %d %s", rec.Code, rec.Body)
	}
}

func TestSwitches(t *testing.T) {
	dir := modelsDir(t, map[string]string{
		"Stable-diffusion/a.safetensors": "a",
		"Stable-diffusion/b.safetensors": "b",
	})
	h := sim.Handler(sim.Options{ModelsDir: dir, SwitchDelay: time.Millisecond})
	steps := []struct {
		overrides string
		loaded    string
		switches  int
	}{
		{`{}`, "a.safetensors", 0}, // a is loaded at start
		{`{"sd_model_checkpoint":"a.safetensors"}`, "a.safetensors", 0},
		{`{"sd_model_checkpoint":"b.safetensors"}`, "b.safetensors", 1},
		{`{"sd_model_checkpoint":"b.safetensors"}`, "b.safetensors", 1},
		{`{}`, "a.safetensors", 2}, // restored afterwards: the default is a again
		{`{"sd_model_checkpoint":"b.safetensors"},"override_settings_restore_afterwards":false`, "b.safetensors", 3},
		{`{}`, "b.safetensors", 3}, // b is the default now
	}
	for i, s := range steps {
		generate(t, h, "/sdapi/v1/txt2img", `{"width":16,"height":16,"override_settings":`+s.overrides+`}`)
		if st := stats(t, h); st.Loaded != s.loaded || st.Switches != s.switches || st.Generations != i+1 {
			t.Errorf("after request %d (%s): %+v, want %s loaded after %d switches", i+1, s.overrides, st, s.loaded, s.switches)
		}
	}
}

func TestRefresh(t *testing.T) {
	dir := modelsDir(t, map[string]string{"Stable-diffusion/base.safetensors": baseWeights})
	h := sim.Handler(sim.Options{ModelsDir: dir})
	writeFile(t, filepath.Join(dir, "Stable-diffusion", "new.safetensors"), "new weights")
	writeFile(t, filepath.Join(dir, "Stable-diffusion", "base.safetensors"), "retrained weights of base")
	writeFile(t, filepath.Join(dir, "Lora", "late.safetensors"), "lora")
	var models []sdModel
	getJSON(t, h, "/sdapi/v1/sd-models", &models)
	if len(models) != 1 || models[0].SHA256 != sha(baseWeights) {
		t.Fatalf("before a refresh: %+v", models)
	}
	for _, p := range []string{"/sdapi/v1/refresh-checkpoints", "/sdapi/v1/refresh-loras", "/sdapi/v1/refresh-vae"} {
		if rec := post(t, h, p, ""); rec.Code != 200 {
			t.Fatalf("%s: %d %s", p, rec.Code, rec.Body)
		}
	}
	getJSON(t, h, "/sdapi/v1/sd-models", &models)
	if len(models) != 2 || models[0].SHA256 != sha("retrained weights of base") || models[1].Title != "new.safetensors ["+sha("new weights")[:10]+"]" {
		t.Errorf("after a refresh: %+v", models)
	}
	var loras []map[string]any
	getJSON(t, h, "/sdapi/v1/loras", &loras)
	if len(loras) != 1 || loras[0]["name"] != "late" {
		t.Errorf("loras after a refresh: %v", loras)
	}
	generate(t, h, "/sdapi/v1/txt2img", `{"width":16,"height":16,"override_settings":{"sd_model_checkpoint":"new.safetensors"}}`)
}
