package sagemaker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"easel/gpu/sagemaker"
	"easel/gpu/sagemaker/fake"
	"easel/modelfile"
	"easel/trainer"
)

const trainImage = "123456789012.dkr.ecr.us-east-1.amazonaws.com/esd-training:1.6.0"

// memStore is the fake's in-memory bucket as the backend's object store.
type memStore struct{ f *fake.Server }

func (m *memStore) Put(_ context.Context, key string, body []byte, _ string) error {
	m.f.PutObject(key, body)
	return nil
}

func (m *memStore) Get(_ context.Context, key string) (io.ReadCloser, error) {
	b, ok := m.f.Object(key)
	if !ok {
		return nil, errors.New("NoSuchKey")
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// trainingFake is a fake with the base model and a dataset in its bucket,
// a phase per minute of a test clock, and a Trainer that records watches.
func trainingFake(t *testing.T) (*fake.Server, *sagemaker.Trainer, *clock, *[]string) {
	t.Helper()
	st := &memStore{}
	f, b := newBackend(t, testBucket, st)
	st.f = f
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	f.Now, f.TrainingPhase = c.now, time.Minute
	f.PutObject("Stable-diffusion/checkpoint/custom/m1/base.safetensors", []byte("weights"))
	f.PutObject("dataset/cats/10_cats/1.png", []byte("png"))
	var watched []string
	tr := b.Trainer(trainImage, func(_ context.Context, id, name string) error {
		watched = append(watched, id+" "+name)
		return nil
	})
	return f, tr, c, &watched
}

func trainingJob(id, dataset string) trainer.Job {
	params, _ := json.Marshal(map[string]any{
		"training_params": map[string]any{"training_instance_type": "ml.g5.2xlarge", "fm_type": "sd_1_5",
			"s3_model_path": "s3://" + testBucket + "/Stable-diffusion/checkpoint/custom/m1/base.safetensors",
			"s3_data_path":  "s3://" + testBucket + "/dataset/" + dataset},
		"config_params": map[string]any{"output_name": "out_" + id[:4], "save_every_n_epochs": 1, "max_train_epochs": 1},
	})
	return trainer.Job{ID: id, InstanceType: "ml.g5.2xlarge", OutputName: "out_" + id[:4],
		InputPrefix: "kohya/train/" + id + "/input/", OutputPrefix: "Stable-diffusion/checkpoint/custom/" + id + "/",
		LogsPrefix: "kohya/train/" + id + "/logs/", Params: params}
}

func describe(t *testing.T, tr *sagemaker.Trainer, name string) sagemaker.TrainingState {
	t.Helper()
	st, err := tr.Describe(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestFakeTrainingJobCompletes walks a job through its phases; the fake
// container writes a LoRA the library reads and a log, and SageMaker
// bills the time after the instance launched.
func TestFakeTrainingJobCompletes(t *testing.T) {
	f, tr, c, watched := trainingFake(t)
	id := "0b7e6a52-2f4c-4c1e-9d0a-5a3e0e7f1c11"
	name, err := tr.Start(context.Background(), trainingJob(id, "cats"))
	if err != nil {
		t.Fatal(err)
	}
	if len(*watched) != 1 || (*watched)[0] != id+" "+name {
		t.Errorf("watched %v, want %s %s", *watched, id, name)
	}
	if _, ok := f.Object("train/param-" + id + ".json"); !ok {
		t.Error("no parameter file written")
	}
	for _, want := range []string{trainer.Starting, trainer.Starting, trainer.Downloading, trainer.Training, trainer.Uploading, trainer.Completed} {
		if st := describe(t, tr, name); st.Status != want {
			t.Errorf("at %v: status %s (%s), want %s", c.now(), st.Status, st.Raw, want)
		}
		c.advance(time.Minute)
	}
	st := describe(t, tr, name)
	if st.BillableSeconds != 180 || st.Reason != "" {
		t.Errorf("completed job: %+v, want 180 billable seconds and no reason", st)
	}
	lora, ok := f.Object("Stable-diffusion/checkpoint/custom/" + id + "/out_0b7e.safetensors")
	if !ok {
		t.Fatal("the container wrote no LoRA")
	}
	info, err := modelfile.Inspect(bytes.NewReader(lora), int64(len(lora)), "out_0b7e.safetensors")
	if err != nil || info.Kind != "Lora" || info.BaseName != "base.safetensors" {
		t.Errorf("the container's LoRA reads as %+v, %v", info, err)
	}
	if _, ok := f.Object("kohya/train/" + id + "/logs/out_0b7e.log"); !ok {
		t.Error("the container wrote no log")
	}
}

// TestFakeTrainingJobFailsWithoutInputs: the container fails the job when
// the dataset has no objects, as its download step does.
func TestFakeTrainingJobFailsWithoutInputs(t *testing.T) {
	_, tr, c, _ := trainingFake(t)
	name, err := tr.Start(context.Background(), trainingJob("1c2d3e4f-0000-4000-8000-000000000001", "dogs"))
	if err != nil {
		t.Fatal(err)
	}
	c.advance(3 * time.Minute)
	st := describe(t, tr, name)
	if st.Status != trainer.Failed || !strings.Contains(st.Reason, "no training data under s3://"+testBucket+"/dataset/dogs") {
		t.Errorf("got %+v, want Failed for the missing dataset", st)
	}
}

// TestFakeTrainingJobStops: Stop turns a running job Stopping, then Stopped.
func TestFakeTrainingJobStops(t *testing.T) {
	f, tr, c, _ := trainingFake(t)
	name, err := tr.Start(context.Background(), trainingJob("2c2d3e4f-0000-4000-8000-000000000002", "cats"))
	if err != nil {
		t.Fatal(err)
	}
	c.advance(3 * time.Minute)
	if err := tr.Stop(context.Background(), "", name); err != nil {
		t.Fatal(err)
	}
	if st := describe(t, tr, name); st.Status != trainer.Training || st.Raw != "Stopping" {
		t.Errorf("just stopped: %+v, want still running (Stopping)", st)
	}
	c.advance(time.Minute)
	if st := describe(t, tr, name); st.Status != trainer.Stopped {
		t.Errorf("a minute later: %+v, want Stopped", st)
	}
	if err := tr.Stop(context.Background(), "", name); err != nil {
		t.Errorf("stopping an ended job: %v, want no error", err)
	}
	if len(f.CallsTo("StopTrainingJob")) != 2 {
		t.Errorf("got %d StopTrainingJob calls, want 2", len(f.CallsTo("StopTrainingJob")))
	}
}

// TestFakeTrainingJobRefusals: the fake refuses what SageMaker refuses.
func TestFakeTrainingJobRefusals(t *testing.T) {
	f, _, _, _ := trainingFake(t)
	sm := controlClient(t, f)
	ctx := context.Background()
	valid := func(name string) *awssm.CreateTrainingJobInput {
		return &awssm.CreateTrainingJobInput{TrainingJobName: aws.String(name), RoleArn: aws.String(testRole),
			AlgorithmSpecification: &types.AlgorithmSpecification{TrainingImage: aws.String(trainImage), TrainingInputMode: types.TrainingInputModeFile},
			ResourceConfig:         &types.ResourceConfig{InstanceType: "ml.g5.2xlarge", InstanceCount: aws.Int32(1), VolumeSizeInGB: aws.Int32(125)},
			StoppingCondition:      &types.StoppingCondition{MaxRuntimeInSeconds: aws.Int32(86400)},
			OutputDataConfig:       &types.OutputDataConfig{S3OutputPath: aws.String("s3://" + testBucket + "/out")}}
	}
	if _, err := sm.CreateTrainingJob(ctx, valid("kohya-1")); err != nil {
		t.Fatal(err)
	}
	otherRole := valid("kohya-4")
	otherRole.RoleArn = aws.String("arn:aws:iam::123456789012:role/nobody")
	for _, c := range []struct {
		name string
		in   *awssm.CreateTrainingJobInput
		want string
	}{
		{"duplicate", valid("kohya-1"), "ResourceInUse"},
		{"bad name", valid("kohya_1"), "regular expression pattern"},
		{"long name", valid(strings.Repeat("k", 64)), "length less than or equal to 63"},
		{"unknown role", otherRole, "Could not assume role"},
	} {
		if _, err := sm.CreateTrainingJob(ctx, c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error with %q", c.name, err, c.want)
		}
	}
	if _, err := sm.DescribeTrainingJob(ctx, &awssm.DescribeTrainingJobInput{TrainingJobName: aws.String("nope")}); err == nil ||
		!strings.Contains(err.Error(), "Requested resource not found") {
		t.Errorf("describe unknown: %v", err)
	}
	if _, err := sm.StopTrainingJob(ctx, &awssm.StopTrainingJobInput{TrainingJobName: aws.String("nope")}); err == nil ||
		!strings.Contains(err.Error(), "Requested resource not found") {
		t.Errorf("stop unknown: %v", err)
	}
	// What the SDK checks before sending, the fake checks too (other
	// clients send anything).
	for member, body := range map[string]string{
		"roleArn":                       `{"TrainingJobName":"kohya-5","OutputDataConfig":{"S3OutputPath":"s3://b/o"}}`,
		"outputDataConfig.s3OutputPath": `{"TrainingJobName":"kohya-6","RoleArn":"` + testRole + `"}`,
		"trainingJobName":               `{}`,
	} {
		req, _ := http.NewRequest(http.MethodPost, f.URL(), strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "SageMaker.CreateTrainingJob")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 400 || !strings.Contains(string(answer), "ValidationException") || !strings.Contains(string(answer), "'"+member+"'") {
			t.Errorf("without %s: %d %s", member, res.StatusCode, answer)
		}
	}
	if got := f.TrainingJobs(); len(got) != 1 || got[0] != "kohya-1" {
		t.Errorf("jobs = %v, want only kohya-1", got)
	}
}
