package fake

import (
	"encoding/json"
	"fmt"
	"net/http"
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
		InputLocation: r.Header.Get("X-Amzn-SageMaker-InputLocation"), Body: string(body),
	}
	if op == "InvokeEndpoint" {
		in.ContentType, in.Accept = r.Header.Get("Content-Type"), r.Header.Get("Accept")
	}
	input, _ := json.Marshal(in)

	s.mu.Lock()
	aerr := s.record(Runtime, op, input)
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
	if aerr != nil {
		s.failed(aerr.code)
	}
	invoke := s.Invoke
	s.mu.Unlock()
	if aerr != nil {
		writeRESTError(w, aerr)
		return
	}
	if op == "InvokeEndpointAsync" {
		s.invokeAsync(w, e, in)
		return
	}
	out, err := invoke(name, body)
	if err != nil {
		s.mu.Lock()
		s.failed("ModelError")
		s.mu.Unlock()
		writeRESTError(w, modelError(name, err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Invoked-Production-Variant", "prod")
	_, _ = w.Write(out)
}

// modelError is what SageMaker answers when the container fails.
func modelError(name string, err error) *apiError {
	return &apiError{status: http.StatusFailedDependency, code: "ModelError",
		msg: fmt.Sprintf("Received server error (500) from primary with message \"%s\". See "+
			"https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#logEventViewer:group=/aws/sagemaker/Endpoints/%s "+
			"in account %s for more information.", err, Region, Region, name, Account),
		fields: map[string]any{"OriginalStatusCode": 500, "OriginalMessage": err.Error(),
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
// AsyncDelay, writing its output (or failure) object.
func (s *Server) invokeAsync(w http.ResponseWriter, e endpoint, in runtimeInput) {
	var cfg asyncIn
	_ = json.Unmarshal(e.async, &cfg)
	id := in.InferenceId
	if id == "" {
		id = uuid.NewString()
	}
	object := uuid.NewString()
	output := strings.TrimSuffix(cfg.OutputConfig.S3OutputPath, "/") + "/" + object + ".out"
	failure := ""
	if p := cfg.OutputConfig.S3FailurePath; p != "" {
		failure = strings.TrimSuffix(p, "/") + "/" + object + "-error.out"
		w.Header().Set("X-Amzn-SageMaker-FailureLocation", failure)
	}
	w.Header().Set("X-Amzn-SageMaker-OutputLocation", output)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]string{"InferenceId": id})

	s.mu.Lock()
	delay, invoke, read, write := s.AsyncDelay, s.Invoke, s.ReadObject, s.WriteObject
	s.mu.Unlock()
	s.pending.Add(1)
	go func() {
		defer s.pending.Done()
		time.Sleep(delay)
		var body []byte
		if read != nil {
			var err error
			if body, err = read(S3Key(in.InputLocation)); err != nil {
				s.writeResult(write, failure, []byte(err.Error()))
				return
			}
		}
		out, err := invoke(e.name, body)
		if err != nil {
			s.writeResult(write, failure, []byte(err.Error()))
			return
		}
		s.writeResult(write, output, out)
	}()
}

func (s *Server) writeResult(write func(string, []byte) error, location string, body []byte) {
	if write == nil || location == "" {
		return
	}
	if err := write(S3Key(location), body); err != nil {
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
