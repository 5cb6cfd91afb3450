package web_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"easel/gpu/sagemaker/fake"
	"easel/internal/testenv"
	"easel/modelfile"
)

const trainImage = "123456789012.dkr.ecr.us-east-1.amazonaws.com/esd-training:1.6.0"

// fakeClock is the SageMaker fake's clock, moved by the test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// sageMakerTrainingServer is sageMakerServer with training: the ESD
// training image, a fake whose jobs walk a phase per minute of its own
// clock, the base model base.safetensors and the dataset "cats".
func sageMakerTrainingServer(t *testing.T) (*testenv.Server, *fake.Server, *fakeClock) {
	t.Helper()
	s, f := sageMakerServer(t, testenv.WithEnv("EASEL_TRAIN_IMAGE", trainImage))
	clock := &fakeClock{t: time.Date(2026, 12, 6, 8, 21, 52, 0, time.UTC)}
	f.Now, f.TrainingPhase = clock.Now, time.Minute
	f.ListObjects = func(prefix string) ([]string, error) {
		objs, err := s.App.Blob.ObjectsUnder(context.Background(), prefix, 100)
		var keys []string
		for _, o := range objs {
			keys = append(keys, o.Key)
		}
		return keys, err
	}
	mustActiveModel(t, s, "Stable-diffusion", "base.safetensors")
	createDataset(t, s, testenv.As("admin"), "cats", "10_cats", map[string][]byte{"1.png": tinyPNG(t), "1.txt": []byte("a cat")})
	return s, f, clock
}

// smTrainingBody is trainingBody on SageMaker.
func smTrainingBody(output string) map[string]any {
	body := trainingBody(output)
	params(body, "training_params")["training_instance_type"] = "ml.g5.2xlarge"
	return body
}

// waitTrainingStatus waits for the training's job_status.
func waitTrainingStatus(t *testing.T, s *testenv.Server, id, want string) map[string]any {
	t.Helper()
	var got map[string]any
	waitFor(t, "training "+id+" "+want, func() bool {
		got = getTraining(t, s, testenv.As("admin"), id)
		return got["job_status"] == want
	})
	return got
}

// TestSageMakerTrainingCompletes: a training on an ml.* type writes ESD's
// parameter file, creates the training job as ESD does, reports each
// phase, and registers the LoRA the container wrote as a Lora checkpoint.
func TestSageMakerTrainingCompletes(t *testing.T) {
	t.Parallel()
	s, f, clock := sageMakerTrainingServer(t)
	admin := testenv.As("admin")
	id := createTraining(t, s, admin, smTrainingBody("sm_lora"))

	got := getTraining(t, s, admin, id)
	name, _ := got["sagemaker_train_name"].(string)
	if !regexp.MustCompile(`^kohya-\d{4}(-\d{2}){5}-\d{3}$`).MatchString(name) || got["job_status"] != "Starting" {
		t.Fatalf("sagemaker_train_name %q status %v, want kohya-YYYY-MM-DD-HH-MM-SS-mmm Starting", name, got["job_status"])
	}
	var param map[string]any
	if err := json.Unmarshal(readObject(t, s, "train/param-"+id+".json"), &param); err != nil {
		t.Fatal(err)
	}
	bucket := "s3://" + s.App.Blob.Bucket + "/"
	for key, want := range map[string]any{"id": id, "training_id": id, "training-type": "kohya",
		"sagemaker_program": "extensions/sd-webui-sagemaker/sagemaker_entrypoint_json.py",
		"s3-input-path":     bucket + "kohya/train/" + id + "/input", "s3-output-path": bucket + "Stable-diffusion/checkpoint/custom/" + id} {
		if param[key] != want {
			t.Errorf("param file %s = %v, want %v", key, param[key], want)
		}
	}
	if tp := param["params"].(map[string]any)["training_params"].(map[string]any); tp["s3_model_path"] == nil || tp["s3_data_path"] != bucket+"dataset/cats" {
		t.Errorf("param file params = %v, want the answered params with the S3 paths", param["params"])
	}
	calls := f.CallsTo("CreateTrainingJob")
	if len(calls) != 1 {
		t.Fatalf("got %d CreateTrainingJob calls, want 1", len(calls))
	}
	var in sagemaker.CreateTrainingJobInput
	if err := calls[0].Decode(&in); err != nil {
		t.Fatal(err)
	}
	if *in.TrainingJobName != name || *in.AlgorithmSpecification.TrainingImage != trainImage || *in.RoleArn != smRole ||
		string(in.ResourceConfig.InstanceType) != "ml.g5.2xlarge" || *in.ResourceConfig.InstanceCount != 1 ||
		*in.ResourceConfig.VolumeSizeInGB != 125 || in.HyperParameters["s3_location"] != bucket+"train/param-"+id+".json" ||
		*in.OutputDataConfig.S3OutputPath != bucket+"Stable-diffusion/checkpoint/custom/"+id {
		t.Errorf("CreateTrainingJob input = %s", calls[0].Input)
	}

	for _, status := range []string{"Starting", "Downloading", "Training", "Uploading"} {
		waitTrainingStatus(t, s, id, status)
		clock.Advance(time.Minute)
		if status == "Starting" {
			clock.Advance(time.Minute) // through LaunchingMLInstances
		}
	}
	done := waitTrainingStatus(t, s, id, "Completed")
	if logs, _ := done["logs"].([]any); len(logs) != 1 || logs[0].(map[string]any)["filename"] != "sm_lora.log" {
		t.Errorf("logs = %v, want the container's sm_lora.log", done["logs"])
	}
	var billable *int
	if err := s.App.Store.DB().QueryRow(t.Context(), `SELECT billable_seconds FROM trainings WHERE id = $1`, id).Scan(&billable); err != nil || billable == nil || *billable != 180 {
		t.Errorf("billable seconds = %v (%v), want 180 (three phases of a minute)", billable, err)
	}
	var lora map[string]any
	for _, c := range checkpointsOf(t, s, admin, "?types=Lora") {
		if c["name"].([]any)[0] == "sm_lora.safetensors" {
			lora = c
		}
	}
	if lora == nil || lora["status"] != "Active" || lora["s3Location"] != bucket+"Stable-diffusion/checkpoint/custom/"+id {
		t.Fatalf("registered LoRA = %v", lora)
	}
	if info := modelInfoOf(t, s, lora["id"].(string)); info.Kind != "Lora" || info.BaseName != "base.safetensors" || info.Format != modelfile.FormatSafetensors {
		t.Errorf("the trained LoRA's model info = %+v, want a Lora naming base.safetensors", info)
	}
}

