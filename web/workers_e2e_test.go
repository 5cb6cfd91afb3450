package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
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
	"easel/jobs"
	"easel/store"
	"easel/worker"
	"easel/worker/webui"
)

// gpuBox is a GPU machine in a test: the A1111 simulator over a models
// folder, and a real `easel worker` beside it sharing that folder.
type gpuBox struct {
	dir string
	sim *httptest.Server
	// cut, once set, makes every call of the worker to Easel and the store
	// fail, as if the machine lost its network (the WebUI call goes on).
	cut atomic.Bool
}

type cuttable struct{ box *gpuBox }

func (c cuttable) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.box.cut.Load() {
		return nil, errors.New("network down (test)")
	}
	return http.DefaultTransport.RoundTrip(r)
}

func startBox(t *testing.T, s *testenv.Server, key, name string, opts sim.Options, more ...func(*worker.Config)) *gpuBox {
	t.Helper()
	b := &gpuBox{dir: t.TempDir()}
	if err := os.MkdirAll(filepath.Join(b.dir, sim.CheckpointDir), 0o755); err != nil {
		t.Fatal(err)
	}
	opts.ModelsDir = b.dir
	b.sim = httptest.NewServer(sim.Handler(opts))
	backend, err := webui.New(b.sim.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg := worker.Config{Server: s.URL, Key: key, Name: name, ModelsDir: b.dir, CacheSize: 1 << 30,
		Backend: backend, HTTP: &http.Client{Transport: cuttable{b}}, Grace: time.Second,
		RetryBase: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond, InterruptWait: 2 * time.Second,
		Log: slog.New(slog.DiscardHandler)}
	for _, f := range more {
		f(&cfg)
	}
	w, err := worker.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	// At the end the network comes back, so a worker that lost its job
	// hears so (409) at once instead of retrying its report.
	t.Cleanup(func() { b.cut.Store(false); cancel(); <-done; b.sim.Close() })
	return b
}

func (b *gpuBox) stats(t *testing.T) sim.Stats {
	t.Helper()
	var st sim.Stats
	if err := json.Unmarshal(fetch(t, b.sim.URL+sim.StatsPath), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// workerJob creates and starts a txt2img job on the workers endpoint.
func workerJob(t *testing.T, s *testenv.Server, model string) string {
	t.Helper()
	models := map[string]any{}
	if model != "" {
		models["Stable-diffusion"] = []string{model}
	}
	r := s.MustCall(t, 201, "POST", "/inferences", testenv.As("admin"), map[string]any{"task_type": "txt2img", "inference_type": "Async", "models": models})
	createParams(t, r, map[string]any{"prompt": "a lighthouse at dusk", "width": 64, "height": 64, "seed": 7})
	id := r.JSON(t)["data"].(map[string]any)["inference"].(map[string]any)["id"].(string)
	s.MustCall(t, 202, "PUT", "/inferences/"+id+"/start", testenv.As("admin"), nil)
	return id
}

func inference(t *testing.T, s *testenv.Server, id string) store.Inference {
	t.Helper()
	inf, err := store.FindInference(t.Context(), s.App.Store.DB(), uuid.MustParse(id))
	if err != nil {
		t.Fatal(err)
	}
	return inf
}

// workerModel puts a checkpoint in the library and waits for its checksum
// (workers verify every file they fetch).
func workerModel(t *testing.T, s *testenv.Server, name string, weights []byte) string {
	t.Helper()
	sum := sha256.Sum256(weights)
	sha := hex.EncodeToString(sum[:])
	uploadModelBytes(t, s, "Stable-diffusion", name, weights)
	waitFor(t, "the checksum of "+name, func() bool {
		for _, c := range checkpointsOf(t, s, testenv.As("admin"), "") {
			if c["sha256"] == sha {
				return true
			}
		}
		return false
	})
	return sha
}

func workersEndpoint(t *testing.T, s *testenv.Server) {
	t.Helper()
	s.MustCall(t, 202, "POST", "/endpoints", testenv.As("admin"), map[string]any{"endpoint_name": "gpus", "endpoint_type": "Async",
		"instance_type": "gpus", "initial_instance_count": 1, "assign_to_roles": []string{"byoc"}})
	waitEndpoint(t, s, "esd-async-gpus", "InService")
}

// TestWorkerRunsTheChosenModel: the bytes uploaded to the library reach
// the worker's WebUI folder, that file draws the image (its hash is in the
// infotext), and the job says which worker ran it and that it downloaded.
func TestWorkerRunsTheChosenModel(t *testing.T) {
	t.Parallel()
	s, key := workerServer(t)
	weights := []byte("the weights of lighthouse.safetensors, uploaded by a person")
	sha := workerModel(t, s, "lighthouse.safetensors", weights)
	box := startBox(t, s, key, "box-1", sim.Options{})
	workersEndpoint(t, s)

	id := workerJob(t, s, "lighthouse.safetensors")
	job := waitJob(t, s, id)
	if job["status"] != "succeed" {
		t.Fatalf("job = %v", job)
	}
	got, err := os.ReadFile(filepath.Join(box.dir, sim.CheckpointDir, "lighthouse.safetensors"))
	if err != nil || string(got) != string(weights) {
		t.Fatalf("the worker's WebUI folder holds %q (%v), want the uploaded bytes", got, err)
	}
	r, err := s.App.Blob.Get(t.Context(), jobs.ParamFileKey(uuid.MustParse(id)))
	if err != nil {
		t.Fatal(err)
	}
	param, _ := io.ReadAll(r)
	r.Close()
	if !strings.Contains(string(param), "Model hash: "+sha[:10]) || !strings.Contains(string(param), "Model: lighthouse") {
		t.Errorf("the infotext does not name the uploaded model: %.300s", param)
	}
	inf := inference(t, s, id)
	if inf.WorkerName != "box-1" || !inf.Downloaded || len(inf.ImageNames) != 1 {
		t.Errorf("job ran by %q, downloaded %v, images %v", inf.WorkerName, inf.Downloaded, inf.ImageNames)
	}
	if urls, _ := job["img_presigned_urls"].([]any); len(urls) != 1 {
		t.Errorf("image URLs = %v", job["img_presigned_urls"])
	}
	// The console says which worker ran the job, and lists the pool's workers.
	c := signIn(t, s, "admin", testenv.AdminPassword)
	if page := getPage(t, c, s.URL+"/gallery/"+id); !strings.Contains(page, `data-testid="job-worker">box-1`) ||
		!strings.Contains(page, "downloaded the model first") {
		t.Error("the job page does not say that box-1 ran the job after downloading the model")
	}
	if page := getPage(t, c, s.URL+"/endpoints/esd-async-gpus"); !strings.Contains(page, `data-testid="worker-row-box-1"`) {
		t.Error("the endpoint's page does not list its pool's worker")
	}
	// A second job finds the model cached: no download, no switch.
	again := workerJob(t, s, "lighthouse.safetensors")
	if waitJob(t, s, again)["status"] != "succeed" {
		t.Fatal("second job failed")
	}
	if inf := inference(t, s, again); inf.Downloaded || inf.Switched {
		t.Errorf("second job: downloaded %v, switched %v; want neither", inf.Downloaded, inf.Switched)
	}
}

// TestKilledWorkerLosesItsJob: a worker that drops off the network mid-job
// loses its lease, and another worker finishes the job, once.
func TestKilledWorkerLosesItsJob(t *testing.T) {
	t.Parallel()
	s, key := workerServer(t)
	workerModel(t, s, "tiny.safetensors", []byte("tiny weights"))
	a := startBox(t, s, key, "box-a", sim.Options{Delay: 3 * time.Second})
	workersEndpoint(t, s)
	id := workerJob(t, s, "tiny.safetensors")
	waitFor(t, "box-a to take the job", func() bool { return inference(t, s, id).WorkerName == "box-a" })
	startBox(t, s, key, "box-b", sim.Options{})
	a.cut.Store(true)
	job := waitJob(t, s, id)
	inf := inference(t, s, id)
	if job["status"] != "succeed" || inf.WorkerName != "box-b" {
		t.Fatalf("job %v finished by %q, want succeed by box-b", job["status"], inf.WorkerName)
	}
	if n, err := store.LeaseCount(t.Context(), s.App.Store.DB(), inf.ID); err != nil || n != 2 {
		t.Errorf("leases = %d (%v), want 2", n, err)
	}
	if urls, _ := job["img_presigned_urls"].([]any); len(urls) != 1 {
		t.Errorf("image URLs = %v", job["img_presigned_urls"])
	}
}

// TestCancelReachesTheWorker: cancelling a running job interrupts the
// WebUI on the worker's machine.
func TestCancelReachesTheWorker(t *testing.T) {
	t.Parallel()
	s, key := workerServer(t)
	workerModel(t, s, "tiny.safetensors", []byte("tiny weights"))
	box := startBox(t, s, key, "box", sim.Options{Delay: 30 * time.Second})
	workersEndpoint(t, s)
	id := workerJob(t, s, "tiny.safetensors")
	waitFor(t, "the job to be generating", func() bool { return inference(t, s, id).Stage == "generating" })
	s.MustCall(t, 200, "POST", "/inferences/"+id+"/cancel", testenv.As("admin"), nil)
	waitFor(t, "the interrupt to reach the WebUI", func() bool { return box.stats(t).Interrupts >= 1 })
	if st := getJob(t, s, testenv.As("admin"), id)["status"]; st != "failed" {
		t.Errorf("status = %v, want failed (cancelled)", st)
	}
}
