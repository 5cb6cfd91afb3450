package web_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/google/uuid"

	"easel/internal/testenv"
	"easel/store"
	"easel/trainer"
)

// putObject stores body at key in the test server's bucket.
func putObject(t *testing.T, s *testenv.Server, key, body string) {
	t.Helper()
	if err := s.App.Blob.Put(t.Context(), key, []byte(body), "application/octet-stream"); err != nil {
		t.Fatal(err)
	}
}

// checkpointNamed returns the API item of the checkpoint called name as
// h sees it, nil when h sees none.
func checkpointNamed(t *testing.T, s *testenv.Server, h testenv.Headers, name string) map[string]any {
	t.Helper()
	for _, c := range checkpointsOf(t, s, h, "?per_page=1000") {
		if slices.Contains(c["name"].([]any), any(name)) {
			return c
		}
	}
	return nil
}

// TestTrainingReporterCompleted: progress moves the status and draws
// the loss curve; on Completed every .safetensors file under the output
// folder becomes an Active Lora owned like the training, with lineage,
// the logs are presigned, later news is ignored, and deleting one LoRA
// removes only its file.
func TestTrainingReporterCompleted(t *testing.T) {
	t.Parallel()
	s := trainingServer(t)
	mustRole(t, s, "team-a", "train:create", "train:list", "checkpoint:list", "checkpoint:create")
	mustUser(t, s, "admin", "alice", "team-a")
	alice := testenv.As("alice")
	uploadModel(t, s, "Lora", "cat-000002.safetensors") // an epoch file's name in use already
	id := createTraining(t, s, alice, trainingBody("cat"))
	rep := s.App.Actions.Trainings

	if err := rep.Progress(t.Context(), id, trainer.Progress{Status: trainer.Downloading}); err != nil {
		t.Fatal(err)
	}
	for step := 1; step <= 3; step++ {
		p := trainer.Progress{Status: "Training", Epoch: 1, Epochs: 2, Step: step, Steps: 6, Loss: 0.5 / float64(step)}
		if err := rep.Progress(t.Context(), id, p); err != nil {
			t.Fatal(err)
		}
	}
	if got := getTraining(t, s, alice, id)["job_status"]; got != "Training" {
		t.Errorf("status after progress = %v", got)
	}
	tr, err := store.FindTraining(t.Context(), s.App.Store.DB(), uuid.MustParse(id), false)
	if err != nil {
		t.Fatal(err)
	}
	var curve [][2]float64
	var progress map[string]any
	_ = json.Unmarshal(tr.LossCurve, &curve)
	_ = json.Unmarshal(tr.Progress, &progress)
	if len(curve) != 3 || curve[2] != [2]float64{3, 0.5 / 3} || progress["step"] != float64(3) || progress["epochs"] != float64(2) {
		t.Errorf("curve = %v, progress = %v", curve, progress)
	}

	out := "Stable-diffusion/checkpoint/custom/" + id + "/"
	putObject(t, s, out+"cat.safetensors", "final weights")
	putObject(t, s, out+"cat-000001.safetensors", "epoch 1")
	putObject(t, s, out+"cat-000002.safetensors", "epoch 2")
	putObject(t, s, out+"sample/cat.png", "not a model")
	putObject(t, s, out+"notes.txt", "not a model")
	putObject(t, s, "kohya/train/"+id+"/logs/events.out.tfevents.1", "tensorboard events")
	if err := rep.Finish(t.Context(), id, trainer.Outcome{Status: trainer.Completed}); err != nil {
		t.Fatal(err)
	}
	got := getTraining(t, s, alice, id)
	if got["job_status"] != "Completed" {
		t.Fatalf("status = %v", got["job_status"])
	}
	logs := got["logs"].([]any)
	if len(logs) != 1 || logs[0].(map[string]any)["filename"] != "events.out.tfevents.1" ||
		string(httpGet(t, logs[0].(map[string]any)["url"].(string))) != "tensorboard events" {
		t.Errorf("logs = %v", logs)
	}

	lora := checkpointNamed(t, s, alice, "cat.safetensors")
	if lora == nil {
		t.Fatal("cat.safetensors not in alice's model library")
	}
	p := lora["params"].(map[string]any)
	if lora["type"] != "Lora" || lora["status"] != "Active" || lora["s3Location"] != "s3://"+s.App.Blob.Bucket+"/Stable-diffusion/checkpoint/custom/"+id ||
		!slices.Equal(lora["allowed_roles_or_users"].([]any), []any{"team-a"}) || p["message"] != "trained by "+id || p["creator"] != "alice" {
		t.Errorf("registered LoRA = %v", lora)
	}
	if checkpointNamed(t, s, alice, "cat-000001.safetensors") == nil || checkpointNamed(t, s, alice, "notes.txt") != nil ||
		checkpointNamed(t, s, alice, "cat.png") != nil {
		t.Errorf("registered the wrong files")
	}
	if c := checkpointNamed(t, s, testenv.As("admin"), "cat-000002.safetensors"); c["type"] != "Lora" || c["params"].(map[string]any)["message"] == "trained by "+id {
		t.Errorf("the checkpoint already called cat-000002.safetensors was replaced: %v", c)
	}
	base := checkpointNamed(t, s, alice, "base.safetensors")
	if base == nil {
		base = checkpointNamed(t, s, testenv.As("admin"), "base.safetensors")
	}
	lin, err := store.CheckpointLineages(t.Context(), s.App.Store.DB(), []uuid.UUID{uuid.MustParse(lora["id"].(string))})
	if err != nil {
		t.Fatal(err)
	}
	want := store.Lineage{TrainingID: id, OutputName: "cat", Dataset: "cats", DatasetSHA256: tr.DatasetSHA256,
		BaseModel: "base.safetensors", BaseCheckpointID: base["id"].(string), BaseSHA256: base["sha256"].(string), FMType: "sd_1_5"}
	if l := lin[uuid.MustParse(lora["id"].(string))]; l != want || l.BaseSHA256 == "" {
		t.Errorf("lineage = %+v, want %+v", l, want)
	}
	waitFor(t, "the LoRA's SHA-256", func() bool {
		c := checkpointNamed(t, s, alice, "cat.safetensors")
		return c["sha256"] != "" && c["sha256"] != nil
	})

	// Later news is ignored.
	if err := rep.Finish(t.Context(), id, trainer.Outcome{Status: trainer.Failed, Reason: "late"}); err != nil {
		t.Fatal(err)
	}
	if err := rep.Progress(t.Context(), id, trainer.Progress{Status: trainer.Training, Step: 9, Loss: 1}); err != nil {
		t.Fatal(err)
	}
	if got := getTraining(t, s, alice, id); got["job_status"] != "Completed" || got["params"].(map[string]any)["resp"] != nil {
		t.Errorf("after late news: %v", got)
	}

	// Deleting one epoch's LoRA removes its file only.
	epoch := checkpointNamed(t, s, alice, "cat-000001.safetensors")
	s.MustCall(t, 204, "DELETE", "/checkpoints", alice, map[string]any{"checkpoint_id_list": []string{epoch["id"].(string)}})
	waitFor(t, "the epoch file deleted", func() bool { _, err := s.App.Blob.Head(t.Context(), out+"cat-000001.safetensors"); return err != nil })
	for _, kept := range []string{"cat.safetensors", "notes.txt"} {
		if _, err := s.App.Blob.Head(t.Context(), out+kept); err != nil {
			t.Errorf("%s went with the other LoRA: %v", kept, err)
		}
	}
}

