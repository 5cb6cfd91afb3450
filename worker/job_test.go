package worker_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"easel/gpu/sim"
	"easel/worker"
	"easel/workerproto"
)

// simWebUI is the A1111 simulator (gpu/sim) with what it lacks for now
// answered beside it: the refresh routes, memory, progress, interrupt.
// It records the generation requests.
type simWebUI struct {
	srv       *httptest.Server
	mu        sync.Mutex
	runs      []map[string]any
	refreshes []string
}

// newSimWebUI is the simulator over the models folder dir (the worker's),
// recording rescans and runs. With ignoreSelection it drops the chosen
// checkpoint, as real A1111 silently ignores a name it does not know, so
// whatever it has loaded runs.
func newSimWebUI(t *testing.T, dir string, ignoreSelection bool) *simWebUI {
	s := &simWebUI{}
	h := sim.Handler(sim.Options{Seed: 1, ModelsDir: dir})
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch route := strings.TrimPrefix(r.URL.Path, "/sdapi/v1/"); route {
		case "refresh-checkpoints", "refresh-vae", "refresh-loras":
			s.mu.Lock()
			s.refreshes = append(s.refreshes, route)
			s.mu.Unlock()
			h.ServeHTTP(w, r)
		case "memory":
			reply(w, 200, map[string]any{"cuda": map[string]any{"error": "unavailable"}})
		case "progress":
			reply(w, 200, map[string]any{"progress": 0, "state": map[string]any{}})
		case "interrupt":
			reply(w, 200, map[string]any{})
		case "txt2img":
			raw, _ := io.ReadAll(r.Body)
			var body map[string]any
			json.Unmarshal(raw, &body)
			s.mu.Lock()
			s.runs = append(s.runs, body)
			s.mu.Unlock()
			if o, ok := body["override_settings"].(map[string]any); ok && ignoreSelection {
				delete(o, "sd_model_checkpoint")
				raw, _ = json.Marshal(body)
			}
			r.Body = io.NopCloser(bytes.NewReader(raw))
			r.ContentLength = int64(len(raw))
			h.ServeHTTP(w, r)
		default:
			h.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// simCheckpoint is a "checkpoint" the simulator answers as its own: its
// content hashes to sim.ModelSHA256 and its name is sim.ModelName.
const simCheckpoint = "easel-simulator"

func TestJobEndToEnd(t *testing.T) {
	easel, store, dir := newFakeEasel(t), newFakeStore(t), modelsDir(t)
	webui := newSimWebUI(t, dir, false)
	ckpt := store.model("Stable-diffusion", sim.ModelName+".safetensors", simCheckpoint)
	if ckpt.SHA256 != sim.ModelSHA256 {
		t.Fatalf("the simulator's checkpoint hashes to %s, want %s", ckpt.SHA256, sim.ModelSHA256)
	}
	lora := store.model("Lora", "detail.safetensors", "lora weights")
	job := workerproto.Job{ID: "j1", Task: "txt2img",
		Params: map[string]any{"prompt": "a lighthouse", "width": 64, "height": 64, "steps": 2, "batch_size": 2,
			"override_settings": map[string]any{"CLIP_stop_at_last_layers": 2}},
		Models: []workerproto.Model{ckpt, lora}, Checkpoint: ckpt.Name, VAE: "automatic",
		Uploads: store.uploads("j1", 3)}
	easel.add(job)
	startWorker(t, webui.srv.URL, dir, easel, store, nil)

	done := mustComplete(t, easel, "j1")
	if diff := cmp.Diff(workerproto.Complete{JobID: "j1", Token: "token-j1", Images: 2, ModelHash: "479967b4bd",
		Downloaded: true, Switched: false}, *done, cmpIgnoreInfo); diff != "" {
		t.Errorf("Complete (-want +got):\n%s", diff)
	}
	if !strings.Contains(done.Info, `"sd_model_name":"easel-simulator"`) {
		t.Errorf("Complete.Info = %s, want the WebUI's info", done.Info)
	}
	for _, m := range []workerproto.Model{ckpt, lora} {
		raw, err := os.ReadFile(filepath.Join(dir, m.Type, m.Name))
		if err != nil || sha(string(raw)) != m.SHA256 {
			t.Errorf("%s/%s in place: %v, want the verified file", m.Type, m.Name, err)
		}
	}
	if p := partFiles(t, dir); len(p) > 0 {
		t.Errorf("leftover downloads %v", p)
	}
	webui.mu.Lock()
	if diff := cmp.Diff([]string{"refresh-checkpoints", "refresh-loras"}, webui.refreshes); diff != "" {
		t.Errorf("rescans (-want +got):\n%s", diff)
	}
	run := webui.runs[0]
	webui.mu.Unlock()
	wantOverrides := map[string]any{"sd_model_checkpoint": ckpt.Name, "sd_vae": "Automatic", "CLIP_stop_at_last_layers": 2.0}
	if diff := cmp.Diff(wantOverrides, run["override_settings"]); diff != "" {
		t.Errorf("override_settings (-want +got):\n%s", diff)
	}
	if run["override_settings_restore_afterwards"] != false || run["prompt"] != "a lighthouse" {
		t.Errorf("request %v, want the job's params and override_settings_restore_afterwards false", run)
	}

	store.mu.Lock()
	if len(store.putBody) != 2 {
		t.Errorf("%d images put, want 2", len(store.putBody))
	}
	for path, body := range store.putBody {
		if !bytes.HasPrefix(body, []byte("\x89PNG")) {
			t.Errorf("%s is not a PNG", path)
		}
		if ct := store.puts[path].Header.Get("Content-Type"); ct != "" {
			t.Errorf("PUT %s sent Content-Type %q, which a presigned URL may not allow", path, ct)
		}
	}
	if len(store.auth) > 0 {
		t.Errorf("the object store saw Authorization %q; the worker key must stay with Easel", store.auth)
	}
	store.mu.Unlock()

	easel.mu.Lock()
	hello := easel.hellos[0]
	easel.mu.Unlock()
	if hello.Name != "test-worker" || hello.GPU != "Test GPU" || !strings.Contains(hello.WebUI, "simulator") {
		t.Errorf("Hello = %+v, want the name, the GPU and the simulator named", hello)
	}

	// The same models again: nothing to download, nothing to rescan.
	job.ID, job.Token, job.Uploads = "j2", "", store.uploads("j2", 1)
	easel.add(job)
	done = mustComplete(t, easel, "j2")
	if done.Downloaded || done.Images != 1 {
		t.Errorf("second job: Downloaded %v, Images %d; want false, 1", done.Downloaded, done.Images)
	}
	if n := store.getCount(ckpt.Name); n != 1 {
		t.Errorf("the checkpoint was fetched %d times, want once", n)
	}
	easel.mu.Lock()
	last := easel.leases[len(easel.leases)-1]
	easel.mu.Unlock()
	if !hasModel(last.Cached, ckpt) || !hasModel(last.Cached, lora) {
		t.Errorf("Lease.Cached = %v, want the downloaded models", last.Cached)
	}
}

var cmpIgnoreInfo = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Info" }, cmp.Ignore())

func hasModel(list []workerproto.Model, m workerproto.Model) bool {
	for _, c := range list {
		if c.Type == m.Type && c.Name == m.Name && c.SHA256 == m.SHA256 {
			return true
		}
	}
	return false
}

func TestWrongModelFailsTheJob(t *testing.T) {
	easel, store, dir := newFakeEasel(t), newFakeStore(t), modelsDir(t)
	// The WebUI has its own model loaded, placed there by a person.
	if err := os.WriteFile(filepath.Join(dir, "Stable-diffusion", simCheckpoint+".safetensors"), []byte(simCheckpoint), 0o644); err != nil {
		t.Fatal(err)
	}
	webui := newSimWebUI(t, dir, true)
	other := store.model("Stable-diffusion", "other.safetensors", "other weights")
	easel.add(workerproto.Job{ID: "j1", Task: "txt2img", Params: map[string]any{"prompt": "x", "width": 64, "height": 64},
		Models: []workerproto.Model{other}, Checkpoint: other.Name, Uploads: store.uploads("j1", 1)})
	startWorker(t, webui.srv.URL, dir, easel, store, nil)

	f := mustFail(t, easel, "j1")
	if f.Transient || !strings.Contains(f.Error, "easel-simulator") || !strings.Contains(f.Error, "other") {
		t.Errorf("Fail = %+v, want a final failure naming both checkpoints", f)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if len(store.putBody) > 0 {
		t.Errorf("%d images of the wrong model were uploaded", len(store.putBody))
	}
}

func TestSwitchProgressAndJPEG(t *testing.T) {
	easel, store, dir := newFakeEasel(t), newFakeStore(t), modelsDir(t)
	os.WriteFile(filepath.Join(dir, "Stable-diffusion", "old.safetensors"), []byte("old weights"), 0o644)
	webui := newFakeWebUI(t, dir)
	webui.loaded, webui.block = "old.safetensors", true
	ckpt := store.model("Stable-diffusion", "new.safetensors", "new weights")
	easel.add(workerproto.Job{ID: "j1", Task: "txt2img", Params: map[string]any{"prompt": "x"},
		Models: []workerproto.Model{ckpt}, Checkpoint: ckpt.Name, Uploads: store.uploads("j1", 4)})
	r := startWorker(t, webui.srv.URL, dir, easel, store, nil)

	waitFor(t, "a heartbeat with the WebUI's progress", func() bool {
		easel.mu.Lock()
		defer easel.mu.Unlock()
		for _, hb := range easel.beats {
			if hb.Stage == "generating" && hb.Step == 5 && hb.Steps == 10 && hb.Progress == 0.5 {
				return true
			}
		}
		return false
	})
	close(webui.release)
	done := mustComplete(t, easel, "j1")
	if !done.Switched || !done.Downloaded || done.Images != 2 || done.ModelHash != ckpt.SHA256[:10] {
		t.Errorf("Complete = %+v, want switched, downloaded, 2 images, hash %s", done, ckpt.SHA256[:10])
	}
	store.mu.Lock()
	for path, body := range store.putBody {
		if !bytes.HasPrefix(body, []byte("\x89PNG")) {
			t.Errorf("%s: the WebUI's JPEG was not re-encoded as PNG", path)
		}
	}
	store.mu.Unlock()
	if err := r.stop(); err != nil {
		t.Errorf("Run after shutdown = %v, want nil", err)
	}
}

func TestBadKeyStopsTheWorker(t *testing.T) {
	easel, store, dir := newFakeEasel(t), newFakeStore(t), modelsDir(t)
	webui := newSimWebUI(t, dir, false)
	r := startWorker(t, webui.srv.URL, dir, easel, store, func(c *worker.Config) { c.Key = "ewk_wrong" })
	if err := r.wait(); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("Run with a wrong key = %v, want the key refused", err)
	}
}

func TestHelloAgainWhenForgotten(t *testing.T) {
	easel, store, dir := newFakeEasel(t), newFakeStore(t), modelsDir(t)
	webui := newSimWebUI(t, dir, false)
	easel.forget = true
	startWorker(t, webui.srv.URL, dir, easel, store, nil)
	waitFor(t, "a second hello after a 404 on Lease", func() bool {
		hellos, _, _ := easel.counts()
		return hellos >= 2
	})
}

func TestWaitsForTheWebUIBeforeHello(t *testing.T) {
	webui := newSimWebUI(t, "", false)
	var down atomic.Bool
	var asked atomic.Int32
	down.Store(true)
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			asked.Add(1)
			http.Error(w, "starting", http.StatusBadGateway)
			return
		}
		webui.srv.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(flaky.Close)
	easel, store, dir := newFakeEasel(t), newFakeStore(t), modelsDir(t)
	startWorker(t, flaky.URL, dir, easel, store, nil)
	waitFor(t, "the worker to ask the WebUI a few times", func() bool { return asked.Load() >= 3 })
	if hellos, leases, _ := easel.counts(); hellos+leases > 0 {
		t.Errorf("%d hellos and %d leases while the WebUI was down, want none", hellos, leases)
	}
	down.Store(false)
	waitFor(t, "a lease once the WebUI is up", func() bool {
		_, leases, _ := easel.counts()
		return leases > 0
	})
}
