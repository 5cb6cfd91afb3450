package fake

import (
	"encoding/json"
	"fmt"
	"time"
)

// Endpoint states, as SageMaker names them.
const (
	StatusCreating  = "Creating"
	StatusInService = "InService"
	StatusUpdating  = "Updating"
	StatusFailed    = "Failed"
)

type endpoint struct {
	name, config         string
	status, reason       string
	instanceType         string
	current, desired     int
	async                json.RawMessage
	describes            int
	since, created, last time.Time
}

func createEndpoint(s *Server, in json.RawMessage) (any, *apiError) {
	var v struct{ EndpointName, EndpointConfigName string }
	if err := decode(in, &v); err != nil {
		return nil, err
	}
	if err := checkName("endpointName", v.EndpointName); err != nil {
		return nil, err
	}
	if _, ok := s.endpoints[v.EndpointName]; ok {
		return nil, exists("endpoint", v.EndpointName)
	}
	c, ok := s.configs[v.EndpointConfigName]
	if !ok {
		return nil, notFound("endpoint configuration", v.EndpointConfigName)
	}
	now := time.Now()
	s.endpoints[v.EndpointName] = &endpoint{name: v.EndpointName, config: v.EndpointConfigName,
		status: StatusCreating, instanceType: c.instanceType, desired: c.count, async: c.async,
		since: now, created: now, last: now}
	return map[string]any{"EndpointArn": arn("endpoint", v.EndpointName)}, nil
}

// advance moves a Creating or Updating endpoint on by one observation.
func (s *Server) advance(e *endpoint) {
	if e.status != StatusCreating && e.status != StatusUpdating {
		return
	}
	e.describes++
	ready := e.describes > s.ReadyAfter
	if s.ReadyDelay > 0 {
		ready = time.Since(e.since) >= s.ReadyDelay
	}
	if !ready {
		return
	}
	e.last = time.Now()
	if e.status == StatusCreating && e.instanceType == s.FailInstanceType {
		e.status, e.reason, e.current = StatusFailed, s.FailureReason, 0
		return
	}
	e.status, e.current = StatusInService, e.desired
}

func describeEndpoint(s *Server, in json.RawMessage) (any, *apiError) {
	var v struct{ EndpointName string }
	if err := decode(in, &v); err != nil {
		return nil, err
	}
	e, ok := s.endpoints[v.EndpointName]
	if !ok {
		return nil, notFound("endpoint", v.EndpointName)
	}
	s.advance(e)
	out := map[string]any{
		"EndpointName": e.name, "EndpointArn": arn("endpoint", e.name), "EndpointConfigName": e.config,
		"EndpointStatus": e.status, "CreationTime": e.created.Unix(), "LastModifiedTime": e.last.Unix(),
	}
	if e.reason != "" {
		out["FailureReason"] = e.reason
	}
	if e.status != StatusCreating && e.status != StatusFailed {
		out["ProductionVariants"] = []map[string]any{{
			"VariantName": "prod", "CurrentInstanceCount": e.current, "DesiredInstanceCount": e.desired,
			"CurrentWeight": 1, "DesiredWeight": 1,
		}}
	}
	if e.async != nil {
		out["AsyncInferenceConfig"] = e.async
	}
	return out, nil
}

func deleteEndpoint(s *Server, in json.RawMessage) (any, *apiError) {
	var v struct{ EndpointName string }
	if err := decode(in, &v); err != nil {
		return nil, err
	}
	if _, ok := s.endpoints[v.EndpointName]; !ok {
		return nil, notFound("endpoint", v.EndpointName)
	}
	delete(s.endpoints, v.EndpointName)
	return struct{}{}, nil
}

func updateWeightsAndCapacities(s *Server, in json.RawMessage) (any, *apiError) {
	var v struct {
		EndpointName                string
		DesiredWeightsAndCapacities []struct {
			VariantName          string
			DesiredInstanceCount *int
		}
	}
	if err := decode(in, &v); err != nil {
		return nil, err
	}
	e, ok := s.endpoints[v.EndpointName]
	if !ok {
		return nil, notFound("endpoint", v.EndpointName)
	}
	if e.status != StatusInService {
		return nil, errorf("ValidationException", fmt.Sprintf("Cannot update in-progress endpoint %q.", arn("endpoint", e.name)))
	}
	for _, d := range v.DesiredWeightsAndCapacities {
		if d.VariantName != "prod" {
			return nil, errorf("ValidationException", fmt.Sprintf("The variant name(s) [%s] is/are not present.", d.VariantName))
		}
		if d.DesiredInstanceCount != nil {
			e.desired = *d.DesiredInstanceCount
		}
	}
	e.status, e.describes, e.since = StatusUpdating, 0, time.Now()
	return map[string]any{"EndpointArn": arn("endpoint", e.name)}, nil
}

// SetStatus forces an endpoint's state and failure reason (e.g.
// "OutOfService"); it reports whether the endpoint exists.
func (s *Server) SetStatus(name, status, reason string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.endpoints[name]
	if ok {
		e.status, e.reason, e.describes, e.since = status, reason, 0, time.Now()
	}
	return ok
}
