package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"easel/gpu/sim"
	"easel/internal/testenv"
	"easel/store"
)

// TestJobsSurviveARestart crashes the server while jobs run on a slow pool
// and starts it again on the same data: every job still ends exactly once,
// succeeded with all its images.
func TestJobsSurviveARestart(t *testing.T) {
	t.Parallel()
	slow := httptest.NewServer(sim.Handler(sim.Options{Delay: 1500 * time.Millisecond}))
	t.Cleanup(slow.Close)
	env := testenv.Env(t, testenv.WithEnv("EASEL_WEBUI_POOLS", "slow="+slow.URL), testenv.WithEnv("EASEL_RECONCILE_INTERVAL", "200ms"))
	s := testenv.Start(t, env)
	admin := testenv.As("admin")
	s.MustCall(t, 202, "POST", "/endpoints", admin, map[string]any{"endpoint_name": "slow", "endpoint_type": "Async",
		"instance_type": "slow", "initial_instance_count": 1, "assign_to_roles": []string{"byoc"}})
	waitEndpoint(t, s, "esd-async-slow", "InService")
	var ids []string
	for i := range 3 {
		r := s.MustCall(t, 201, "POST", "/inferences", admin, map[string]any{"task_type": "txt2img", "inference_type": "Async", "models": map[string]any{}})
		createParams(t, r, map[string]any{"prompt": "restart", "width": 16, "height": 16, "batch_size": 2, "seed": i})
		id := r.JSON(t)["data"].(map[string]any)["inference"].(map[string]any)["id"].(string)
		s.MustCall(t, 202, "PUT", "/inferences/"+id+"/start", admin, nil)
		ids = append(ids, id)
	}
	waitRunning(t, s, ids[0]) // the first job is on the GPU now
	s.Crash()

	s2 := testenv.Start(t, env)
	for _, id := range ids {
		job := waitJob(t, s2, id)
		if job["status"] != "succeed" || len(job["img_presigned_urls"].([]any)) != 2 {
			t.Errorf("job %s after the restart: %v", id, job)
		}
	}
}

// TestImportSurvivesARestart crashes the server in the middle of a URL
// import and starts it again: the import finishes from the start, and no
// multipart upload is left behind.
func TestImportSurvivesARestart(t *testing.T) {
	t.Parallel()
	_, payload := randomChunks(t, 6<<20)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
		for off := 0; off < len(payload); off += 1 << 20 {
			if _, err := w.Write(payload[off : off+1<<20]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			time.Sleep(300 * time.Millisecond)
		}
	}))
	t.Cleanup(slow.Close)
	env := testenv.Env(t, testenv.WithEnv("EASEL_ALLOW_PRIVATE_URLS", "1"))
	s := testenv.Start(t, env)
	importURL(t, s, "Lora", slow.URL+"/weights/slow.safetensors")
	waitFor(t, "the download to be under way", func() bool {
		c, _, err := store.ListCheckpoints(t.Context(), s.App.Store.DB(), store.CheckpointFilter{})
		return err == nil && len(c) == 1 && c[0].ProgressBytes > 0
	})
	s.Crash()

	s2 := testenv.Start(t, env)
	c := waitImported(t, s2, "slow.safetensors")
	if c["status"] != "Active" || c["size"] != strconv.Itoa(len(payload)) {
		t.Fatalf("import after the restart: %v", c)
	}
	uploads, err := s2.App.Blob.ListMultipartUploads(t.Context(), "")
	if err != nil || len(uploads) != 0 {
		t.Errorf("multipart uploads left behind: %v %v", uploads, err)
	}
}

// TestLongJobOfALiveReplicaStaysWithIt: a job that runs for longer than
// EASEL_RESCUE_AFTER on a replica that keeps reporting is not handed to
// anyone else: it runs once, in one attempt.
func TestLongJobOfALiveReplicaStaysWithIt(t *testing.T) {
	t.Parallel()
	slow := httptest.NewServer(sim.Handler(sim.Options{Delay: 4 * time.Second}))
	t.Cleanup(slow.Close)
	s := testenv.NewServer(t, testenv.WithEnv("EASEL_WEBUI_POOLS", "slow="+slow.URL),
		testenv.WithEnv("EASEL_RECONCILE_INTERVAL", "200ms"), testenv.WithEnv("EASEL_RESCUE_AFTER", "1s"))
	admin := testenv.As("admin")
	s.MustCall(t, 202, "POST", "/endpoints", admin, map[string]any{"endpoint_name": "slow", "endpoint_type": "Async",
		"instance_type": "slow", "initial_instance_count": 1, "assign_to_roles": []string{"byoc"}})
	waitEndpoint(t, s, "esd-async-slow", "InService")
	r := s.MustCall(t, 201, "POST", "/inferences", admin, map[string]any{"task_type": "txt2img", "inference_type": "Async", "models": map[string]any{}})
	createParams(t, r, map[string]any{"prompt": "patience", "width": 16, "height": 16})
	id := r.JSON(t)["data"].(map[string]any)["inference"].(map[string]any)["id"].(string)
	s.MustCall(t, 202, "PUT", "/inferences/"+id+"/start", admin, nil)
	if job := waitJob(t, s, id); job["status"] != "succeed" {
		t.Fatalf("job: %v", job)
	}
	var st sim.Stats
	res, err := http.Get(slow.URL + sim.StatsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil || st.Generations != 1 {
		t.Errorf("the GPU ran %d generations (%v), want 1", st.Generations, err)
	}
	var attempts int
	if err := s.App.Store.DB().QueryRow(t.Context(), `SELECT max(attempt) FROM river_job WHERE kind = 'inference_run'`).Scan(&attempts); err != nil || attempts != 1 {
		t.Errorf("the job ran in %d attempts (%v), want 1", attempts, err)
	}
}

// TestReplicaServesEndpointsCreatedElsewhere: an endpoint on a WebUI pool
// created through one replica after the other started is served by the
// other too, once the first is gone.
func TestReplicaServesEndpointsCreatedElsewhere(t *testing.T) {
	t.Parallel()
	gpu := httptest.NewServer(sim.Handler(sim.Options{}))
	t.Cleanup(gpu.Close)
	env := testenv.Env(t, testenv.WithEnv("EASEL_WEBUI_POOLS", "studio="+gpu.URL), testenv.WithEnv("EASEL_RECONCILE_INTERVAL", "200ms"))
	a := testenv.Start(t, env)
	b := testenv.Start(t, env)
	admin := testenv.As("admin")
	a.MustCall(t, 202, "POST", "/endpoints", admin, map[string]any{"endpoint_name": "late", "endpoint_type": "Async",
		"instance_type": "studio", "initial_instance_count": 1, "assign_to_roles": []string{"byoc"}})
	waitEndpoint(t, b, "esd-async-late", "InService")
	a.Stop()
	r := b.MustCall(t, 201, "POST", "/inferences", admin, map[string]any{"task_type": "txt2img", "inference_type": "Async", "models": map[string]any{}})
	createParams(t, r, map[string]any{"prompt": "elsewhere", "width": 16, "height": 16})
	id := r.JSON(t)["data"].(map[string]any)["inference"].(map[string]any)["id"].(string)
	b.MustCall(t, 202, "PUT", "/inferences/"+id+"/start", admin, nil)
	if job := waitJob(t, b, id); job["status"] != "succeed" {
		t.Errorf("job on the other replica: %v", job)
	}
	for _, e := range endpointsOf(t, b, admin, "") {
		if e["endpoint_name"] == "esd-async-late" && e["endpoint_status"] != "InService" {
			t.Errorf("the endpoint, seen from the other replica: %v", e)
		}
	}
}
