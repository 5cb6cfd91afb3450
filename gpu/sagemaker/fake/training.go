package fake

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// trainingJob is one training job; its status is a function of the
// fake's clock since it was created (or stopped).
type trainingJob struct {
	name     string
	input    json.RawMessage
	in       trainingIn
	created  time.Time
	stopped  time.Time // zero unless StopTrainingJob was called while running
	status   string    // once ended: Completed, Failed or Stopped
	reason   string
	ended    time.Time
	checked  bool // the container has read its inputs
	uploaded bool // the container has written its outputs
}

type trainingIn struct {
	TrainingJobName        string
	RoleArn                string
	AlgorithmSpecification *struct{ TrainingImage, AlgorithmName, TrainingInputMode string }
	ResourceConfig         *struct {
		InstanceType                  string
		InstanceCount, VolumeSizeInGB int
	}
	StoppingCondition *struct{ MaxRuntimeInSeconds int }
	OutputDataConfig  *struct{ S3OutputPath string }
	HyperParameters   map[string]string
}

// trainingPhases are the secondary statuses of a running job, one
// TrainingPhase each.
var trainingPhases = []string{"Starting", "LaunchingMLInstances", "Downloading", "Training", "Uploading"}

func missing(member string) *apiError {
	return errorf("ValidationException", fmt.Sprintf("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member))
}

func trainingNotFound() *apiError {
	return errorf("ValidationException", "Requested resource not found.")
}

// createTrainingJob checks what SageMaker checks before it accepts a job.
func createTrainingJob(s *Server, in json.RawMessage) (any, *apiError) {
	var v trainingIn
	if err := decode(in, &v); err != nil {
		return nil, err
	}
	switch {
	case v.TrainingJobName == "":
		return nil, missing("trainingJobName")
	case v.RoleArn == "":
		return nil, missing("roleArn")
	case v.OutputDataConfig == nil || v.OutputDataConfig.S3OutputPath == "":
		return nil, missing("outputDataConfig.s3OutputPath")
	case v.AlgorithmSpecification == nil || v.AlgorithmSpecification.TrainingImage == "" && v.AlgorithmSpecification.AlgorithmName == "":
		return nil, errorf("ValidationException", "Either TrainingImage or AlgorithmName must be specified in AlgorithmSpecification.")
	case v.ResourceConfig == nil || v.ResourceConfig.InstanceType == "":
		return nil, missing("resourceConfig.instanceType")
	case v.ResourceConfig.InstanceCount < 1 || v.ResourceConfig.VolumeSizeInGB < 1:
		return nil, errorf("ValidationException", "1 validation error detected: Value '0' at 'resourceConfig.instanceCount' failed to satisfy constraint: Member must have value greater than or equal to 1")
	case v.StoppingCondition == nil:
		return nil, missing("stoppingCondition")
	}
	if err := checkName("trainingJobName", v.TrainingJobName); err != nil {
		return nil, err
	}
	if _, ok := s.trainings[v.TrainingJobName]; ok {
		return nil, errorf("ResourceInUse", fmt.Sprintf("Training job names must be unique within an AWS account and region, "+
			"and a training job with this name already exists (%s)", arn("training-job", v.TrainingJobName)))
	}
	if trust, ok := s.roles[v.RoleArn]; !ok || !strings.Contains(trust, "sagemaker.amazonaws.com") {
		return nil, errorf("ValidationException", fmt.Sprintf("Could not assume role %s. Please ensure that the role exists "+
			"and allows principal 'sagemaker.amazonaws.com' to assume the role.", v.RoleArn))
	}
	s.trainings[v.TrainingJobName] = &trainingJob{name: v.TrainingJobName, input: in, in: v, created: s.Now()}
	return map[string]any{"TrainingJobArn": arn("training-job", v.TrainingJobName)}, nil
}

func describeTrainingJob(s *Server, in json.RawMessage) (any, *apiError) {
	var v struct{ TrainingJobName string }
	if err := decode(in, &v); err != nil {
		return nil, err
	}
	j, ok := s.trainings[v.TrainingJobName]
	if !ok {
		return nil, trainingNotFound()
	}
	status, secondary := s.advanceTraining(j)
	out := map[string]any{}
	_ = json.Unmarshal(j.input, &out)
	out["TrainingJobArn"] = arn("training-job", j.name)
	out["TrainingJobStatus"], out["SecondaryStatus"] = status, secondary
	out["CreationTime"] = float64(j.created.UnixMilli()) / 1000
	if j.reason != "" {
		out["FailureReason"] = j.reason
	}
	if !j.ended.IsZero() {
		out["TrainingEndTime"] = float64(j.ended.UnixMilli()) / 1000
		out["BillableTimeInSeconds"] = max(1, int(j.ended.Sub(j.created.Add(2*s.TrainingPhase)).Seconds()))
	}
	if status == "Completed" {
		out["ModelArtifacts"] = map[string]any{"S3ModelArtifacts": j.in.OutputDataConfig.S3OutputPath + "/" + j.name + "/output/model.tar.gz"}
	}
	return out, nil
}

func stopTrainingJob(s *Server, in json.RawMessage) (any, *apiError) {
	var v struct{ TrainingJobName string }
	if err := decode(in, &v); err != nil {
		return nil, err
	}
	j, ok := s.trainings[v.TrainingJobName]
	if !ok {
		return nil, trainingNotFound()
	}
	if status, _ := s.advanceTraining(j); status != "InProgress" {
		return nil, errorf("ValidationException", fmt.Sprintf("The request was rejected because the training job is in status %s.", status))
	}
	j.stopped = s.Now()
	return struct{}{}, nil
}

// advanceTraining brings j to the fake's clock, running the container's steps it
// has passed, and returns TrainingJobStatus and SecondaryStatus.
func (s *Server) advanceTraining(j *trainingJob) (string, string) {
	if j.status != "" {
		return j.status, j.status
	}
	now, phase := s.Now(), s.TrainingPhase
	if !j.stopped.IsZero() {
		if now.Sub(j.stopped) < phase {
			return "InProgress", "Stopping"
		}
		j.status, j.reason, j.ended = "Stopped", "", j.stopped.Add(phase)
		return j.status, j.status
	}
	k := int(now.Sub(j.created) / phase)
	if k >= 3 && !j.checked {
		j.checked = true
		if reason := s.containerReads(j); reason != "" {
			j.status, j.reason, j.ended = "Failed", reason, j.created.Add(3*phase)
			return j.status, j.status
		}
	}
	if k >= len(trainingPhases) && !j.uploaded {
		j.uploaded = true
		if reason := s.containerWrites(j); reason != "" {
			j.status, j.reason, j.ended = "Failed", reason, j.created.Add(time.Duration(len(trainingPhases))*phase)
			return j.status, j.status
		}
	}
	if k >= len(trainingPhases) {
		j.status, j.ended = "Completed", j.created.Add(time.Duration(len(trainingPhases))*phase)
		return j.status, j.status
	}
	return "InProgress", trainingPhases[k]
}

// TrainingJobs lists the names of the training jobs the fake holds.
func (s *Server) TrainingJobs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedKeys(s.trainings)
}
