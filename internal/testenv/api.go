package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"easel/actions"
	"easel/policy"
)

// Response is an API answer, already checked against the OpenAPI document.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// Message returns the body's "message".
func (r Response) Message(t testing.TB) string {
	t.Helper()
	m, _ := r.JSON(t)["message"].(string)
	return m
}

// Headers is a request's extra headers.
type Headers map[string]string

// Key returns headers with only an x-api-key.
func Key(key string) Headers { return Headers{"x-api-key": key} }

// As returns headers with the service key asserting user by header.
func As(user string) Headers { return Headers{"x-api-key": ServiceKey, "username": user} }

// Call sends one API request (body marshalled to JSON unless it is a
// string or []byte) and validates the response against the served
// OpenAPI document: the status must be declared for the operation and the
// body must match its schema.
func (s *Server) Call(t testing.TB, method, path string, h Headers, body any) Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal body: %v", err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.URL+"/prod"+path, rd)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	r := Response{Status: res.StatusCode, Header: res.Header, Body: out}
	s.checkResponse(t, method, path, r)
	return r
}

// checkResponse validates r against the document's declared responses.
func (s *Server) checkResponse(t testing.TB, method, path string, r Response) {
	t.Helper()
	if r.Status >= 500 {
		t.Errorf("%s %s: got status %d, a 5xx is always our bug: %s", method, path, r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); r.Status != http.StatusNoContent && !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type %q, want application/json", method, path, ct)
	}
	doc := s.document(t)
	if r.Status == http.StatusForbidden && strings.Contains(string(r.Body), "Missing Authentication Token") {
		return // API Gateway's answer for a route that does not exist
	}
	op := doc.operation(method, path)
	if op == nil {
		t.Errorf("%s %s: no operation in the OpenAPI document", method, path)
		return
	}
	ref := dig(op, "responses", fmt.Sprint(r.Status), "content", "application/json", "schema", "$ref")
	if ref == "" {
		t.Errorf("%s %s: status %d is not declared in the OpenAPI document (body %s)", method, path, r.Status, r.Body)
		return
	}
	sch, err := doc.schema(ref)
	if err != nil {
		t.Errorf("compile %s: %v", ref, err)
		return
	}
	var inst any
	if r.Status != http.StatusNoContent || len(r.Body) > 0 {
		if inst, err = jsonschema.UnmarshalJSON(bytes.NewReader(r.Body)); err != nil {
			t.Errorf("%s %s: body is not JSON: %v: %s", method, path, err, r.Body)
			return
		}
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("%s %s: %d body does not match %s: %v\nbody: %s", method, path, r.Status, ref, err, r.Body)
	}
}

type apiDoc struct {
	raw      map[string]any
	compiler *jsonschema.Compiler
	mu       sync.Mutex
	schemas  map[string]*jsonschema.Schema
}

var docs sync.Map // server URL → *apiDoc

func (s *Server) document(t testing.TB) *apiDoc {
	t.Helper()
	if d, ok := docs.Load(s.URL); ok {
		return d.(*apiDoc)
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/prod/api", nil)
	req.Header.Set("x-api-key", ServiceKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("fetch OpenAPI document: %v", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("OpenAPI document is not JSON: %v", err)
	}
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("openapi.json", inst); err != nil {
		t.Fatalf("load OpenAPI document: %v", err)
	}
	d := &apiDoc{raw: raw, compiler: c, schemas: map[string]*jsonschema.Schema{}}
	docs.Store(s.URL, d)
	return d
}

func (d *apiDoc) schema(ref string) (*jsonschema.Schema, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.schemas[ref]; ok {
		return s, nil
	}
	s, err := d.compiler.Compile("openapi.json" + ref)
	if err != nil {
		return nil, err
	}
	d.schemas[ref] = s
	return s, nil
}

// operation finds the operation for a concrete path ("/users?x=1",
// "/checkpoints/abc" matches "/checkpoints/{id}").
func (d *apiDoc) operation(method, path string) map[string]any {
	path, _, _ = strings.Cut(path, "?")
	paths, _ := d.raw["paths"].(map[string]any)
	for tmpl, item := range paths {
		if !pathMatches(tmpl, path) {
			continue
		}
		op, _ := item.(map[string]any)[strings.ToLower(method)].(map[string]any)
		if op != nil {
			return op
		}
	}
	return nil
}

func pathMatches(tmpl, path string) bool {
	ts, ps := strings.Split(tmpl, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i := range ts {
		if !strings.HasPrefix(ts[i], "{") && ts[i] != ps[i] {
			return false
		}
	}
	return true
}

func dig(m map[string]any, keys ...string) string {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = mm[k]
	}
	s, _ := cur.(string)
	return s
}

// UserKey creates a user key for name and returns its secret.
func (s *Server) UserKey(t testing.TB, name string) string {
	t.Helper()
	secret, _, err := s.App.Actions.Keys.Create(context.Background(), policy.Principal{Service: true}, actions.KeyInput{Owner: name})
	if err != nil {
		t.Fatalf("user key for %s: %v", name, err)
	}
	return secret
}

// MustCall is Call that fails the test unless the status is want.
func (s *Server) MustCall(t testing.TB, want int, method, path string, h Headers, body any) Response {
	t.Helper()
	r := s.Call(t, method, path, h, body)
	if r.Status != want {
		t.Fatalf("%s %s: got status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}
