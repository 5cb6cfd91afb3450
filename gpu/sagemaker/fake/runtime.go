package fake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// TinyPNG is a 1×1 PNG, base64: the image DefaultInvoke returns.
const TinyPNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="

// DefaultInvoke answers like the ESD inference container after a txt2img:
// A1111's {images, parameters, info}.
func DefaultInvoke(endpoint string, body []byte) ([]byte, error) {
	var req struct {
		Task string `json:"task"`
	}
	_ = json.Unmarshal(body, &req)
	info, _ := json.Marshal(map[string]any{"infotexts": []string{"fake " + endpoint}, "task": req.Task})
	return json.Marshal(map[string]any{
		"images":     []string{TinyPNG},
		"parameters": map[string]any{"prompt": "fake", "steps": 20},
		"info":       string(info),
	})
}

// runtimeInput is how a runtime call is recorded.
type runtimeInput struct {
	EndpointName, ContentType, Accept, InferenceId, InputLocation string
	InvocationTimeoutSeconds                                      string `json:",omitempty"`
	Body                                                          string `json:",omitempty"`
}

// serveRuntime answers InvokeEndpoint and InvokeEndpointAsync (restJson1).
func (s *Server) serveRuntime(w http.ResponseWriter, r *http.Request, body []byte) {
	rest := strings.TrimPrefix(r.URL.Path, "/endpoints/")
	name, action, _ := strings.Cut(rest, "/")
	op := map[string]string{"invocations": "InvokeEndpoint", "async-invocations": "InvokeEndpointAsync"}[action]
	if op == "" || r.Method != http.MethodPost {
		http.Error(w, "fake runtime: unknown request "+r.Method+" "+r.URL.Path, http.StatusNotFound)
		return
	}
	in := runtimeInput{
		EndpointName: name, ContentType: r.Header.Get("X-Amzn-SageMaker-Content-Type"),
		Accept: r.Header.Get("X-Amzn-SageMaker-Accept"), InferenceId: r.Header.Get("X-Amzn-SageMaker-Inference-Id"),
		InputLocation:            r.Header.Get("X-Amzn-SageMaker-InputLocation"),
		InvocationTimeoutSeconds: r.Header.Get("X-Amzn-SageMaker-InvocationTimeoutSeconds"), Body: string(body),
	}
	if op == "InvokeEndpoint" {
		in.ContentType, in.Accept = r.Header.Get("Content-Type"), r.Header.Get("Accept")
	}
	input, _ := json.Marshal(in)

	s.mu.Lock()
	aerr := s.record(Runtime, op, input)
	call := len(s.calls) - 1
	var e endpoint
	if aerr == nil {
		if ep, ok := s.endpoints[name]; !ok || ep.status != StatusInService && ep.status != StatusUpdating {
			aerr = errorf("ValidationError", fmt.Sprintf("Endpoint %s of account %s not found.", name, Account))
		} else {
			e = *ep
		}
	}
	if aerr == nil && op == "InvokeEndpointAsync" && (e.async == nil || in.InputLocation == "") {
		aerr = errorf("ValidationError", "Endpoint "+name+" is not an async endpoint or InputLocation is missing.")
	}
	if aerr == nil && in.InvocationTimeoutSeconds != "" {
		if n, err := strconv.Atoi(in.InvocationTimeoutSeconds); err != nil || n < 1 || n > 3600 {
			aerr = errorf("ValidationError", "1 validation error detected: Value '"+in.InvocationTimeoutSeconds+
				"' at 'invocationTimeoutSeconds' failed to satisfy constraint: Member must have value between 1 and 3600")
		}
	}
	if aerr != nil {
		s.failed(aerr.code)
	}
	s.mu.Unlock()
	if aerr != nil {
		writeRESTError(w, aerr)
		return
	}
	if op == "InvokeEndpointAsync" {
		s.invokeAsync(w, e, in, call)
		return
	}
	run := s.container(name, body)
	s.logRun(call, run)
	if run.status != http.StatusOK {
		s.mu.Lock()
		s.failed("ModelError")
		s.mu.Unlock()
		writeRESTError(w, modelError(name, run.status, string(run.answer)))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Invoked-Production-Variant", "prod")
	_, _ = w.Write(run.answer)
}

// logRun keeps what the container logged on the call.
func (s *Server) logRun(call int, run containerRun) {
	if run.log == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[call].Log = run.log
}

// modelError is what SageMaker answers when the container answers with
// an error status.
func modelError(name string, status int, msg string) *apiError {
	return &apiError{status: http.StatusFailedDependency, code: "ModelError",
		msg: fmt.Sprintf("Received server error (%d) from primary with message \"%s\". See "+
			"https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#logEventViewer:group=/aws/sagemaker/Endpoints/%s "+
			"in account %s for more information.", status, msg, Region, Region, name, Account),
		fields: map[string]any{"OriginalStatusCode": status, "OriginalMessage": msg,
			"LogStreamArn": fmt.Sprintf("arn:aws:logs:%s:%s:log-group:/aws/sagemaker/Endpoints/%s", Region, Account, name)}}
}

func writeRESTError(w http.ResponseWriter, aerr *apiError) {
	body := map[string]any{"__type": aerr.code, "Message": aerr.msg}
	for k, v := range aerr.fields {
		body[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", aerr.code)
	w.WriteHeader(aerr.status)
	_ = json.NewEncoder(w).Encode(body)
}

// invokeAsync accepts an async inference (202) and runs it after
// AsyncDelay: SageMaker reads the input object and hands it to the
// container; a 200 answer (whatever its body) becomes the output object,
// anything else a failure object at the FailureLocation it announced.
// The failure object's name is not derived from the output's, so only
// the announced location finds it.
func (s *Server) invokeAsync(w http.ResponseWriter, e endpoint, in runtimeInput, call int) {
	var cfg asyncIn
	_ = json.Unmarshal(e.async, &cfg)
	id := in.InferenceId
	if id == "" {
		id = uuid.NewString()
	}
	output := strings.TrimSuffix(cfg.OutputConfig.S3OutputPath, "/") + "/" + uuid.NewString() + ".out"
	failure := strings.TrimSuffix(cfg.OutputConfig.S3OutputPath, "/") + "/" + uuid.NewString() + "-error.out"
	if p := cfg.OutputConfig.S3FailurePath; p != "" {
		failure = strings.TrimSuffix(p, "/") + "/" + uuid.NewString() + "-error.out"
	}
	w.Header().Set("X-Amzn-SageMaker-OutputLocation", output)
	w.Header().Set("X-Amzn-SageMaker-FailureLocation", failure)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]string{"InferenceId": id})

	s.mu.Lock()
	delay := s.AsyncDelay
	s.mu.Unlock()
	s.pending.Add(1)
	go func() {
		defer s.pending.Done()
		time.Sleep(delay)
		body, err := s.readS3(in.InputLocation)
		if err != nil {
			s.writeResult(failure, []byte("Failed to read the input "+in.InputLocation+": "+err.Error()))
			return
		}
		run := s.container(e.name, body)
		s.logRun(call, run)
		if run.status != http.StatusOK {
			s.writeResult(failure, []byte(fmt.Sprintf("Received server error (%d) from model with message \"%s\".", run.status, run.answer)))
			return
		}
		s.writeResult(output, run.answer)
	}()
}

func (s *Server) writeResult(location string, body []byte) {
	if err := s.writeS3(S3Key(location), body); err != nil {
		s.mu.Lock()
		s.calls = append(s.calls, Call{Service: Runtime, Op: "WriteObject", Err: err.Error()})
		s.mu.Unlock()
	}
}

// S3Key returns the key of an s3://bucket/key URI.
func S3Key(uri string) string {
	_, key, _ := strings.Cut(strings.TrimPrefix(uri, "s3://"), "/")
	return key
}
