package fake

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

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
