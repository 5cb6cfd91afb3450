// Package gpu is where inference runs: the Backend interface and its
// implementations — sagemaker/ (Amazon SageMaker endpoints), webui/ (pools
// of AUTOMATIC1111-compatible servers) and sim/ (Easel's A1111 simulator,
// a test and demo tool).
package gpu

import (
	"context"
	"encoding/json"
	"errors"
)

// Endpoint types.
const (
	Async    = "Async"
	RealTime = "Real-time"
)

// Endpoint states reported by Status (ESD's endpoint_status values).
const (
	Creating  = "Creating"
	InService = "InService"
	Updating  = "Updating"
	Failed    = "Failed"
	Deleting  = "Deleting"
)

// Spec is an endpoint to deploy.
type Spec struct {
	Name          string // e.g. esd-async-1a2b3c4
	ID            string // ESD's EndpointDeploymentJobId (a UUID)
	Type          string // Async or Real-time
	InstanceType  string // ml.* or a pool name
	InstanceCount int
	// Autoscaling (Async only): scale between 0 and MaxInstances.
	Autoscaling  bool
	MaxInstances int
	// CustomImage overrides the inference image (SageMaker only).
	CustomImage string
	CreatedAt   string // ESD timestamp, passed to the container
}

// Status is what a backend says about a deployed endpoint.
type Status struct {
	State         string // one of the states above
	InstanceCount int
	// FailureReason says why, when State is Failed or members are unhealthy.
	FailureReason string
	// Simulator is true when the endpoint is served by easel sim-webui.
	Simulator bool
}

// Request is one inference as the ESD inference container receives it
// ({task, username, param_s3, models}) plus the parameters themselves,
// which WebUI pools are sent directly.
type Request struct {
	InferenceID string          `json:"-"`
	Task        string          `json:"task"`
	Username    string          `json:"username"`
	ParamS3     string          `json:"param_s3"`
	Models      Models          `json:"models"`
	Params      json.RawMessage `json:"-"`
}

// Result is what an inference produced, in A1111's shape: base64 images
// (an optional data-URL prefix is allowed), the parameters and the info
// JSON string.
type Result struct {
	Images     []string        `json:"images"`
	Parameters json.RawMessage `json:"parameters"`
	Info       string          `json:"info"`
	// Failure is set when the server answered with a success status but
	// not with a result: the WebUI's error JSON, or the ESD container's
	// null. It says what the server said.
	Failure string `json:"-"`
}

// Backend drives one kind of GPU capacity.
type Backend interface {
	// Deploy starts creating the endpoint; Status reports its progress.
	Deploy(ctx context.Context, spec Spec) error
	// Status returns the endpoint's state; ErrNotFound when it is gone.
	Status(ctx context.Context, name string) (Status, error)
	// Scale sets the desired number of instances.
	Scale(ctx context.Context, name string, count int) error
	// Delete tears down everything Deploy created; deleting what does not
	// exist is not an error.
	Delete(ctx context.Context, name string) error
	// Invoke runs one inference and waits for its result.
	Invoke(ctx context.Context, name string, req Request) (Result, error)
}

// NameValidator is a Backend with rules of its own for endpoint names
// (SageMaker's). ValidateName returns a sentence naming the problem.
type NameValidator interface {
	ValidateName(endpoint string) error
}

// AsyncBackend is a Backend with a queue of its own (SageMaker async
// endpoints): submit, then collect the result when it lands.
type AsyncBackend interface {
	Backend
	InvokeAsync(ctx context.Context, name string, req Request) (AsyncHandle, error)
	// FetchAsync returns done=false while the result is not there yet.
	FetchAsync(ctx context.Context, h AsyncHandle) (res Result, done bool, err error)
}

// AsyncHandle identifies a submitted async inference.
type AsyncHandle struct {
	Endpoint       string `json:"endpoint,omitempty"`
	InferenceID    string `json:"inference_id"`
	OutputLocation string `json:"output_location"` // s3://bucket/key of the result
	// FailureLocation is where the backend writes the error instead, as
	// it named it on submission (empty in handles stored before it was).
	FailureLocation string `json:"failure_location,omitempty"`
}

// ErrNotFound is returned by Status for an endpoint the backend does not have.
var ErrNotFound = errors.New("endpoint not found")

// TransientError marks a failure worth retrying (throttling, a member
// that timed out, 5xx).
type TransientError struct{ Err error }

func (e TransientError) Error() string { return e.Err.Error() }
func (e TransientError) Unwrap() error { return e.Err }

// IsTransient reports whether err is worth retrying.
func IsTransient(err error) bool {
	var t TransientError
	return errors.As(err, &t)
}
