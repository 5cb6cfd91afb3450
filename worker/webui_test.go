package worker_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeWebUI is a small A1111 for what the simulator (gpu/sim) does not do
// yet: it knows the checkpoints in its folder after a refresh (by file
// hash, like A1111), selects one by override_settings.sd_model_checkpoint
// (silently keeping the loaded one for an unknown name), reports
// progress, can block a generation until interrupted, and answers JPEG.
type fakeWebUI struct {
	srv *httptest.Server
	dir string // the models folder

	mu          sync.Mutex
	known       map[string]string // checkpoint name → sha256
	loaded      string
	block       bool          // generations wait for release or an interrupt
	release     chan struct{} // closed to let a blocked generation finish
	interrupted chan struct{} // closed by the first interrupt
	interrupts  int
	running     bool
	runs        []map[string]any
	refreshes   []string
}

func newFakeWebUI(t *testing.T, dir string) *fakeWebUI {
	f := &fakeWebUI{dir: dir, known: map[string]string{}, release: make(chan struct{}), interrupted: make(chan struct{})}
	f.scan()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sdapi/v1/sd-models", f.models)
	mux.HandleFunc("GET /sdapi/v1/options", f.options)
	mux.HandleFunc("GET /sdapi/v1/memory", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, map[string]any{"cuda": map[string]any{"system": map[string]any{"total": 24 << 30}}})
	})
	mux.HandleFunc("GET /sdapi/v1/progress", f.progress)
	mux.HandleFunc("POST /sdapi/v1/interrupt", f.interrupt)
	mux.HandleFunc("POST /sdapi/v1/txt2img", f.txt2img)
	for _, route := range []string{"refresh-checkpoints", "refresh-vae", "refresh-loras"} {
		mux.HandleFunc("POST /sdapi/v1/"+route, func(w http.ResponseWriter, r *http.Request) {
			f.mu.Lock()
			f.refreshes = append(f.refreshes, route)
			f.mu.Unlock()
			if route == "refresh-checkpoints" {
				f.scan()
			}
			reply(w, 200, nil)
		})
	}
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// scan hashes the checkpoints in the folder, as A1111's refresh does.
func (f *fakeWebUI) scan() {
	files, _ := filepath.Glob(filepath.Join(f.dir, "Stable-diffusion", "*.safetensors"))
	known := map[string]string{}
	for _, p := range files {
		raw, err := os.ReadFile(p)
		if err == nil {
			h := sha256.Sum256(raw)
			known[filepath.Base(p)] = hex.EncodeToString(h[:])
		}
	}
	f.mu.Lock()
	f.known = known
	f.mu.Unlock()
}

func (f *fakeWebUI) models(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var list []map[string]any
	for name, sum := range f.known {
		list = append(list, map[string]any{"title": name + " [" + sum[:10] + "]", "model_name": strings.TrimSuffix(name, ".safetensors"),
			"hash": sum[:10], "sha256": sum, "filename": filepath.Join(f.dir, "Stable-diffusion", name)})
	}
	reply(w, 200, list)
}

func (f *fakeWebUI) options(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sum := f.known[f.loaded]
	title := f.loaded
	if sum != "" {
		title += " [" + sum[:10] + "]"
	}
	reply(w, 200, map[string]any{"sd_model_checkpoint": title, "sd_checkpoint_hash": sum, "samples_format": "jpg"})
}

func (f *fakeWebUI) progress(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	state := map[string]any{"sampling_step": 0, "sampling_steps": 0}
	p := 0.0
	if f.running {
		state, p = map[string]any{"sampling_step": 5, "sampling_steps": 10}, 0.5
	}
	reply(w, 200, map[string]any{"progress": p, "state": state})
}

func (f *fakeWebUI) interrupt(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	if f.interrupts == 0 {
		close(f.interrupted)
	}
	f.interrupts++
	f.mu.Unlock()
	reply(w, 200, map[string]any{})
}

func (f *fakeWebUI) txt2img(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	json.NewDecoder(r.Body).Decode(&body)
	f.mu.Lock()
	f.runs = append(f.runs, body)
	if o, ok := body["override_settings"].(map[string]any); ok {
		if name, _ := o["sd_model_checkpoint"].(string); f.known[name] != "" {
			f.loaded = name
		}
	}
	f.running = true
	block := f.block
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.running = false
		f.mu.Unlock()
	}()
	n := 2
	if block {
		select {
		case <-f.release:
		case <-f.interrupted:
			n = 0 // A1111 answers an interrupted run with what it has
		case <-r.Context().Done():
			return
		}
	}
	f.mu.Lock()
	name, sum := strings.TrimSuffix(f.loaded, ".safetensors"), f.known[f.loaded]
	f.mu.Unlock()
	info, _ := json.Marshal(map[string]any{"sd_model_name": name, "sd_model_hash": sum[:min(10, len(sum))],
		"index_of_first_image": 0, "infotexts": []string{"a fake"}})
	images := []string{}
	for range n {
		images = append(images, jpegBase64())
	}
	reply(w, 200, map[string]any{"images": images, "parameters": body, "info": string(info)})
}

func jpegBase64() string {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	img.Set(1, 1, color.RGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, nil)
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func (f *fakeWebUI) count() (runs, interrupts int, refreshes []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.runs), f.interrupts, append([]string(nil), f.refreshes...)
}

func (f *fakeWebUI) isRunning() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.running
}
