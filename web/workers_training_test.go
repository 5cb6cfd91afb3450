package web_test

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"easel/actions"
	"easel/gpu/sim"
	"easel/internal/testenv"
	"easel/policy"
	"easel/store"
	"easel/worker"
)

// simTraining makes a test worker train with the simulator.
func simTraining(d time.Duration) func(*worker.Config) {
	return func(c *worker.Config) {
		c.SDScripts, c.SimTrainTime, c.TrainGrace = worker.SimulatorSDScripts, d, time.Second
		c.TrainDir = filepath.Join(c.ModelsDir, "..", "train-"+c.Name)
	}
}

// trainingPool is a worker pool whose worker trains with the simulator,
// a base model in the library and the dataset "cats" (prefix 10_cats),
// uploaded through the API and Enabled. It returns the base model's SHA-256.
func trainingPool(t *testing.T, trainTime time.Duration) (*testenv.Server, *gpuBox, string) {
	t.Helper()
	// A slower beat than workerServer's: a training's worker must not lose
	// its lease when the test machine is busy.
	s := testenv.NewServer(t, testenv.WithEnv("EASEL_WORKER_POOLS", "gpus"),
		testenv.WithEnv("EASEL_WORKER_HEARTBEAT", "1s"), testenv.WithEnv("EASEL_RECONCILE_INTERVAL", "200ms"))
	key, _, err := s.App.Actions.Keys.Create(t.Context(), policy.Principal{Service: true}, actions.KeyInput{Name: "box", Pool: "gpus"})
	if err != nil {
		t.Fatal(err)
	}
	admin := testenv.As("admin")
	sha := workerModel(t, s, "base.safetensors", []byte("the weights of base.safetensors, to train a LoRA on"))
	box := startBox(t, s, key, "trainer-1", sim.Options{}, simTraining(trainTime))
	workersEndpoint(t, s)
	createDataset(t, s, admin, "cats", "10_cats", map[string][]byte{"1.png": tinyPNG(t), "1.txt": []byte("a cat"), "2.png": tinyPNG(t)})
	s.MustCall(t, 200, "PUT", "/datasets/cats", admin, map[string]any{"status": "Enabled"})
	waitFor(t, "the pool to offer training", func() bool {
		types, err := s.App.Actions.Trainings.InstanceTypes(t.Context())
		return err == nil && slices.Contains(types, "gpus")
	})
	return s, box, sha
}

