package webui_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"easel/gpu"
	"easel/gpu/a1111"
	"easel/gpu/sim"
	"easel/gpu/webui"
)

// modelsDir writes checkpoint files (name → content) into a simulator
// models folder and returns the folder.
func modelsDir(t *testing.T, checkpoints map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range checkpoints {
		writeCheckpoint(t, dir, name, content)
	}
	return dir
}

func writeCheckpoint(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, sim.CheckpointDir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func hash10(content string) string {
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])[:10]
}

// withModels is a txt2img request that chose checkpoint (and VAE).
func withModels(params, checkpoint, vae string) gpu.Request {
	r := txt2img(params)
	r.Models = gpu.Models{ByType: map[string][]gpu.Model{
		"Stable-diffusion": {{ID: "1", Name: checkpoint, S3: "s3://b/models/1", Type: "Stable-diffusion"}}}}
	if vae != "" {
		r.Models.ByType["VAE"] = []gpu.Model{{ID: "VAE", Name: vae, S3: gpu.BuiltInS3, Type: "VAE"}}
	}
	return r
}

type resultInfo struct {
	Name      string   `json:"sd_model_name"`
	Hash      string   `json:"sd_model_hash"`
	Infotexts []string `json:"infotexts"`
}

// TestChosenCheckpointRuns: the checkpoint the job chose is selected by
// name, and the answer proves that those bytes ran: the infotext's hash is
// the file's SHA-256.
func TestChosenCheckpointRuns(t *testing.T) {
	const base, other = "weights of base.safetensors", "weights of the default"
	dir := modelsDir(t, map[string]string{"a-default.safetensors": other, "base.safetensors": base})
	m := newMember(t, sim.Options{ModelsDir: dir}, nil)
	b := backend(t, nil, m.URL)
	res, err := b.Invoke(context.Background(), "ep", withModels(`{"prompt":"fox","width":32,"height":32}`, "base.safetensors", "Automatic"))
	if err != nil {
		t.Fatal(err)
	}
	var in resultInfo
	if err := json.Unmarshal([]byte(res.Info), &in); err != nil {
		t.Fatal(err)
	}
	want := "Model hash: " + hash10(base) + ", Model: base"
	if in.Name != "base" || in.Hash != hash10(base) || len(in.Infotexts) != 1 || !strings.Contains(in.Infotexts[0], want) {
		t.Fatalf("info %+v, want model base with hash %s and %q", in, hash10(base), want)
	}
	if st := simStats(t, m.URL); st.Loaded != "base.safetensors" || st.Switches != 1 {
		t.Errorf("member stats %+v, want base.safetensors loaded by one switch", st)
	}
}

// TestMissingCheckpoint: a member without the chosen file fails the job
// clearly (no generation, member healthy); once the file is copied there,
// the member's rescan finds it.
func TestMissingCheckpoint(t *testing.T) {
	dir := modelsDir(t, map[string]string{"base.safetensors": "base"})
	m := newMember(t, sim.Options{ModelsDir: dir}, nil)
	b := backend(t, nil, m.URL)
	ctx := context.Background()
	_, err := b.Invoke(ctx, "ep", withModels(`{"width":32,"height":32}`, "ghost.safetensors", ""))
	var missing *webui.MissingModelError
	want := "webui member " + strings.TrimPrefix(m.URL, "http://") + " does not have checkpoint ghost.safetensors; copy it there or use Easel workers, which fetch models themselves"
	if !errors.As(err, &missing) || gpu.IsTransient(err) || err.Error() != want {
		t.Fatalf("missing checkpoint: %v, want %q (not transient)", err, want)
	}
	if _, gens := m.stats(); gens != 0 {
		t.Errorf("the member generated %d times for a checkpoint it lacks", gens)
	}
	_, err = b.Invoke(ctx, "ep", withModels(`{"width":32,"height":32}`, "base.safetensors", "ghost-vae.pt"))
	if !errors.As(err, &missing) || missing.Type != "VAE" || missing.Name != "ghost-vae.pt" {
		t.Fatalf("missing VAE: %v", err)
	}

	writeCheckpoint(t, dir, "ghost.safetensors", "ghost weights")
	res, err := b.Invoke(ctx, "ep", withModels(`{"width":32,"height":32}`, "ghost.safetensors", ""))
	if err != nil || !strings.Contains(res.Info, hash10("ghost weights")) {
		t.Fatalf("after copying the file: %v, info %s", err, res.Info)
	}
	if st, err := b.Status(ctx, "ep"); err != nil || st.State != gpu.InService {
		t.Errorf("Status = %+v, %v", st, err)
	}
}

