package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"easel/blob"
	"easel/gpu/sim"
	"easel/internal/testenv"
)

// TestMain runs `easel serve` instead of the tests in a binary that
// testenv.StartReplica re-executed.
func TestMain(m *testing.M) {
	if testenv.ReplicaChild() {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, []string{"serve"}, os.Getenv, os.Stdout)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "easel:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	testenv.StopGateway()
	os.Exit(code)
}

// TestKilledReplicaLosesNoJob runs two `easel serve` processes on one
// database and bucket, kills (SIGKILL) the one running an inference and a
// URL import, and checks that the other finishes both, each exactly once,
// and that no multipart upload is left behind.
func TestKilledReplicaLosesNoJob(t *testing.T) {
	// The GPU: its first generation never answers (it was A's, and A dies
	// waiting); the others are the simulator's.
	var generations atomic.Int32
	simulator := sim.Handler(sim.Options{})
	release := make(chan struct{})
	hang := func(r *http.Request) {
		// Read the request to its end, so that the server notices when
		// the client's connection closes.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
	gpu := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/sdapi/v1/txt2img" && generations.Add(1) == 1 {
			hang(r)
			return
		}
		simulator.ServeHTTP(w, r)
	}))
	t.Cleanup(gpu.Close)
	// The model source: its first download stops after more than one
	// part (a multipart upload is open) and hangs; later ones send it all.
	payload := make([]byte, 20<<20)
	for i := range payload {
		payload[i] = byte(rand.Uint32())
	}
	sum := sha256.Sum256(payload)
	var downloads atomic.Int32
	source := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
		if downloads.Add(1) == 1 {
			_, _ = w.Write(payload[:17<<20])
			w.(http.Flusher).Flush()
			hang(r)
			return
		}
		_, _ = w.Write(payload)
	}))
	t.Cleanup(source.Close)
	t.Cleanup(func() { close(release) })

	env := testenv.Env(t, testenv.WithEnv("EASEL_WEBUI_POOLS", "gpu="+gpu.URL),
		testenv.WithEnv("EASEL_RECONCILE_INTERVAL", "200ms"), testenv.WithEnv("EASEL_ALLOW_PRIVATE_URLS", "1"),
		testenv.WithEnv("EASEL_RESCUE_AFTER", "2s"))
	db, bucket := replicaData(t, env)
	a := testenv.StartReplica(t, env)
	admin := testenv.As("admin")
	a.MustCall(t, 202, "POST", "/endpoints", admin, map[string]any{"endpoint_name": "gpu", "endpoint_type": "Async",
		"instance_type": "gpu", "initial_instance_count": 1, "assign_to_roles": []string{"byoc"}})
	eventually(t, "the endpoint to serve", func() bool {
		var n int
		_ = db.QueryRow(t.Context(), `SELECT count(*) FROM endpoints WHERE status = 'InService'`).Scan(&n)
		return n == 1
	})
	r := a.MustCall(t, 201, "POST", "/inferences", admin, map[string]any{"task_type": "txt2img", "inference_type": "Async", "models": map[string]any{}})
	inf := r.JSON(t)["data"].(map[string]any)["inference"].(map[string]any)
	putParams(t, inf["api_params_s3_upload_url"].(string), `{"prompt": "two replicas", "width": 16, "height": 16, "batch_size": 2}`)
	id := inf["id"].(string)
	a.MustCall(t, 202, "PUT", "/inferences/"+id+"/start", admin, nil)
	a.MustCall(t, 202, "POST", "/checkpoints", admin, map[string]any{"checkpoint_type": "Lora",
		"urls": []string{source.URL + "/big.safetensors"}, "params": map[string]any{"creator": "admin"}})
	eventually(t, "A to run the inference and the import", func() bool {
		uploads, err := bucket.ListMultipartUploads(t.Context(), "")
		return generations.Load() == 1 && err == nil && len(uploads) == 1
	})

	b := testenv.StartReplica(t, env)
	a.Kill()
	eventually(t, "B to finish the inference", func() bool {
		job := b.MustCall(t, 200, "GET", "/inferences/"+id, admin, nil).JSON(t)["data"].(map[string]any)
		return job["status"] == "succeed"
	})
	eventually(t, "B to finish the import", func() bool {
		var status string
		_ = db.QueryRow(t.Context(), `SELECT status FROM checkpoints`).Scan(&status)
		return status == "Active"
	})

	var sha string
	var size int64
	if err := db.QueryRow(t.Context(), `SELECT sha256, size_bytes FROM checkpoints`).Scan(&sha, &size); err != nil {
		t.Fatal(err)
	}
	if sha != hex.EncodeToString(sum[:]) || size != int64(len(payload)) {
		t.Errorf("imported file: sha256 %s, %d bytes; want %x, %d bytes", sha, size, sum, len(payload))
	}
	job := b.MustCall(t, 200, "GET", "/inferences/"+id, admin, nil).JSON(t)["data"].(map[string]any)
	if n := len(job["img_presigned_urls"].([]any)); n != 2 {
		t.Errorf("the inference has %d images, want 2: %v", n, job)
	}
	for _, name := range []string{"image_0.png", "image_1.png", id + "_param.json"} {
		if _, err := bucket.Head(t.Context(), "out/"+id+"/result/"+name); err != nil {
			t.Errorf("result file %s: %v", name, err)
		}
	}
	// A's generation was lost with A (its answer had nowhere to go): B
	// asked the GPU once more, and only once.
	if n := generations.Load(); n != 2 {
		t.Errorf("the GPU was asked %d times for the inference, want 2 (A's lost one and B's)", n)
	}
	if n := downloads.Load(); n != 2 {
		t.Errorf("the source was downloaded %d times, want 2 (A's, cut off, and B's)", n)
	}
	// Each ran to completion once more after A died (River records the
	// completions a moment after the work).
	eventually(t, "River to record both jobs completed", func() bool {
		var done, total int
		err := db.QueryRow(t.Context(), `SELECT count(*) FILTER (WHERE state = 'completed'), count(*) FROM river_job
			WHERE kind IN ('inference_run', 'checkpoint_import')`).Scan(&done, &total)
		return err == nil && done == 2 && total == 2
	})
	uploads, err := bucket.ListMultipartUploads(t.Context(), "")
	if err != nil || len(uploads) != 0 {
		t.Errorf("multipart uploads left behind: %v %v", uploads, err)
	}
}

// replicaData returns the replicas' database and bucket, as the test sees
// them.
func replicaData(t *testing.T, env map[string]string) (*pgxpool.Pool, *blob.Client) {
	t.Helper()
	db, err := pgxpool.New(t.Context(), env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	bucket, err := blob.New(t.Context(), blob.Config{Endpoint: env["EASEL_S3_ENDPOINT"], Bucket: env["EASEL_S3_BUCKET"],
		AccessKey: env["EASEL_S3_ACCESS_KEY"], SecretKey: env["EASEL_S3_SECRET_KEY"], Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return db, bucket
}

func putParams(t *testing.T, url, params string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url, strings.NewReader(params))
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("upload params: %v %v", err, res)
	}
	res.Body.Close()
}

// eventually polls ok until it holds, for at most two minutes.
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
