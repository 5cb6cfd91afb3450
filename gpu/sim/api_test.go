package sim_test

import (
	"context"
	"encoding/json"
	"image/color"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"easel/gpu/sim"
)

func TestExtraSingleImage(t *testing.T) {
	h := sim.Handler(sim.Options{})
	rec := post(t, h, "/sdapi/v1/extra-single-image",
		`{"image":"`+pngBase64(t, color.White, 40, 30)+`","upscaling_resize":2}`)
	var a struct {
		HTMLInfo string `json:"html_info"`
		Image    string `json:"image"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &a); rec.Code != 200 || err != nil {
		t.Fatalf("status %d, %v: %s", rec.Code, err, rec.Body)
	}
	if b := decodePNG(t, a.Image).Bounds(); b.Dx() != 80 || b.Dy() != 60 {
		t.Fatalf("upscaled to %v", b)
	}
	if !strings.Contains(a.HTMLInfo, "not Stable Diffusion") {
		t.Fatalf("html_info = %q", a.HTMLInfo)
	}
}

func TestErrors(t *testing.T) {
	h := sim.Handler(sim.Options{})
	for _, tc := range []struct {
		path, body, want string
		code             int
	}{
		{"/sdapi/v1/txt2img", `{"width":4096}`, "2048", 400},
		{"/sdapi/v1/txt2img", `{"height":2056}`, "2048", 400},
		{"/sdapi/v1/txt2img", `{"batch_size":4,"n_iter":5}`, "16", 400},
		{"/sdapi/v1/img2img", `{"batch_size":17}`, "16", 400},
		{"/sdapi/v1/txt2img", `{"prompt":`, "JSON", 422},
		{"/sdapi/v1/txt2img", `[1]`, "JSON", 422},
		{"/sdapi/v1/txt2img", `{"width":"wide"}`, "JSON", 422},
		{"/sdapi/v1/txt2img", `null`, "object", 422},
		{"/sdapi/v1/extra-single-image", `{}`, "Invalid encoded image", 500},
		{"/sdapi/v1/img2img", `{"prompt":"x"}`, "Init image not found", 404},
		{"/sdapi/v1/img2img", `{"init_images":["bm90IGFuIGltYWdl"]}`, "Invalid encoded image", 500},
		{"/sdapi/v1/img2img", `{"init_images":["http://169.254.169.254/x.png"]}`, "Invalid encoded image", 500},
		{"/sdapi/v1/txt2img", `{"override_settings":{"outdir_samplez":"/tmp"}}`, "'outdir_samplez'", 500},
		{"/sdapi/v1/txt2img", `{"override_settings":{"sd_model_checkpoint":"ghost.safetensors"}}`, "checkpoint not found: ghost.safetensors", 500},
		{"/sdapi/v1/txt2img", `{"override_settings":{"sd_vae":"ghost.vae.pt"}}`, "VAE not found: ghost.vae.pt", 500},
	} {
		rec := post(t, h, tc.path, tc.body)
		if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("%s %s: %d %s, want %d with %q", tc.path, tc.body, rec.Code, rec.Body, tc.code, tc.want)
		}
		var e map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e["detail"] == nil {
			t.Errorf("%s %s: error body %s has no detail", tc.path, tc.body, rec.Body)
		}
		if tc.code != 422 && (e["error"] == nil || e["body"] == nil || e["errors"] == nil) {
			t.Errorf("%s %s: %d not in A1111's {error, detail, body, errors} shape", tc.path, tc.body, tc.code)
		}
	}
}

func TestFailRate(t *testing.T) {
	h := sim.Handler(sim.Options{FailRate: 1})
	rec := post(t, h, "/sdapi/v1/txt2img", `{}`)
	var e struct{ Error, Errors string }
	_ = json.Unmarshal(rec.Body.Bytes(), &e)
	if rec.Code != 500 || e.Error != "RuntimeError" || !strings.Contains(e.Errors, "simulated") {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	// Health endpoints never fail.
	get := httptest.NewRecorder()
	h.ServeHTTP(get, httptest.NewRequest(http.MethodGet, "/sdapi/v1/sd-models", nil))
	if get.Code != 200 {
		t.Fatalf("sd-models: %d", get.Code)
	}
}

func TestDelay(t *testing.T) {
	h := sim.Handler(sim.Options{Delay: 150 * time.Millisecond})
	start := time.Now()
	generate(t, h, "/sdapi/v1/txt2img", `{"width":64,"height":64}`)
	if d := time.Since(start); d < 150*time.Millisecond { // a floor the sleep guarantees, never flaky
		t.Fatalf("answered after %v", d)
	}

	// A client that is gone before its turn is not served.
	slow := sim.Handler(sim.Options{Delay: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/sdapi/v1/txt2img", strings.NewReader(`{}`))
	slow.ServeHTTP(rec, req)
	if rec.Body.Len() != 0 {
		t.Fatalf("a cancelled request got an answer: %d %.100s", rec.Code, rec.Body)
	}
}

func TestModelsAndOptions(t *testing.T) {
	srv := httptest.NewServer(sim.Handler(sim.Options{}))
	defer srv.Close()
	for _, path := range []string{"/sdapi/v1/sd-models", "/sdapi/v1/options", "/nope"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get(sim.Header) != "1" {
			t.Errorf("%s: no simulator header", path)
		}
		if path == "/nope" {
			if resp.StatusCode != 404 {
				t.Errorf("/nope: %d", resp.StatusCode)
			}
			continue
		}
		if resp.StatusCode != 200 || !strings.Contains(string(body), sim.ModelTitle) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	var models []map[string]any
	resp, err := http.Get(srv.URL + "/sdapi/v1/sd-models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&models); err != nil || len(models) != 1 {
		t.Fatal(err, models)
	}
	for _, k := range []string{"title", "model_name", "hash", "sha256", "filename", "config"} {
		if _, ok := models[0][k]; !ok {
			t.Errorf("sd-models entry lacks %q", k)
		}
	}
}

// addrLog hands the "addr" of the first record that has one to a channel.
type addrLog struct{ addr chan string }

func (h addrLog) Enabled(context.Context, slog.Level) bool { return true }
func (h addrLog) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h addrLog) WithGroup(string) slog.Handler            { return h }
func (h addrLog) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "addr" {
			select {
			case h.addr <- a.Value.String():
			default:
			}
		}
		return true
	})
	return nil
}

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	log := addrLog{addr: make(chan string, 1)}
	go func() { done <- sim.Serve(ctx, "127.0.0.1:0", sim.Options{}, slog.New(log)) }()
	var addr string
	select {
	case addr = <-log.addr:
	case err := <-done:
		t.Fatalf("Serve ended before it listened: %v", err)
	}
	res, err := http.Get("http://" + addr + "/sdapi/v1/sd-models")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET sd-models from the served simulator: %d", res.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not stop")
	}
	if err := sim.Serve(context.Background(), "127.0.0.1:-1", sim.Options{}, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("bad address accepted")
	}
}

func BenchmarkTxt2img512(b *testing.B) {
	h := sim.Handler(sim.Options{})
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/sdapi/v1/txt2img", strings.NewReader(`{"prompt":"x","seed":1}`)))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}
