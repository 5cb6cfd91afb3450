// Package fake is an in-process stand-in for the AWS services Easel's
// SageMaker backend drives: the SageMaker control plane (awsJson1.1),
// SageMaker Runtime (restJson1), Application Auto Scaling (awsJson1.1),
// the CloudWatch alarm calls (rpcv2Cbor), and the read-only ECR, IAM and
// STS calls of the prerequisite check (awsJson1.1, awsQuery). It speaks
// their wire protocols, so the real AWS SDK clients work against it once
// their BaseEndpoint points at Server.URL.
//
// It keeps models, endpoint configs, endpoints, scalable targets, scaling
// policies and alarms in memory, records every call, and can inject
// throttling or any other error.
//
// Behind CreateTrainingJob sits a stand-in for the ESD training container
// (training_container.go): it reads the parameter file, fails without the
// model or the dataset, and writes the LoRA and a log as kohya would.
//
// Behind the runtime sits a stand-in for the ESD 1.4.0 inference
// container (container.go) that reads the request the way the container
// does and fails the way it does; behind CreateModel, SageMaker's own
// checks (names, the execution role, the model data object). Both read
// the bucket through ReadObject (by default an in-memory bucket filled
// with PutObject).
package fake

import (
	"encoding/json"
	"net/http/httptest"
	"sync"
	"time"
)

// Account and Region appear in the ARNs the fake hands out.
const (
	Account = "123456789012"
	Region  = "us-east-1"
)

// Service names used in Call.Service.
const (
	SageMaker   = "SageMaker"
	AutoScaling = "ApplicationAutoScaling"
	CloudWatch  = "CloudWatch"
	Runtime     = "SageMakerRuntime"
	ECR         = "ECR"
	IAM         = "IAM"
	STS         = "STS"
)

// Call is one request the fake received.
type Call struct {
	Service string
	Op      string // e.g. CreateEndpoint, InvokeEndpointAsync
	// Input is the request as JSON: the body for the JSON protocols, the
	// CBOR body converted to JSON for CloudWatch, and for the runtime
	// {EndpointName, ContentType, Accept, InferenceId, InputLocation, Body}.
	Input json.RawMessage
	// Err is the error code the fake answered with ("" on success).
	Err string
	// Log is what the inference container logged when it failed (the
	// cause behind a null answer), "" otherwise.
	Log string
}

// Decode unmarshals the call's input into v (an SDK input struct works:
// its field names are the wire member names).
func (c Call) Decode(v any) error { return json.Unmarshal(c.Input, v) }

// Server is the fake. Set its exported fields before the first request.
type Server struct {
	// ReadyAfter is how many DescribeEndpoint calls see a new or updating
	// endpoint still Creating/Updating before it settles (default 1).
	ReadyAfter int
	// ReadyDelay, when positive, settles endpoints by elapsed time instead.
	ReadyDelay time.Duration
	// FailInstanceType is the instance type whose endpoints end Failed
	// (default "ml.fail.xlarge"), with FailureReason.
	FailInstanceType string
	FailureReason    string
	// AsyncDelay is how long an async inference takes before its output
	// object is written.
	AsyncDelay time.Duration
	// Invoke is the WebUI inside the container: it gets the request body
	// once the container has read it like ESD's does (models fetched,
	// parameters read) and returns the container's answer with HTTP 200
	// (AnswerNull and AnswerWebUIError answer like a failing one). An
	// error is a container that crashed: a ModelError (real-time) or a
	// failure object (async). Default: DefaultInvoke.
	Invoke func(endpoint string, body []byte) ([]byte, error)
	// Bucket, when set, is the only bucket s3:// locations may name;
	// others read as missing.
	Bucket string
	// ReadObject reads an object of the bucket by key (async inputs,
	// parameter files, models, model data); an error means it cannot be
	// read. Default: the in-memory bucket.
	ReadObject func(key string) ([]byte, error)
	// WriteObject stores async output and failure objects by key.
	// Default: the in-memory bucket.
	WriteObject func(key string, body []byte) error
	// Caller is the ARN of the identity calling, as STS reports it.
	Caller string
	// Now is the fake's clock, which training jobs walk their statuses
	// by (default time.Now); TrainingPhase is how long each phase lasts
	// (default 1s): Starting, LaunchingMLInstances, Downloading, Training,
	// Uploading, then Completed; Stopping before Stopped.
	Now           func() time.Time
	TrainingPhase time.Duration
	// ListObjects lists the keys under a prefix of the bucket, as the
	// training container sees its dataset (default: the in-memory bucket).
	ListObjects func(prefix string) ([]string, error)

	ts      *httptest.Server
	pending sync.WaitGroup

	mu        sync.Mutex
	calls     []Call
	inject    []*injection
	models    map[string]json.RawMessage
	configs   map[string]*endpointConfig
	endpoints map[string]*endpoint
	targets   map[string]json.RawMessage // by ResourceId
	policies  map[string]string          // resourceId/policyName → ARN
	alarms    map[string]json.RawMessage
	objects   map[string][]byte // the in-memory bucket
	roles     map[string]string // role ARN → trust policy
	images    map[string]string // repository:tag → digest
	denied    map[string]bool   // principal ARN + " " + action
	trainings map[string]*trainingJob
}

type injection struct {
	op, code, msg string
	status, n     int
}

// New starts a fake on a local httptest server; Close stops it.
func New() *Server {
	s := &Server{
		ReadyAfter:       1,
		FailInstanceType: "ml.fail.xlarge",
		FailureReason:    "Image size 15136109518 is greater than supported size 10737418240",
		Invoke:           DefaultInvoke,
		models:           map[string]json.RawMessage{},
		configs:          map[string]*endpointConfig{},
		endpoints:        map[string]*endpoint{},
		targets:          map[string]json.RawMessage{},
		policies:         map[string]string{},
		alarms:           map[string]json.RawMessage{},
		objects:          map[string][]byte{},
		roles:            map[string]string{},
		images:           map[string]string{},
		denied:           map[string]bool{},
		trainings:        map[string]*trainingJob{},
		Now:              time.Now,
		TrainingPhase:    time.Second,
		Caller:           "arn:aws:iam::" + Account + ":user/easel",
	}
	s.ts = httptest.NewServer(s)
	return s
}

// URL is the base endpoint to give the SDK clients.
func (s *Server) URL() string { return s.ts.URL }

// Close waits for pending async inferences and stops the server.
func (s *Server) Close() {
	s.pending.Wait()
	s.ts.Close()
}
