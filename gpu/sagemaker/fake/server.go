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
// Behind the runtime sits a stand-in for the ESD 1.4.0 inference
// container (container.go) that reads the request the way the container
// does and fails the way it does; behind CreateModel, SageMaker's own
// checks (names, the execution role, the model data object). Both read
// the bucket through ReadObject (by default an in-memory bucket filled
// with PutObject).
package fake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
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
		Caller:           "arn:aws:iam::" + Account + ":user/easel",
	}
	s.ts = httptest.NewServer(s)
	return s
}

// PutObject stores an object in the in-memory bucket.
func (s *Server) PutObject(key string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[key] = body
}

// Object returns an object of the in-memory bucket.
func (s *Server) Object(key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.objects[key]
	return b, ok
}

// readS3 reads an s3://bucket/key location as the container or SageMaker
// would.
func (s *Server) readS3(uri string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readS3Locked(uri)
}

// readS3Locked is readS3 with s.mu held.
func (s *Server) readS3Locked(uri string) ([]byte, error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	bucket, key, _ := strings.Cut(rest, "/")
	switch {
	case !ok || bucket == "" || key == "":
		return nil, fmt.Errorf("%q is not an s3://bucket/key location", uri)
	case s.Bucket != "" && bucket != s.Bucket:
		return nil, fmt.Errorf("NoSuchBucket: the bucket %s does not exist", bucket)
	case s.ReadObject != nil:
		return s.ReadObject(key)
	}
	if body, ok := s.objects[key]; ok {
		return body, nil
	}
	return nil, fmt.Errorf("NoSuchKey: %s does not exist", uri)
}

// writeS3 writes an object by key.
func (s *Server) writeS3(key string, body []byte) error {
	s.mu.Lock()
	write := s.WriteObject
	s.mu.Unlock()
	if write != nil {
		return write(key, body)
	}
	s.PutObject(key, body)
	return nil
}

