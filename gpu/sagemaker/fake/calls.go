package fake

import (
	"encoding/json"
	"net/http"
	"slices"
)

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
