package web_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"easel/gpu/sim"
	"easel/internal/testenv"
	"easel/store"
)

// inferenceServer runs Easel with simulator pools: "studio" (fast),
// "slow" (3 s per image) and an Async endpoint on studio for role byoc
// and a Real-time one for IT Operator, plus an Active checkpoint.
func inferenceServer(t *testing.T, env ...testenv.Option) *testenv.Server {
	t.Helper()
	s, _ := inferenceServerCounting(t, env...)
	return s
}

// inferenceServerCounting is inferenceServer that also counts the answers
// the slow pool has finished sending.
func inferenceServerCounting(t *testing.T, env ...testenv.Option) (*testenv.Server, *atomic.Int64) {
	t.Helper()
	models := simModels(t)
	studio := httptest.NewServer(sim.Handler(sim.Options{ModelsDir: models}))
	slowAnswers := &atomic.Int64{}
	slowSim := sim.Handler(sim.Options{Delay: 3 * time.Second, ModelsDir: models})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slowSim.ServeHTTP(w, r)
		if r.Method == http.MethodPost {
			slowAnswers.Add(1)
		}
	}))
	t.Cleanup(studio.Close)
	t.Cleanup(slow.Close)
	opts := append([]testenv.Option{
		testenv.WithEnv("EASEL_WEBUI_POOLS", "studio="+studio.URL+";slow="+slow.URL),
		testenv.WithEnv("EASEL_RECONCILE_INTERVAL", "200ms")}, env...)
	s := testenv.NewServer(t, opts...)
	admin := testenv.As("admin")
	for _, ep := range []map[string]any{
		{"endpoint_name": "queue", "endpoint_type": "Async", "instance_type": "studio", "initial_instance_count": 1, "assign_to_roles": []string{"byoc"}},
		{"endpoint_name": "live", "endpoint_type": "Real-time", "instance_type": "studio", "initial_instance_count": 1, "assign_to_roles": []string{"IT Operator"}},
	} {
		s.MustCall(t, 202, "POST", "/endpoints", admin, ep)
	}
	waitEndpoint(t, s, "esd-async-queue", "InService")
	waitEndpoint(t, s, "esd-real-time-live", "InService")
	mustActiveModel(t, s, "Stable-diffusion", "base.safetensors")
	return s, slowAnswers
}

func mustActiveModel(t *testing.T, s *testenv.Server, typ, name string) {
	t.Helper()
	uploadModelBytes(t, s, typ, name, modelBytes(name))
}

// modelBytes is the content mustActiveModel uploads for a model file.
func modelBytes(name string) []byte { return []byte("weights of " + name) }

// simModels returns a simulator models folder holding base.safetensors
// with the bytes mustActiveModel uploads: a WebUI pool runs only the
// checkpoints its members have.
func simModels(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, sim.CheckpointDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, sim.CheckpointDir, "base.safetensors"), modelBytes("base.safetensors"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// waitRunning waits until a worker has started the job (sent it to a GPU).
func waitRunning(t *testing.T, s *testenv.Server, id string) {
	t.Helper()
	waitFor(t, "job "+id+" to run", func() bool {
		job, err := store.FindInference(t.Context(), s.App.Store.DB(), uuid.MustParse(id))
		return err == nil && job.RunTime != nil
	})
}

// createJob POSTs an inference and uploads its parameters.
func createJob(t *testing.T, s *testenv.Server, h testenv.Headers, typ, task string, params any) string {
	t.Helper()
	r := s.MustCall(t, 201, "POST", "/inferences", h, map[string]any{
		"task_type": task, "inference_type": typ, "filters": map[string]any{"creator": "sd-webui"},
		"models": map[string]any{"Stable-diffusion": []string{"base.safetensors"}, "VAE": []string{"Automatic"}},
	})
	createParams(t, r, params)
	return r.JSON(t)["data"].(map[string]any)["inference"].(map[string]any)["id"].(string)
}

// createParams uploads params (JSON, or a raw string) to the job's URL.
func createParams(t *testing.T, created testenv.Response, params any) {
	t.Helper()
	if params == nil {
		return
	}
	inf := created.JSON(t)["data"].(map[string]any)["inference"].(map[string]any)
	body, _ := json.Marshal(params)
	if s, ok := params.(string); ok {
		body = []byte(s)
	}
	req, _ := http.NewRequest(http.MethodPut, inf["api_params_s3_upload_url"].(string), bytes.NewReader(body))
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("upload params: %v %v", err, res)
	}
	res.Body.Close()
}

func getJob(t *testing.T, s *testenv.Server, h testenv.Headers, id string) map[string]any {
	t.Helper()
	return s.MustCall(t, 200, "GET", "/inferences/"+id, h, nil).JSON(t)["data"].(map[string]any)
}

func waitJob(t *testing.T, s *testenv.Server, id string) map[string]any {
	t.Helper()
	var job map[string]any
	waitFor(t, "job "+id+" to finish", func() bool {
		job = getJob(t, s, testenv.As("admin"), id)
		return job["status"] == "succeed" || job["status"] == "failed"
	})
	return job
}