// auditedStatuses lists the statuses a training was recorded in.
func auditedStatuses(t *testing.T, s *testenv.Server, id string) []string {
	t.Helper()
	rows, err := s.App.Store.DB().Query(t.Context(), `SELECT detail FROM audit_log WHERE action = 'training.status' AND target = $1 ORDER BY id`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// safetensorsMetadata reads the header of a .safetensors file: its
// metadata and each tensor's shape.
func safetensorsMetadata(t *testing.T, raw []byte) (map[string]string, map[string][]int64) {
	t.Helper()
	if len(raw) < 8 {
		t.Fatalf("%d bytes is no safetensors file", len(raw))
	}
	n := binary.LittleEndian.Uint64(raw[:8])
	var header map[string]json.RawMessage
	if n > uint64(len(raw)-8) || json.Unmarshal(raw[8:8+n], &header) != nil {
		t.Fatalf("no safetensors header (length %d of %d bytes)", n, len(raw))
	}
	var meta map[string]string
	shapes := map[string][]int64{}
	for k, v := range header {
		if k == "__metadata__" {
			_ = json.Unmarshal(v, &meta)
			continue
		}
		var e struct{ Shape []int64 }
		_ = json.Unmarshal(v, &e)
		shapes[k] = e.Shape
	}
	return meta, shapes
}

func trainingEnd(t *testing.T, s *testenv.Server, id string) map[string]any {
	t.Helper()
	var got map[string]any
	waitFor(t, "training "+id+" to end", func() bool {
		got = getTraining(t, s, testenv.As("admin"), id)
		st := got["job_status"]
		return st == "Completed" || st == "Failed" || st == "Stopped"
	})
	return got
}

// TestTrainingOnASimulatorWorker is the whole flow on a team's GPU
// worker: a dataset uploaded through the API trains a LoRA on the pool,
// the training walks its statuses with progress, the LoRA becomes an
// Active Lora checkpoint naming its base model, and the next txt2img on
// the pool with it in models.Lora gets it fetched onto the worker.
func TestTrainingOnASimulatorWorker(t *testing.T) {
	t.Parallel()
	s, box, sha := trainingPool(t, 2*time.Second)
	admin := testenv.As("admin")
	id := createTraining(t, s, admin, trainingBody("cat_lora"))
	got := trainingEnd(t, s, id)
	if got["job_status"] != "Completed" {
		t.Fatalf("training ended %v: %v", got["job_status"], got["params"])
	}
	if got["sagemaker_train_name"] != "gpus/trainer-1" {
		t.Errorf("sagemaker_train_name = %v, want gpus/trainer-1", got["sagemaker_train_name"])
	}
	if st := auditedStatuses(t, s, id); !slices.Contains(st, "Downloading") || !slices.Contains(st, "Training") || !slices.Contains(st, "Uploading") {
		t.Errorf("recorded statuses %v; want Downloading, Training and Uploading", st)
	}
	tr, err := store.FindTraining(t.Context(), s.App.Store.DB(), uuid.MustParse(id), false)
	if err != nil {
		t.Fatal(err)
	}
	var curve [][2]float64
	if err := json.Unmarshal(tr.LossCurve, &curve); err != nil || len(curve) < 2 || curve[len(curve)-1][1] >= curve[0][1] {
		t.Errorf("loss curve %s (%v): want several points, falling", tr.LossCurve, err)
	}
	var logs []string
	for _, l := range got["logs"].([]any) {
		logs = append(logs, l.(map[string]any)["filename"].(string))
	}
	if !slices.Contains(logs, "easel-train-output.log") {
		t.Errorf("logs = %v, want the run's output", logs)
	}
	names := map[string]string{}
	for _, c := range checkpointsOf(t, s, admin, "?types=Lora") {
		names[c["name"].([]any)[0].(string)] = c["status"].(string)
	}
	if names["cat_lora.safetensors"] != "Active" || names["cat_lora-000001.safetensors"] != "Active" {
		t.Errorf("Lora checkpoints = %v; want the LoRA and its epoch-1 file Active", names)
	}
	lora := readObject(t, s, "Stable-diffusion/checkpoint/custom/"+id+"/cat_lora.safetensors")
	meta, shapes := safetensorsMetadata(t, lora)
	if meta["ss_sd_model_name"] != "base.safetensors" || meta["ss_new_sd_model_hash"] != sha || meta["easel_simulator"] != "true" ||
		meta["ss_output_name"] != "cat_lora" || meta["ss_num_epochs"] != "2" {
		t.Errorf("LoRA metadata = %v", meta)
	}
	if !slices.Equal(shapes["lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight"], []int64{4, 320, 1, 1}) {
		t.Errorf("proj_in down shape = %v", shapes["lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight"])
	}

	// The LoRA is used at once, fetched onto the worker that runs the job.
	r := s.MustCall(t, 201, "POST", "/inferences", admin, map[string]any{"task_type": "txt2img", "inference_type": "Async",
		"models": map[string]any{"Stable-diffusion": []string{"base.safetensors"}, "Lora": []string{"cat_lora.safetensors"}}})
	createParams(t, r, map[string]any{"prompt": "a cat <lora:cat_lora:0.8>", "width": 64, "height": 64, "seed": 3})
	job := r.JSON(t)["data"].(map[string]any)["inference"].(map[string]any)["id"].(string)
	s.MustCall(t, 202, "PUT", "/inferences/"+job+"/start", admin, nil)
	if res := waitJob(t, s, job); res["status"] != "succeed" {
		t.Fatalf("txt2img with the LoRA: %v", res)
	}
	if got, err := os.ReadFile(filepath.Join(box.dir, "Lora", "cat_lora.safetensors")); err != nil || string(got) != string(lora) {
		t.Errorf("the worker's Lora folder holds %d bytes (%v), want the trained LoRA's %d", len(got), err, len(lora))
	}
	if n := box.stats(t).Loras["cat_lora.safetensors"]; n != 1 {
		t.Errorf("the WebUI applied the LoRA %d times, want 1", n)
	}
	// The Workers page says the worker's trainings are simulated.
	c := signIn(t, s, "admin", testenv.AdminPassword)
	if page := getPage(t, c, s.URL+"/workers"); !strings.Contains(page, `data-testid="worker-trainer-trainer-1">training simulator`) {
		t.Error("the Workers page does not label the training simulator")
	}
	// So does the training's own page, and the list.
	for _, url := range []string{s.URL + "/trainings/" + id, s.URL + "/trainings"} {
		if page := getPage(t, c, url); !strings.Contains(page, "worker pool gpus (training simulator: the LoRA is not trained)") {
			t.Errorf("%s does not say the training ran on the simulator", url)
		}
	}
}

// TestTrainingCancelStopsTheWorker: a training deleted while it runs is
// dropped by its worker (which is then free for the next job) and
// registers nothing; one stopped keeps its row as Stopped.
func TestTrainingCancelStopsTheWorker(t *testing.T) {
	t.Parallel()
	s, _, _ := trainingPool(t, 10*time.Minute)
	admin := testenv.As("admin")
	running := func(id string) func() bool {
		return func() bool { return getTraining(t, s, admin, id)["job_status"] == "Training" }
	}
	deleted := createTraining(t, s, admin, trainingBody("deleted_lora"))
	waitFor(t, "the training to run", running(deleted))
	s.MustCall(t, 204, "DELETE", "/trainings", admin, map[string]any{"training_id_list": []string{deleted}})

	stopped := createTraining(t, s, admin, trainingBody("stopped_lora"))
	waitFor(t, "the second training to run (the worker dropped the first)", running(stopped))
	if err := s.App.Actions.Trainings.Stop(t.Context(), policy.Principal{Username: "admin"}, stopped); err != nil {
		t.Fatal(err)
	}
	if got := trainingEnd(t, s, stopped); got["job_status"] != "Stopped" {
		t.Errorf("stopped training is %v", got["job_status"])
	}
	// The worker is free again: an inference runs.
	if res := waitJob(t, s, workerJob(t, s, "base.safetensors")); res["status"] != "succeed" {
		t.Fatalf("inference after the stops: %v", res)
	}
	for _, c := range checkpointsOf(t, s, admin, "?types=Lora") {
		t.Errorf("a cancelled training registered %v", c["name"])
	}
}
