package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"easel/internal/testenv"
	"easel/workerproto"
)

// helloTrainer introduces a hand-driven worker that says it can train.
func (w *protoWorker) helloTrainer(name string) {
	w.t.Helper()
	var welcome workerproto.Welcome
	if got := w.call(workerproto.PathHello, workerproto.Hello{Name: name, Trainer: workerproto.TrainerSimulator}, &welcome); got != http.StatusOK {
		w.t.Fatalf("hello: %d", got)
	}
	w.id = welcome.WorkerID
}

// leaseTraining long-polls as a worker that can train.
func (w *protoWorker) leaseTraining(wait time.Duration) *workerproto.Job {
	w.t.Helper()
	var job workerproto.Job
	req := workerproto.LeaseRequest{WorkerID: w.id, Wait: workerproto.Duration{Duration: wait}, Trainer: workerproto.TrainerSimulator}
	switch got := w.call(workerproto.PathLease, req, &job); got {
	case http.StatusOK:
		return &job
	case http.StatusNoContent:
		return nil
	default:
		w.t.Fatalf("lease: %d", got)
	}
	return nil
}

// TestTrainingLeases: only a worker that can train is offered a
// training, which describes everything it needs; a worker that stops
// beating loses it to the next lease, and after three expired leases the
// training fails with the reason.
func TestTrainingLeases(t *testing.T) {
	t.Parallel()
	s, key := workerServer(t)
	admin := testenv.As("admin")
	sha := workerModel(t, s, "base.safetensors", []byte("base weights for the lease test"))
	createDataset(t, s, admin, "cats", "10_cats", map[string][]byte{"1.png": tinyPNG(t), "1.txt": []byte("a cat")})
	trainerW := &protoWorker{t: t, url: s.URL, key: key}
	trainerW.helloTrainer("trainer")
	plain := &protoWorker{t: t, url: s.URL, key: key}
	plain.hello("plain")
	id := createTraining(t, s, admin, trainingBody("lease_lora"))

	if job := plain.lease(time.Second); job != nil {
		t.Fatalf("a worker without --sd-scripts leased %+v", job)
	}
	job := trainerW.leaseTraining(5 * time.Second)
	if job == nil || job.Kind != workerproto.KindTraining || job.ID != id || job.Training == nil {
		t.Fatalf("lease = %+v, want training %s", job, id)
	}
	tr := job.Training
	if tr.Model.Name != "base.safetensors" || tr.Model.SHA256 != sha || tr.Model.URL == "" || tr.OutputName != "lease_lora" ||
		tr.FMType != "sd_1_5" || tr.Prefix != "10_cats" || tr.MaxTrainEpochs != 2 || tr.SaveEveryNEpochs != 1 ||
		tr.Upload == "" || tr.ConfigName != "kohya_config_cloud.toml" || tr.WD14 != nil {
		t.Errorf("training description = %+v", tr)
	}
	paths := map[string]bool{}
	for _, f := range tr.Files {
		paths[f.Path] = f.URL != ""
	}
	if !paths["10_cats/1.png"] || !paths["10_cats/1.txt"] || len(paths) != 2 {
		t.Errorf("dataset files = %v", paths)
	}
	if toml := string(httpGet(t, tr.Config)); !strings.Contains(toml, `output_name = "lease_lora"`) {
		t.Errorf("the TOML URL gives %q", toml)
	}
	if got := getTraining(t, s, admin, id)["sagemaker_train_name"]; got != "gpus/trainer" {
		t.Errorf("sagemaker_train_name = %v", got)
	}
	// Only the lease's holder may ask for upload URLs, and only for its files.
	var urls workerproto.UploadReply
	up := workerproto.UploadRequest{JobID: job.ID, Token: job.Token, Models: []string{"lease_lora-000001.safetensors"}, Logs: []string{"run/events.out"}}
	if got := trainerW.call(workerproto.PathUpload, up, &urls); got != http.StatusOK || urls.Models["lease_lora-000001.safetensors"] == "" || urls.Logs["run/events.out"] == "" {
		t.Errorf("upload URLs: %d %+v", got, urls)
	}
	for _, bad := range []workerproto.UploadRequest{
		{JobID: job.ID, Token: job.Token, Models: []string{"other.safetensors"}},
		{JobID: job.ID, Token: job.Token, Logs: []string{"../escape"}},
	} {
		if got := trainerW.call(workerproto.PathUpload, bad, nil); got != http.StatusUnprocessableEntity {
			t.Errorf("upload %+v: %d, want 422", bad, got)
		}
	}

	// The worker dies: its lease expires and the training is leased again.
	second := trainerW.leaseTraining(5 * time.Second)
	if second == nil || second.ID != id || second.Token == job.Token {
		t.Fatalf("second lease = %+v", second)
	}
	beat := workerproto.Heartbeat{JobID: job.ID, Token: job.Token, Kind: workerproto.KindTraining,
		Training: &workerproto.TrainingProgress{Status: workerproto.TrainingTraining, Step: 1}}
	if got := trainerW.call(workerproto.PathHeartbeat, beat, nil); got != http.StatusConflict {
		t.Errorf("a beat with the expired lease: %d, want 409", got)
	}
	if third := trainerW.leaseTraining(5 * time.Second); third == nil || third.ID != id {
		t.Fatalf("third lease = %+v", third)
	}
	got := trainingEnd(t, s, id)
	resp, _ := got["params"].(map[string]any)["resp"].(map[string]any)
	if got["job_status"] != "Failed" || !strings.Contains(resp["error_msg"].(string), "lease expired 3 times") {
		t.Errorf("after three dead leases: %v %v", got["job_status"], resp)
	}
	if job := trainerW.leaseTraining(time.Second); job != nil {
		t.Errorf("a failed training was leased again: %+v", job)
	}
}
