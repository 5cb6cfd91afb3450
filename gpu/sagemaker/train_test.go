package sagemaker_test

import (
	"testing"
	"time"

	"easel/gpu/sagemaker"
	"easel/trainer"
)

func TestTrainingJobName(t *testing.T) {
	at := time.Date(2024, 6, 13, 8, 21, 52, 123456789, time.FixedZone("CEST", 2*60*60))
	if got, want := sagemaker.TrainingJobName(at), "kohya-2024-06-13-06-21-52-123"; got != want {
		t.Errorf("TrainingJobName(%v) = %q, want %q", at, got, want)
	}
}

func TestMapTrainingStatus(t *testing.T) {
	for _, c := range []struct{ status, secondary, want string }{
		{"InProgress", "Starting", trainer.Starting},
		{"InProgress", "LaunchingMLInstances", trainer.Starting},
		{"InProgress", "PreparingTrainingStack", trainer.Starting},
		{"InProgress", "Pending", trainer.Starting},
		{"InProgress", "Restarting", trainer.Starting},
		{"InProgress", "DownloadingTrainingImage", trainer.Downloading},
		{"InProgress", "Downloading", trainer.Downloading},
		{"InProgress", "Training", trainer.Training},
		{"InProgress", "Updating", trainer.Training},
		{"InProgress", "Uploading", trainer.Uploading},
		{"Stopping", "Stopping", trainer.Training},
		{"Completed", "Completed", trainer.Completed},
		{"Failed", "Failed", trainer.Failed},
		{"Failed", "MaxRuntimeExceeded", trainer.Failed},
		{"Stopped", "MaxRuntimeExceeded", trainer.Failed},
		{"Stopped", "MaxWaitTimeExceeded", trainer.Failed},
		{"Stopped", "Interrupted", trainer.Failed},
		{"Stopped", "Stopped", trainer.Stopped},
	} {
		if got := sagemaker.MapTrainingStatus(c.status, c.secondary); got != c.want {
			t.Errorf("MapTrainingStatus(%s, %s) = %s, want %s", c.status, c.secondary, got, c.want)
		}
	}
}
