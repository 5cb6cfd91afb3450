// Package fake is an in-process stand-in for the AWS services Easel's
// SageMaker backend drives: the SageMaker control plane (awsJson1.1),
// SageMaker Runtime (restJson1), Application Auto Scaling (awsJson1.1)
// and the CloudWatch alarm calls (rpcv2Cbor). It speaks their wire
// protocols, so the real AWS SDK clients work against it once their
// BaseEndpoint points at Server.URL.
//
// It keeps models, endpoint configs, endpoints, scalable targets, scaling
// policies and alarms in memory, records every call, and can inject
// throttling or any other error.
package fake

import (
	"encoding/json"
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
	// Invoke produces an inference's response body from its request body;
	// an error becomes a ModelError (real-time) or a failure object
	// (async). Default: DefaultInvoke.
	Invoke func(endpoint string, body []byte) ([]byte, error)
	// ReadObject, when set, reads an async request's input object (its S3
	// key); otherwise Invoke gets a nil body for async requests.
	ReadObject func(key string) ([]byte, error)
	// WriteObject stores async output and failure objects (by S3 key).
	WriteObject func(key string, body []byte) error

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