// TestSageMakerTrainingFails: a container that cannot download the model
// fails the job; the reason reaches params.resp and nothing is registered.
func TestSageMakerTrainingFails(t *testing.T) {
	t.Parallel()
	s, _, clock := sageMakerTrainingServer(t)
	admin := testenv.As("admin")
	id := createTraining(t, s, admin, smTrainingBody("doomed"))
	ck := checkpointsOf(t, s, admin, "")
	key := strings.TrimPrefix(ck[0]["s3Location"].(string), "s3://"+s.App.Blob.Bucket+"/") + "/base.safetensors"
	if err := s.App.Blob.Delete(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	clock.Advance(3 * time.Minute)
	got := waitTrainingStatus(t, s, id, "Failed")
	resp, _ := got["params"].(map[string]any)["resp"].(map[string]any)
	if resp["status"] != "Failed" || !strings.Contains(resp["error_msg"].(string), "cannot download the model") {
		t.Errorf("params.resp = %v, want Failed with the container's reason", resp)
	}
	for _, c := range checkpointsOf(t, s, admin, "") {
		if c["name"].([]any)[0] == "doomed.safetensors" {
			t.Errorf("a failed training registered %v", c)
		}
	}
}

// TestSageMakerTrainingStoppedOnDelete: deleting a running training stops
// its job; the LoRA the job still uploads is not registered.
func TestSageMakerTrainingStoppedOnDelete(t *testing.T) {
	t.Parallel()
	s, f, clock := sageMakerTrainingServer(t)
	admin := testenv.As("admin")
	id := createTraining(t, s, admin, smTrainingBody("stopped_lora"))
	clock.Advance(3 * time.Minute)
	waitTrainingStatus(t, s, id, "Training")
	name := getTraining(t, s, admin, id)["sagemaker_train_name"].(string)
	s.MustCall(t, 204, "DELETE", "/trainings", admin, map[string]any{"training_id_list": []string{id}})
	stops := f.CallsTo("StopTrainingJob")
	if len(stops) != 1 || !strings.Contains(string(stops[0].Input), name) || stops[0].Err != "" {
		t.Fatalf("StopTrainingJob calls = %v, want one for %s", stops, name)
	}
	s.MustCall(t, 404, "GET", "/trainings/"+id, admin, nil)
	clock.Advance(10 * time.Minute)
	// The fake reports the job Stopped; the watch ends without registering.
	waitFor(t, "the watch to end", func() bool {
		var n int
		err := s.App.Store.DB().QueryRow(t.Context(), `SELECT count(*) FROM river_job WHERE kind = 'training_watch' AND state NOT IN ('completed', 'cancelled', 'discarded')`).Scan(&n)
		return err == nil && n == 0
	})
	for _, c := range checkpointsOf(t, s, admin, "") {
		if c["name"].([]any)[0] == "stopped_lora.safetensors" {
			t.Errorf("a deleted training registered %v", c)
		}
	}
}