// AddRole creates an IAM role SageMaker may assume (its trust policy
// allows sagemaker.amazonaws.com).
func (s *Server) AddRole(arn string) {
	s.SetRoleTrust(arn, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
}

// SetRoleTrust creates or changes a role with the given trust policy.
func (s *Server) SetRoleTrust(arn, trust string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[arn] = trust
}

// AddImage pushes an image to the fake ECR: an
// <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> URI.
func (s *Server) AddImage(uri string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.images[imageKey(uri)] = "sha256:" + strings.Repeat("ab", 32)
}

// Deny makes the policy simulation deny action to principal (an IAM
// user or role ARN); everything else is allowed.
func (s *Server) Deny(principal, action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[principal+" "+action] = true
}

// URL is the base endpoint to give the SDK clients.
func (s *Server) URL() string { return s.ts.URL }

// Close waits for pending async inferences and stops the server.
func (s *Server) Close() {
	s.pending.Wait()
	s.ts.Close()
}

// Calls returns every call received so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// CallsTo returns the calls of operation op.
func (s *Server) CallsTo(op string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// Throttle makes the next n calls of op ("" for any) fail with
// ThrottlingException (HTTP 400), as AWS does when rate limiting.
func (s *Server) Throttle(op string, n int) {
	s.FailNext(op, n, http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
}

// FailNext makes the next n calls of op ("" for any) fail with the given
// HTTP status, error code and message.
func (s *Server) FailNext(op string, n, status int, code, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inject = append(s.inject, &injection{op: op, code: code, msg: msg, status: status, n: n})
}

// State lists what the fake holds, each list sorted.
type State struct {
	Models, EndpointConfigs, Endpoints []string
	ScalableTargets                    []string // resource IDs
	ScalingPolicies                    []string // <resource ID>/<policy name>
	Alarms                             []string
}

// Empty reports whether nothing is left.
func (st State) Empty() bool {
	return len(st.Models)+len(st.EndpointConfigs)+len(st.Endpoints)+
		len(st.ScalableTargets)+len(st.ScalingPolicies)+len(st.Alarms) == 0
}

// State returns a snapshot of the fake's resources.
func (s *Server) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return State{
		Models: sortedKeys(s.models), EndpointConfigs: sortedKeys(s.configs),
		Endpoints: sortedKeys(s.endpoints), ScalableTargets: sortedKeys(s.targets),
		ScalingPolicies: sortedKeys(s.policies), Alarms: sortedKeys(s.alarms),
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// apiError is an error answer in the service's protocol.
type apiError struct {
	status    int
	code, msg string
	fields    map[string]any // extra members (ModelError)
}

func errorf(code, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, msg: msg}
}

// ServeHTTP routes a request to its service by protocol.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	switch {
	case strings.HasPrefix(target, "AmazonEC2ContainerRegistry_V20150921."):
		s.serveJSON(w, ECR, strings.TrimPrefix(target, "AmazonEC2ContainerRegistry_V20150921."), body, ecrOps)
	case target == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		s.serveQuery(w, body)
	case strings.HasPrefix(target, "SageMaker."):
		s.serveJSON(w, SageMaker, strings.TrimPrefix(target, "SageMaker."), body, sageMakerOps)
	case strings.HasPrefix(target, "AnyScaleFrontendService."):
		s.serveJSON(w, AutoScaling, strings.TrimPrefix(target, "AnyScaleFrontendService."), body, autoScalingOps)
	case strings.HasPrefix(r.URL.Path, "/service/GraniteServiceVersion20100801/operation/"):
		s.serveCBOR(w, strings.TrimPrefix(r.URL.Path, "/service/GraniteServiceVersion20100801/operation/"), body)
	case strings.HasPrefix(r.URL.Path, "/endpoints/"):
		s.serveRuntime(w, r, body)
	default:
		http.Error(w, "fake sagemaker: unknown request "+r.Method+" "+r.URL.Path, http.StatusNotFound)
	}
}

// record logs a call and returns the injected error for it, if any.
// s.mu must be held.
func (s *Server) record(service, op string, input json.RawMessage) *apiError {
	c := Call{Service: service, Op: op, Input: input}
	for i, inj := range s.inject {
		if inj.op != "" && inj.op != op {
			continue
		}
		if inj.n--; inj.n <= 0 {
			s.inject = slices.Delete(s.inject, i, i+1)
		}
		c.Err = inj.code
		s.calls = append(s.calls, c)
		return &apiError{status: inj.status, code: inj.code, msg: inj.msg}
	}
	s.calls = append(s.calls, c)
	return nil
}

// failed marks the last recorded call as answered with code.
func (s *Server) failed(code string) {
	s.calls[len(s.calls)-1].Err = code
}

type jsonOp func(s *Server, in json.RawMessage) (any, *apiError)

// serveJSON answers an awsJson1.1 call.
func (s *Server) serveJSON(w http.ResponseWriter, service, op string, body []byte, ops map[string]jsonOp) {
	if len(body) == 0 {
		body = []byte("{}")
	}
	s.mu.Lock()
	out, aerr := func() (any, *apiError) {
		if aerr := s.record(service, op, body); aerr != nil {
			return nil, aerr
		}
		h, ok := ops[op]
		if !ok {
			return nil, errorf("UnknownOperationException", "fake: "+service+"."+op+" is not implemented")
		}
		return h(s, body)
	}()
	if aerr != nil {
		s.failed(aerr.code)
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if aerr != nil {
		w.WriteHeader(aerr.status)
		_ = json.NewEncoder(w).Encode(map[string]any{"__type": aerr.code, "Message": aerr.msg})
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

// decode unmarshals a JSON input, answering a SerializationException when
// it does not fit.
func decode(in json.RawMessage, v any) *apiError {
	if err := json.Unmarshal(in, v); err != nil {
		return errorf("SerializationException", err.Error())
	}
	return nil
}