// TestWrongModelRan: a server that ignores the selection (A1111 runs its
// default for a checkpoint it does not know) fails the job, saying which
// model ran.
func TestWrongModelRan(t *testing.T) {
	dir := modelsDir(t, map[string]string{"a.safetensors": "a", "b.safetensors": "b"})
	ignoring := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/sdapi/v1/txt2img" {
				var p map[string]any
				_ = json.NewDecoder(r.Body).Decode(&p)
				delete(p, "override_settings")
				body, _ := json.Marshal(p)
				r.Body = io.NopCloser(strings.NewReader(string(body)))
			}
			h.ServeHTTP(w, r)
		})
	}
	m := newMember(t, sim.Options{ModelsDir: dir}, ignoring)
	b := backend(t, nil, m.URL)
	_, err := b.Invoke(context.Background(), "ep", withModels(`{"width":32,"height":32}`, "b.safetensors", ""))
	if err == nil || gpu.IsTransient(err) || !strings.Contains(err.Error(), `ran model "a", not the selected b.safetensors`) {
		t.Fatalf("default model ran: %v", err)
	}
}

// TestRequestSanitised: what reaches the member is sanitised and names the
// chosen checkpoint.
func TestRequestSanitised(t *testing.T) {
	var mu sync.Mutex
	var got map[string]any
	capture := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/sdapi/v1/txt2img" {
				body, _ := io.ReadAll(r.Body)
				mu.Lock()
				_ = json.Unmarshal(body, &got)
				mu.Unlock()
				r.Body = io.NopCloser(strings.NewReader(string(body)))
			}
			h.ServeHTTP(w, r)
		})
	}
	dir := modelsDir(t, map[string]string{"base.safetensors": "base"})
	m := newMember(t, sim.Options{ModelsDir: dir}, capture)
	b := backend(t, nil, m.URL)
	_, err := b.Invoke(context.Background(), "ep", withModels(`{"width":32,"height":32,"seed":4294967295,"save_images":true,
		"script_name":"custom code","script_args":["import os"],"override_settings":{"outdir_samples":"/etc","sd_model_checkpoint":"other.ckpt","CLIP_stop_at_last_layers":2},
		"override_settings_restore_afterwards":false}`, "base.safetensors", ""))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got["save_images"] != false || got["send_images"] != true || got["script_name"] != nil || got["script_args"] != nil ||
		got["override_settings_restore_afterwards"] != true || got["seed"] != float64(4294967295) {
		t.Errorf("request sent: %v", got)
	}
	o, _ := got["override_settings"].(map[string]any)
	if len(o) != 2 || o["sd_model_checkpoint"] != "base.safetensors" || o["CLIP_stop_at_last_layers"] != float64(2) {
		t.Errorf("override_settings sent: %v", o)
	}
}

// TestBadImage: an image the WebUI cannot use fails the job with the
// reason, permanently, and leaves the member in service.
func TestBadImage(t *testing.T) {
	m1, m2 := newMember(t, sim.Options{}, nil), newMember(t, sim.Options{}, nil)
	b := backend(t, nil, m1.URL, m2.URL)
	ctx := context.Background()
	img2img := func(init string) gpu.Request {
		return gpu.Request{Task: "img2img", Params: []byte(`{"width":32,"height":32,"init_images":["` + init + `"]}`)}
	}
	// A URL is refused before any member sees it (the member would fetch it).
	_, err := b.Invoke(ctx, "ep", img2img("http://169.254.169.254/latest/meta-data"))
	if !errors.Is(err, a1111.ErrInvalid) || gpu.IsTransient(err) || !strings.Contains(err.Error(), "init_images[0]") {
		t.Fatalf("URL image: %v", err)
	}
	// Base64 that is no image: the member's 500 blames the request.
	_, err = b.Invoke(ctx, "ep", img2img(base64.StdEncoding.EncodeToString([]byte("not an image"))))
	var he *webui.HTTPError
	if !errors.As(err, &he) || he.StatusCode != 500 || gpu.IsTransient(err) || !strings.Contains(err.Error(), "Invalid encoded image") {
		t.Fatalf("bad image: %v, want a permanent failure naming the reason", err)
	}
	_, first := m1.stats()
	_, second := m2.stats()
	if first+second != 1 {
		t.Fatalf("the members got %d and %d requests, want 1 in all", first, second)
	}
	for range 4 {
		if _, err := b.Invoke(ctx, "ep", txt2img(`{"width":16,"height":16}`)); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range []*member{m1, m2} {
		before := first
		if i == 1 {
			before = second
		}
		if _, n := m.stats(); n-before != 2 {
			t.Errorf("member %d served %d of 4 requests after the bad image, want 2: it was taken out of service", i+1, n-before)
		}
	}
}

// TestCancelInterrupts: when the job is cancelled while the member
// generates, the member is interrupted (dropping the connection would not
// stop it) and serves the next job.
func TestCancelInterrupts(t *testing.T) {
	m := newMember(t, sim.Options{Delay: 1000 * time.Second}, nil)
	b := backend(t, nil, m.URL)
	for i := 1; i <= 2; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, err := b.Invoke(ctx, "ep", txt2img(`{"width":16,"height":16}`))
			errc <- err
		}()
		waitFor(t, "the member to generate", func() bool { _, n := m.stats(); return n == i })
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) || gpu.IsTransient(err) {
			t.Fatalf("cancelled job %d: %v", i, err)
		}
		waitFor(t, "the interrupt", func() bool { return simStats(t, m.URL).Interrupts == i })
	}
	if st := simStats(t, m.URL); st.Generations != 2 {
		t.Errorf("member stats %+v, want 2 generations, both interrupted", st)
	}
}
