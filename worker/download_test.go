package worker_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"easel/worker"
	"easel/workerproto"
)

func TestCorruptDownloadIsRetried(t *testing.T) {
	easel, store, dir := newFakeEasel(t), newFakeStore(t), modelsDir(t)
	webui := newFakeWebUI(t, dir)
	ckpt := store.model("Stable-diffusion", "m.safetensors", "the real weights")
	dst := filepath.Join(dir, "Stable-diffusion", "m.safetensors")
	store.corrupt["m.safetensors"] = 2 // wrong bytes, then cut short
	var early atomic.Bool
	store.beforeGet = func(string) {
		if exists(dst) {
			early.Store(true)
		}
	}
	easel.add(workerproto.Job{ID: "j1", Task: "txt2img", Models: []workerproto.Model{ckpt},
		Checkpoint: ckpt.Name, Uploads: store.uploads("j1", 2)})
	startWorker(t, webui.srv.URL, dir, easel, store, nil)

	mustComplete(t, easel, "j1")
	if n := store.getCount("m.safetensors"); n != 3 {
		t.Errorf("%d downloads, want 3 (two corrupt, one good)", n)
	}
	if raw, _ := os.ReadFile(dst); string(raw) != "the real weights" {
		t.Errorf("%s holds %q, want the real weights", dst, raw)
	}
	if early.Load() {
		t.Error("a file was in place before a verified download")
	}
	if p := partFiles(t, dir); len(p) > 0 {
		t.Errorf("leftover downloads %v", p)
	}
}

func TestCorruptDownloadIsNeverPutInPlace(t *testing.T) {
	easel, store, dir := newFakeEasel(t), newFakeStore(t), modelsDir(t)
	webui := newFakeWebUI(t, dir)
	ckpt := store.model("Stable-diffusion", "m.safetensors", "the real weights")
	store.corrupt["m.safetensors"] = 100
	easel.add(workerproto.Job{ID: "j1", Task: "txt2img", Models: []workerproto.Model{ckpt},
		Checkpoint: ckpt.Name, Uploads: store.uploads("j1", 1)})
	startWorker(t, webui.srv.URL, dir, easel, store, func(c *worker.Config) { c.DownloadAttempts = 3 })

	f := mustFail(t, easel, "j1")
	if !f.Transient || !strings.Contains(f.Error, "does not match") {
		t.Errorf("Fail = %+v, want a transient failure saying the download did not match", f)
	}
	if n := store.getCount("m.safetensors"); n != 3 {
		t.Errorf("%d downloads, want 3 attempts", n)
	}
	if exists(filepath.Join(dir, "Stable-diffusion", "m.safetensors")) {
		t.Error("a corrupt download was renamed into place")
	}
	if p := partFiles(t, dir); len(p) > 0 {
		t.Errorf("leftover downloads %v", p)
	}
	if runs, _, _ := webui.count(); runs != 0 {
		t.Errorf("the WebUI ran %d generations without the model", runs)
	}
}

// cacheIndex reads the worker's index: type/name → downloaded.
func cacheIndex(t *testing.T, dir string) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, worker.IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	var list []struct {
		Type, Name string
		Downloaded bool
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, e := range list {
		out[e.Type+"/"+e.Name] = e.Downloaded
	}
	return out
}

func filesIn(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, sub := range []string{"Stable-diffusion", "Lora"} {
		names, _ := filepath.Glob(filepath.Join(dir, sub, "*.safetensors"))
		for _, n := range names {
			out = append(out, sub+"/"+filepath.Base(n))
		}
	}
	sort.Strings(out)
	return out
}

