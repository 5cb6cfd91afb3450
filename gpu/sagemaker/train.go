package sagemaker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"easel/trainer"
)

// Training jobs as ESD 1.6.0 starts them (CONTRACT-TRAINING §3.7).
const (
	// TrainingVolumeGB is the training instance's volume.
	TrainingVolumeGB = 125
	// TrainingMaxRuntime is the SageMaker Python SDK's default max_run.
	TrainingMaxRuntime = 24 * 60 * 60
	// TrainingProgram is the entry point the ESD training image runs.
	TrainingProgram = "extensions/sd-webui-sagemaker/sagemaker_entrypoint_json.py"
)

// Trainer runs kohya LoRA trainings as SageMaker training jobs of the ESD
// training image. It implements trainer.Backend; Watch is called once a
// job is created, to follow it (Easel polls DescribeTrainingJob from River
// where ESD listened to EventBridge).
type Trainer struct {
	b     *Backend
	image string
	watch func(ctx context.Context, id, jobName string) error
	now   func() time.Time
}

var _ trainer.Backend = (*Trainer)(nil)

// Trainer returns the training backend of b for image (EASEL_TRAIN_IMAGE).
func (b *Backend) Trainer(image string, watch func(ctx context.Context, id, jobName string) error) *Trainer {
	return &Trainer{b: b, image: image, watch: watch, now: time.Now}
}

// Kind is trainer.SageMaker.
func (t *Trainer) Kind() string { return trainer.SageMaker }

// TrainingJobName is the SageMaker SDK's name_from_base("kohya"):
// kohya-YYYY-MM-DD-HH-MM-SS-mmm in UTC.
func TrainingJobName(at time.Time) string {
	return "kohya-" + at.UTC().Format("2006-01-02-15-04-05.000")[:len("2006-01-02-15-04-05")] +
		"-" + at.UTC().Format(".000")[1:]
}

// ParamKey is the key of a training's parameter file.
func ParamKey(id string) string { return "train/param-" + id + ".json" }

// Start writes the parameter file the training image reads, creates the
// training job and hands it to Watch. A job the store or SageMaker refuses
// is an error naming why.
func (t *Trainer) Start(ctx context.Context, job trainer.Job) (string, error) {
	if t.b.store == nil {
		return "", errors.New("sagemaker: no object store for training parameters")
	}
	in, out := t.b.s3URI(strings.TrimSuffix(job.InputPrefix, "/")), t.b.s3URI(strings.TrimSuffix(job.OutputPrefix, "/"))
	param, err := json.Marshal(map[string]any{
		"id": job.ID, "training_id": job.ID, "sagemaker_program": TrainingProgram, "params": job.Params,
		"s3-input-path": in, "s3-output-path": out, "training-type": "kohya",
	})
	if err != nil {
		return "", err
	}
	if err := t.b.store.Put(ctx, ParamKey(job.ID), param, "application/json"); err != nil {
		return "", fmt.Errorf("write the training parameters: %w", err)
	}
	at := t.now()
	for attempt := 0; ; attempt++ {
		name := TrainingJobName(at)
		_, err := t.b.sm.CreateTrainingJob(ctx, &sagemaker.CreateTrainingJobInput{
			TrainingJobName: aws.String(name),
			AlgorithmSpecification: &types.AlgorithmSpecification{TrainingImage: aws.String(t.image),
				TrainingInputMode: types.TrainingInputModeFile},
			RoleArn:           aws.String(t.b.cfg.RoleARN),
			ResourceConfig:    &types.ResourceConfig{InstanceType: types.TrainingInstanceType(job.InstanceType), InstanceCount: aws.Int32(1), VolumeSizeInGB: aws.Int32(TrainingVolumeGB)},
			StoppingCondition: &types.StoppingCondition{MaxRuntimeInSeconds: aws.Int32(TrainingMaxRuntime)},
			OutputDataConfig:  &types.OutputDataConfig{S3OutputPath: aws.String(out)},
			HyperParameters:   map[string]string{"s3_location": t.b.s3URI(ParamKey(job.ID))},
		})
		if err == nil {
			if t.watch != nil {
				if err := t.watch(ctx, job.ID, name); err != nil {
					t.stopQuietly(ctx, name)
					return "", fmt.Errorf("follow training job %s: %w", name, err)
				}
			}
			return name, nil
		}
		// Two starts in one millisecond share a name: take the next one.
		if code(err) == "ResourceInUse" && attempt < 3 {
			at = at.Add(time.Millisecond)
			continue
		}
		return "", fmt.Errorf("SageMaker refused the training job: %s", awsText(err))
	}
}

