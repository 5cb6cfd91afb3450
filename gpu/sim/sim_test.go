package sim_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"easel/gpu/sim"
)

type genAnswer struct {
	Images     []string       `json:"images"`
	Parameters map[string]any `json:"parameters"`
	Info       string         `json:"info"`
}

type genInfo struct {
	Prompt     string   `json:"prompt"`
	AllPrompts []string `json:"all_prompts"`
	Seed       int64    `json:"seed"`
	AllSeeds   []int64  `json:"all_seeds"`
	Width      int      `json:"width"`
	Height     int      `json:"height"`
	Sampler    string   `json:"sampler_name"`
	Steps      int      `json:"steps"`
	CFGScale   float64  `json:"cfg_scale"`
	Infotexts  []string `json:"infotexts"`
}

// post sends body to path on h and returns the recorded answer.
func post(t *testing.T, h http.Handler, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
	if rec.Header().Get(sim.Header) != "1" {
		t.Errorf("%s: missing %s header", path, sim.Header)
	}
	return rec
}

func generate(t *testing.T, h http.Handler, path, body string) (genAnswer, genInfo) {
	t.Helper()
	rec := post(t, h, path, body)
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: status %d: %s", path, rec.Code, rec.Body)
	}
	var a genAnswer
	var in genInfo
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(a.Info), &in); err != nil {
		t.Fatalf("info is not a JSON string: %v", err)
	}
	return a, in
}

func decodePNG(t *testing.T, b64 string) image.Image {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestTxt2imgDeterministic(t *testing.T) {
	h := sim.Handler(sim.Options{})
	body := `{"prompt":"a red fox","seed":42,"width":320,"height":192}`
	a1, in := generate(t, h, "/sdapi/v1/txt2img", body)
	a2, _ := generate(t, h, "/sdapi/v1/txt2img", body)
	if len(a1.Images) != 1 || a1.Images[0] != a2.Images[0] {
		t.Fatal("same request gave different images")
	}
	a3, _ := generate(t, h, "/sdapi/v1/txt2img", `{"prompt":"a red fox","seed":43,"width":320,"height":192}`)
	if a3.Images[0] == a1.Images[0] {
		t.Fatal("different seeds gave the same image")
	}
	a4, _ := generate(t, h, "/sdapi/v1/txt2img", `{"prompt":"a blue fox","seed":42,"width":320,"height":192}`)
	if a4.Images[0] == a1.Images[0] {
		t.Fatal("different prompts gave the same image")
	}
	if b := decodePNG(t, a1.Images[0]).Bounds(); b.Dx() != 320 || b.Dy() != 192 {
		t.Fatalf("image is %v, want 320x192", b)
	}
	if in.Prompt != "a red fox" || in.Seed != 42 || in.Width != 320 || in.Height != 192 ||
		in.Steps != 20 || in.Sampler != "Euler a" || in.CFGScale != 7 {
		t.Fatalf("info = %+v", in)
	}
	want := "a red fox\nSteps: 20, Sampler: Euler a, CFG scale: 7.0, Seed: 42, Size: 320x192, Model hash: 479967b4bd, Model: easel-simulator"
	if len(in.Infotexts) != 1 || !strings.HasPrefix(in.Infotexts[0], want) {
		t.Fatalf("infotexts = %q", in.Infotexts)
	}
	if a1.Parameters["prompt"] != "a red fox" || a1.Parameters["seed"] != float64(42) {
		t.Fatalf("parameters = %v", a1.Parameters)
	}
}

func TestRandomSeedIsDeterministic(t *testing.T) {
	h := sim.Handler(sim.Options{})
	body := `{"prompt":"p","seed":-1,"width":64,"height":64}`
	a1, in1 := generate(t, h, "/sdapi/v1/txt2img", body)
	a2, in2 := generate(t, h, "/sdapi/v1/txt2img", body)
	if in1.Seed < 0 || in1.Seed != in2.Seed || a1.Images[0] != a2.Images[0] {
		t.Fatalf("seeds %d, %d", in1.Seed, in2.Seed)
	}
}

func TestBatch(t *testing.T) {
	h := sim.Handler(sim.Options{})
	a, in := generate(t, h, "/sdapi/v1/txt2img",
		`{"prompt":"cat","negative_prompt":"dog","seed":100,"width":64,"height":64,"batch_size":3}`)
	if len(a.Images) != 3 || len(in.Infotexts) != 3 || len(in.AllPrompts) != 3 {
		t.Fatalf("%d images, %d infotexts", len(a.Images), len(in.Infotexts))
	}
	for i, s := range in.AllSeeds {
		if s != int64(100+i) {
			t.Fatalf("all_seeds = %v", in.AllSeeds)
		}
		if !strings.Contains(in.Infotexts[i], "Negative prompt: dog\n") ||
			!strings.Contains(in.Infotexts[i], fmt.Sprintf("Seed: %d,", 100+i)) {
			t.Fatalf("infotext %d = %q", i, in.Infotexts[i])
		}
	}
	if a.Images[0] == a.Images[1] || a.Images[1] == a.Images[2] {
		t.Fatal("batch images are identical")
	}
	// Image i of a batch is the image of seed+i alone.
	single, _ := generate(t, h, "/sdapi/v1/txt2img",
		`{"prompt":"cat","negative_prompt":"dog","seed":102,"width":64,"height":64}`)
	if single.Images[0] != a.Images[2] {
		t.Fatal("image 2 of the batch differs from seed+2 alone")
	}
}

func pngBase64(t *testing.T, c color.Color, w, h int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func TestImg2img(t *testing.T) {
	h := sim.Handler(sim.Options{})
	red, blue := pngBase64(t, color.RGBA{255, 0, 0, 255}, 32, 32), pngBase64(t, color.RGBA{0, 0, 255, 255}, 32, 32)
	req := func(init string) string {
		return `{"prompt":"x","seed":1,"width":128,"height":96,"denoising_strength":0.5,"init_images":["` + init + `"]}`
	}
	a1, _ := generate(t, h, "/sdapi/v1/img2img", req(red))
	a2, _ := generate(t, h, "/sdapi/v1/img2img", req("data:image/png;base64,"+blue))
	if a1.Images[0] == a2.Images[0] {
		t.Fatal("output does not depend on the init image")
	}
	img := decodePNG(t, a1.Images[0])
	if b := img.Bounds(); b.Dx() != 128 || b.Dy() != 96 {
		t.Fatalf("image is %v", b)
	}
	if r, _, b, _ := img.At(64, 48).RGBA(); r>>8 < 127 || b>>8 > 128 {
		t.Fatalf("centre pixel not tinted red: r=%d b=%d", r>>8, b>>8)
	}
	if a1.Parameters["init_images"] != nil {
		t.Fatal("init_images echoed")
	}
	if rec := post(t, h, "/sdapi/v1/img2img", req("bm90IGFuIGltYWdl")); rec.Code != http.StatusInternalServerError {
		t.Fatalf("bad init image: status %d", rec.Code)
	}
}
