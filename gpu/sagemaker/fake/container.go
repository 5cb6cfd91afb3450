package fake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// AnswerNull is an Invoke that answers like the ESD container after it
// caught an exception: HTTP 200 with the body null.
func AnswerNull(string, []byte) ([]byte, error) { return []byte("null"), nil }

// AnswerWebUIError returns an Invoke that answers like the ESD container
// when the WebUI inside it failed: HTTP 200 with the WebUI's error JSON.
func AnswerWebUIError(errName, detail string) func(string, []byte) ([]byte, error) {
	return func(string, []byte) ([]byte, error) {
		return json.Marshal(map[string]any{"error": errName, "detail": detail, "body": "", "errors": detail})
	}
}

// containerRun is what the container did with one invocation.
type containerRun struct {
	status int    // HTTP status of its answer
	answer []byte // its body
	log    string // why it failed, when it did
}

// container handles one POST /invocations the way the ESD 1.4.0
// inference container does. Its request model needs a JSON object with
// the strings task and param_s3 and, when present, an object models
// (FastAPI answers 422 otherwise). Then, inside one try: when models is
// not empty it reads models["space_free_size"] (a number), and for every
// other key a list of {"model_name", "s3", ...} whose "<s3>/<model_name>"
// it downloads (s3 "None" is a built-in choice: nothing to download); it
// reads the parameter file at param_s3, and passes the request to the
// WebUI (Invoke). Any exception in there is caught, logged, and answered
// with 200 and null.
func (s *Server) container(endpoint string, body []byte) containerRun {
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil || req == nil {
		return unprocessable([]string{"body"}, "value is not a valid dict", "type_error.dict")
	}
	for _, field := range []string{"task", "param_s3"} {
		var v string
		raw, ok := req[field]
		if !ok {
			return unprocessable([]string{"body", field}, "field required", "value_error.missing")
		}
		if json.Unmarshal(raw, &v) != nil {
			return unprocessable([]string{"body", field}, "str type expected", "type_error.str")
		}
	}
	var models map[string]json.RawMessage
	if raw, ok := req["models"]; ok && string(raw) != "null" {
		if json.Unmarshal(raw, &models) != nil || models == nil {
			return unprocessable([]string{"body", "models"}, "value is not a valid dict", "type_error.dict")
		}
	}
	if err := s.loadModels(models); err != "" {
		return containerRun{status: http.StatusOK, answer: []byte("null"), log: err}
	}
	var paramS3 string
	_ = json.Unmarshal(req["param_s3"], &paramS3)
	params, err := s.readS3(paramS3)
	if err != nil {
		return containerRun{status: http.StatusOK, answer: []byte("null"),
			log: fmt.Sprintf("botocore.exceptions.ClientError: reading the parameters %s: %v", paramS3, err)}
	}
	if !json.Valid(params) {
		return containerRun{status: http.StatusOK, answer: []byte("null"),
			log: "json.decoder.JSONDecodeError: the parameters at " + paramS3 + " are not JSON"}
	}
	s.mu.Lock()
	invoke := s.Invoke
	s.mu.Unlock()
	out, err := invoke(endpoint, body)
	if err != nil {
		return containerRun{status: http.StatusInternalServerError, answer: []byte(err.Error()), log: err.Error()}
	}
	return containerRun{status: http.StatusOK, answer: out}
}

// loadModels does what the container does with the model list; it returns
// the Python error it would log, or "".
func (s *Server) loadModels(models map[string]json.RawMessage) string {
	if len(models) == 0 {
		return ""
	}
	raw, ok := models["space_free_size"]
	if !ok {
		return "KeyError: 'space_free_size'"
	}
	var free float64
	if json.Unmarshal(raw, &free) != nil {
		return "TypeError: space_free_size " + string(raw) + " is not a number"
	}
	for typ, raw := range models {
		if typ == "space_free_size" {
			continue
		}
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil {
			return fmt.Sprintf("TypeError: models[%q] is not a list", typ)
		}
		for _, item := range list {
			var m map[string]json.RawMessage
			if json.Unmarshal(item, &m) != nil || m == nil {
				return "TypeError: string indices must be integers"
			}
			var name, loc string
			for _, f := range []struct {
				key string
				to  *string
			}{{"model_name", &name}, {"s3", &loc}} {
				v, ok := m[f.key]
				if !ok {
					return fmt.Sprintf("KeyError: '%s'", f.key)
				}
				if json.Unmarshal(v, f.to) != nil {
					return fmt.Sprintf("TypeError: %s %s is not a string", f.key, v)
				}
			}
			if loc == "None" {
				continue // a built-in choice (VAE Automatic or None)
			}
			uri := strings.TrimSuffix(loc, "/") + "/" + name
			if _, err := s.readS3(uri); err != nil {
				return fmt.Sprintf("download %s failed: %v", uri, err)
			}
		}
	}
	return ""
}

// unprocessable is FastAPI's answer to a body its model rejects.
func unprocessable(loc []string, msg, typ string) containerRun {
	body, _ := json.Marshal(map[string]any{"detail": []map[string]any{{"loc": loc, "msg": msg, "type": typ}}})
	return containerRun{status: http.StatusUnprocessableEntity, answer: body, log: msg + " at " + strings.Join(loc, ".")}
}