func (t *Trainer) stopQuietly(ctx context.Context, name string) {
	_, _ = t.b.sm.StopTrainingJob(context.WithoutCancel(ctx), &sagemaker.StopTrainingJobInput{TrainingJobName: aws.String(name)})
}

// Stop asks SageMaker to stop the job; a job that has ended already is
// not an error.
func (t *Trainer) Stop(ctx context.Context, _, jobName string) error {
	if jobName == "" {
		return nil
	}
	_, err := t.b.sm.StopTrainingJob(ctx, &sagemaker.StopTrainingJobInput{TrainingJobName: aws.String(jobName)})
	if err != nil && code(err) != "ValidationException" {
		return fmt.Errorf("stop training job %s: %w", jobName, err)
	}
	return nil
}

// TrainingState is a training job as DescribeTrainingJob reports it, in
// the eight statuses of CONTRACT-TRAINING §3.
type TrainingState struct {
	// Status is one of trainer's statuses; Raw is SageMaker's secondary
	// status behind it.
	Status, Raw string
	// Reason is FailureReason, or why the job stopped.
	Reason          string
	BillableSeconds int
}

// Ended reports whether the job has ended.
func (s TrainingState) Ended() bool { return !trainer.Running(s.Status) }

// Describe returns the state of the training job name. A job SageMaker
// does not know is Failed (it cannot come back).
func (t *Trainer) Describe(ctx context.Context, name string) (TrainingState, error) {
	out, err := t.b.sm.DescribeTrainingJob(ctx, &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String(name)})
	if err != nil {
		if code(err) == "ValidationException" && strings.Contains(awsText(err), "not found") {
			return TrainingState{Status: trainer.Failed, Reason: "SageMaker does not know the training job " + name}, nil
		}
		return TrainingState{}, fmt.Errorf("describe training job %s: %w", name, err)
	}
	s := TrainingState{Status: MapTrainingStatus(string(out.TrainingJobStatus), string(out.SecondaryStatus)),
		Raw: string(out.SecondaryStatus), Reason: aws.ToString(out.FailureReason),
		BillableSeconds: int(aws.ToInt32(out.BillableTimeInSeconds))}
	if s.Status == trainer.Stopped && s.Reason == "" {
		s.Reason = "training stopped"
	}
	if s.Status == trainer.Failed && s.Reason == "" {
		s.Reason = "SageMaker ended the job: " + string(out.SecondaryStatus)
	}
	return s, nil
}

// MapTrainingStatus maps TrainingJobStatus and SecondaryStatus to the
// eight statuses: the primary status decides an ended job (Stopping is
// still running until Stopped; a job stopped at a limit or interrupted is
// Failed); a running one is its secondary status.
func MapTrainingStatus(status, secondary string) string {
	switch types.TrainingJobStatus(status) {
	case types.TrainingJobStatusCompleted:
		return trainer.Completed
	case types.TrainingJobStatusFailed:
		return trainer.Failed
	case types.TrainingJobStatusStopped:
		// SageMaker stops a job at its limits; only a stop asked for is Stopped.
		switch types.SecondaryStatus(secondary) {
		case types.SecondaryStatusMaxRuntimeExceeded, types.SecondaryStatusMaxWaitTimeExceeded, types.SecondaryStatusInterrupted:
			return trainer.Failed
		}
		return trainer.Stopped
	}
	switch types.SecondaryStatus(secondary) {
	case types.SecondaryStatusDownloading, types.SecondaryStatusDownloadingTrainingImage:
		return trainer.Downloading
	case types.SecondaryStatusTraining, types.SecondaryStatusUpdating:
		return trainer.Training
	case types.SecondaryStatusUploading:
		return trainer.Uploading
	case types.SecondaryStatusStopping:
		// Still running until Stopped: keep it where a running job is.
		return trainer.Training
	}
	return trainer.Starting
}

func code(err error) string {
	c, _ := apiError(err)
	return c
}

// awsText is an AWS error as "<Code>: <Message>", as ESD reports it.
func awsText(err error) string {
	if c, m := apiError(err); c != "" {
		return c + ": " + m
	}
	return err.Error()
}