// checkImages downloads a job's images and parameter file.
func checkImages(t *testing.T, job map[string]any, n, w, h int) {
	t.Helper()
	urls := job["img_presigned_urls"].([]any)
	if len(urls) != n {
		t.Fatalf("got %d images, want %d: %v", len(urls), n, job)
	}
	for _, u := range urls {
		res, err := http.Get(u.(string))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatalf("image is not a PNG: %v", err)
		}
		if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
			t.Errorf("image is %dx%d, want %dx%d", b.Dx(), b.Dy(), w, h)
		}
	}
	res, err := http.Get(job["output_presigned_urls"].([]any)[0].(string))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Info string `json:"info"`
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if err := json.Unmarshal(body, &file); err != nil {
		t.Fatalf("param file %s: %v", body, err)
	}
	var info struct {
		Infotexts []string `json:"infotexts"`
	}
	if err := json.Unmarshal([]byte(file.Info), &info); err != nil || len(info.Infotexts) != n {
		t.Errorf("info %q: infotexts %v (%v), want %d", file.Info, info.Infotexts, err, n)
	}
	// The checkpoint the job chose ran: its file's hash is in every infotext.
	sum := sha256.Sum256(modelBytes("base.safetensors"))
	for _, it := range info.Infotexts {
		if want := "Model hash: " + hex.EncodeToString(sum[:])[:10] + ", Model: base"; !strings.Contains(it, want) {
			t.Errorf("infotext %q does not say %q", it, want)
		}
	}
}

func TestInferenceAsyncAndRealTime(t *testing.T) {
	t.Parallel()
	s := inferenceServer(t)
	admin := testenv.As("admin")

	// Async txt2img through the ESD three-call flow.
	id := createJob(t, s, testenv.Headers{"x-api-key": testenv.ServiceKey}, "Async", "txt2img",
		map[string]any{"prompt": "a lighthouse", "width": 64, "height": 48, "batch_size": 2, "seed": 7})
	r := s.MustCall(t, 202, "PUT", "/inferences/"+id+"/start", testenv.Key(testenv.ServiceKey), map[string]any{"ignored": true})
	started := r.JSON(t)["data"].(map[string]any)["inference"].(map[string]any)
	if started["inference_id"] != id || started["status"] != "inprogress" || started["endpoint_name"] != "esd-async-queue" {
		t.Errorf("start answer %v", started)
	}
	job := waitJob(t, s, id)
	if job["status"] != "succeed" || job["completeTime"] == nil {
		t.Fatalf("async job = %v", job)
	}
	checkImages(t, job, 2, 64, 48)
	s.MustCall(t, 400, "PUT", "/inferences/"+id+"/start", admin, nil)

	// Real-time img2img answers 200 with the finished job.
	init := base64.StdEncoding.EncodeToString(tinyPNG(t))
	id2 := createJob(t, s, admin, "Real-time", "img2img",
		map[string]any{"prompt": "same, at night", "width": 32, "height": 32, "init_images": []string{"data:image/png;base64," + init}})
	r = s.MustCall(t, 200, "PUT", "/inferences/"+id2+"/start", admin, nil)
	job = r.JSON(t)["data"].(map[string]any)
	if job["status"] != "succeed" || job["inference_type"] != "Real-time" {
		t.Fatalf("real-time start = %v", job)
	}
	checkImages(t, job, 1, 32, 32)

	// The list is newest first; with a limit it pages.
	list := s.MustCall(t, 200, "GET", "/inferences?limit=1", admin, nil).JSON(t)["data"].(map[string]any)
	rows := list["inferences"].([]any)
	if len(rows) != 1 || rows[0].(map[string]any)["InferenceJobId"] != id2 {
		t.Fatalf("first page = %v", list)
	}
	next := s.MustCall(t, 200, "GET", "/inferences?limit=1&exclusive_start_key="+list["last_evaluated_key"].(string), admin, nil).JSON(t)["data"].(map[string]any)
	if rows := next["inferences"].([]any); len(rows) != 1 || rows[0].(map[string]any)["InferenceJobId"] != id {
		t.Errorf("second page = %v", next)
	}

	// Delete removes the rows and every object.
	s.MustCall(t, 204, "DELETE", "/inferences", admin, map[string]any{"inference_id_list": []string{id, id2, "nope"}})
	s.MustCall(t, 404, "GET", "/inferences/"+id, admin, nil)
	waitFor(t, "results deleted", func() bool {
		left, err := s.App.Blob.DeletePrefix(t.Context(), "out/"+id+"/")
		return err == nil && left == 0
	})
}

func tinyPNG(t *testing.T) []byte {
	t.Helper()
	res := httptest.NewRecorder()
	sim.Handler(sim.Options{}).ServeHTTP(res, httptest.NewRequest("POST", "/sdapi/v1/txt2img", strings.NewReader(`{"prompt":"x","width":16,"height":16,"seed":1}`)))
	var out struct{ Images []string }
	if err := json.Unmarshal(res.Body.Bytes(), &out); err != nil || len(out.Images) != 1 {
		t.Fatalf("simulator image: %v %s", err, res.Body)
	}
	b, _ := base64.StdEncoding.DecodeString(out.Images[0])
	return b
}
