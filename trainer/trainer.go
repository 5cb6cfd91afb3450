// Package trainer names what runs LoRA trainings: the Backend interface
// that SageMaker training jobs and worker pools implement, and the
// Reporter through which a backend tells the trainings core what
// happened. The core (actions.Trainings) owns the rows and the
// registration of results; backends only start, stop and report.
package trainer

import (
	"context"
	"encoding/json"
)

// Statuses of a training (CONTRACT-TRAINING §3): only these eight.
const (
	Initial     = "Initial"
	Starting    = "Starting"
	Downloading = "Downloading"
	Training    = "Training"
	Uploading   = "Uploading"
	Completed   = "Completed"
	Failed      = "Failed"
	Stopped     = "Stopped"
)

// Backend kinds, as stored in trainings.backend.
const (
	SageMaker = "sagemaker"
	Workers   = "workers"
)

// Job is one training as a backend needs it. Keys are object keys in
// Easel's bucket; S3 URIs are built by the backend where it needs them.
type Job struct {
	ID           string
	InstanceType string // ml.* or a worker pool name
	FMType       string // sd_1_5 or sd_xl
	OutputName   string // the LoRA becomes <OutputName>.safetensors
	// The base model.
	ModelKey    string // Stable-diffusion/checkpoint/custom/<ckpt-id>/<name>
	ModelName   string
	ModelSHA256 string
	// The dataset folder without the prefix (dataset/<name>) and its prefix.
	DatasetKey    string
	DatasetName   string
	DatasetPrefix string
	ConfigKey     string // kohya/train/<id>/input/kohya_config_cloud[_xl].toml
	InputPrefix   string // kohya/train/<id>/input/
	OutputPrefix  string // Stable-diffusion/checkpoint/custom/<id>/
	LogsPrefix    string // kohya/train/<id>/logs/
	// Params is the params object as POST /trainings answered it.
	Params json.RawMessage
}

// Backend starts and stops trainings of one kind.
type Backend interface {
	// Kind is SageMaker or Workers.
	Kind() string
	// Start hands the job to the backend and returns its job name
	// (sagemaker_train_name); "" when the name is only known later.
	Start(ctx context.Context, job Job) (jobName string, err error)
	// Stop asks the backend to stop the job; errors are reported, not fatal.
	Stop(ctx context.Context, id, jobName string) error
}

// Progress is what a running job reports.
type Progress struct {
	Status string  `json:"-"` // Downloading, Training or Uploading
	Epoch  int     `json:"epoch,omitempty"`
	Epochs int     `json:"epochs,omitempty"`
	Step   int     `json:"step,omitempty"`
	Steps  int     `json:"steps,omitempty"`
	Loss   float64 `json:"loss,omitempty"`
}

// Outcome is how a job ended.
type Outcome struct {
	Status string // Completed, Failed or Stopped
	Reason string // why, for Failed and Stopped
	// BillableSeconds is SageMaker's billable time, 0 when unknown.
	BillableSeconds int
}

// Reporter receives a backend's news about a training. News about a
// training that was deleted is ignored without error.
type Reporter interface {
	// Progress records status and progress of a running job (and a
	// point on the loss curve when Loss is set).
	Progress(ctx context.Context, id string, p Progress) error
	// Finish ends the job: on Completed it registers every object under
	// the output prefix as a Lora checkpoint and records the logs under
	// the logs prefix (CONTRACT-TRAINING §3.6); a Completed job that
	// produced nothing becomes Failed ("no model file produced").
	Finish(ctx context.Context, id string, o Outcome) error
}