// TestTrainingReporterEnds: a Completed job without a model file is
// Failed, failures and stops keep their reason in params.resp, and news
// about a deleted training registers nothing.
func TestTrainingReporterEnds(t *testing.T) {
	t.Parallel()
	s := trainingServer(t)
	admin := testenv.As("admin")
	rep := s.App.Actions.Trainings
	for _, c := range []struct {
		output  string
		outcome trainer.Outcome
		status  string
		reason  string
	}{
		{"empty", trainer.Outcome{Status: trainer.Completed}, "Failed", "no model file produced"},
		{"oom", trainer.Outcome{Status: "MaxRuntimeExceeded", Reason: "CUDA out of memory"}, "Failed", "CUDA out of memory"},
		{"halted", trainer.Outcome{Status: trainer.Stopped}, "Stopped", "training stopped"},
	} {
		id := createTraining(t, s, admin, trainingBody(c.output))
		if c.output != "empty" {
			putObject(t, s, "Stable-diffusion/checkpoint/custom/"+id+"/"+c.output+".safetensors", "weights")
		}
		if err := rep.Finish(t.Context(), id, c.outcome); err != nil {
			t.Fatal(err)
		}
		got := getTraining(t, s, admin, id)
		resp, _ := got["params"].(map[string]any)["resp"].(map[string]any)
		if got["job_status"] != c.status || resp["status"] != c.status || resp["error_msg"] != c.reason {
			t.Errorf("%s: status %v, resp %v; want %s %q", c.output, got["job_status"], resp, c.status, c.reason)
		}
		if checkpointNamed(t, s, admin, c.output+".safetensors") != nil {
			t.Errorf("%s: a LoRA was registered", c.output)
		}
	}

	id := createTraining(t, s, admin, trainingBody("gone"))
	putObject(t, s, "Stable-diffusion/checkpoint/custom/"+id+"/gone.safetensors", "weights")
	s.MustCall(t, 204, "DELETE", "/trainings", admin, map[string]any{"training_id_list": []string{id}})
	if err := rep.Progress(t.Context(), id, trainer.Progress{Status: trainer.Training, Step: 1, Loss: 1}); err != nil {
		t.Fatal(err)
	}
	if err := rep.Finish(t.Context(), id, trainer.Outcome{Status: trainer.Completed}); err != nil {
		t.Fatal(err)
	}
	if checkpointNamed(t, s, admin, "gone.safetensors") != nil {
		t.Errorf("a deleted training registered its LoRA")
	}
	s.MustCall(t, 404, "GET", "/trainings/"+id, admin, nil)
}