func TestEvictionKeepsModelsInUseAndTheLimit(t *testing.T) {
	easel, store, dir := newFakeEasel(t), newFakeStore(t), modelsDir(t)
	// A file the worker did not download: used, never evicted or counted.
	os.WriteFile(filepath.Join(dir, "Stable-diffusion", "mine.safetensors"), []byte(strings.Repeat("u", 100)), 0o644)
	webui := newFakeWebUI(t, dir)
	mine := workerproto.Model{Type: "Stable-diffusion", Name: "mine.safetensors", SHA256: sha(strings.Repeat("u", 100)), Size: 100}
	a := store.model("Stable-diffusion", "a.safetensors", strings.Repeat("a", 100))
	b := store.model("Stable-diffusion", "b.safetensors", strings.Repeat("b", 100))
	c := store.model("Stable-diffusion", "c.safetensors", strings.Repeat("c", 100))
	l := store.model("Lora", "l.safetensors", strings.Repeat("l", 100))
	startWorker(t, webui.srv.URL, dir, easel, store, func(c *worker.Config) { c.CacheSize = 250 })
	runJob := func(id string, models ...workerproto.Model) (*workerproto.Complete, *workerproto.Fail) {
		easel.add(workerproto.Job{ID: id, Task: "txt2img", Models: models, Checkpoint: models[0].Name, Uploads: store.uploads(id, 1)})
		return waitEnd(t, easel, id)
	}
	steps := []struct {
		id     string
		models []workerproto.Model
		want   []string // model files afterwards
	}{
		{"j1", []workerproto.Model{mine}, []string{"Stable-diffusion/mine.safetensors"}},
		{"j2", []workerproto.Model{a}, []string{"Stable-diffusion/a.safetensors", "Stable-diffusion/mine.safetensors"}},
		{"j3", []workerproto.Model{b}, []string{"Stable-diffusion/a.safetensors", "Stable-diffusion/b.safetensors", "Stable-diffusion/mine.safetensors"}},
		// a is used again, so b is now the least recent.
		{"j4", []workerproto.Model{a}, []string{"Stable-diffusion/a.safetensors", "Stable-diffusion/b.safetensors", "Stable-diffusion/mine.safetensors"}},
		// c needs room: b goes, not a.
		{"j5", []workerproto.Model{c}, []string{"Stable-diffusion/a.safetensors", "Stable-diffusion/c.safetensors", "Stable-diffusion/mine.safetensors"}},
		// c and l in use: a goes although c is older than... nothing else to evict.
		{"j6", []workerproto.Model{c, l}, []string{"Lora/l.safetensors", "Stable-diffusion/c.safetensors", "Stable-diffusion/mine.safetensors"}},
	}
	for _, s := range steps {
		if done, f := runJob(s.id, s.models...); done == nil {
			t.Fatalf("%s failed: %+v", s.id, f)
		}
		if diff := cmp.Diff(s.want, filesIn(t, dir)); diff != "" {
			t.Errorf("after %s, files (-want +got):\n%s", s.id, diff)
		}
	}
	// Three downloaded models in use cannot fit 250 bytes: the job fails
	// for this worker and nothing in use is evicted.
	_, f := runJob("j7", a, l, c)
	if f == nil || !f.Transient || !strings.Contains(f.Error, "cache-size") {
		t.Errorf("j7 = %+v, want a transient failure naming --cache-size", f)
	}
	if diff := cmp.Diff(steps[len(steps)-1].want, filesIn(t, dir)); diff != "" {
		t.Errorf("after j7, files (-want +got):\n%s", diff)
	}
	want := map[string]bool{"Stable-diffusion/mine.safetensors": false, "Stable-diffusion/c.safetensors": true, "Lora/l.safetensors": true}
	if diff := cmp.Diff(want, cacheIndex(t, dir)); diff != "" {
		t.Errorf("index (-want +got):\n%s", diff)
	}
}

func TestUnsafeModelNameIsRefused(t *testing.T) {
	easel, store, dir := newFakeEasel(t), newFakeStore(t), modelsDir(t)
	webui := newFakeWebUI(t, dir)
	bad := store.model("Stable-diffusion", "x.safetensors", "weights")
	bad.Name = "../../evil.safetensors"
	easel.add(workerproto.Job{ID: "j1", Task: "txt2img", Models: []workerproto.Model{bad},
		Checkpoint: bad.Name, Uploads: store.uploads("j1", 1)})
	startWorker(t, webui.srv.URL, dir, easel, store, nil)
	f := mustFail(t, easel, "j1")
	if f.Transient || !strings.Contains(f.Error, "not a plain file name") {
		t.Errorf("Fail = %+v, want a final failure about the name", f)
	}
	if store.getCount("x.safetensors") != 0 {
		t.Error("the model was downloaded")
	}
}
