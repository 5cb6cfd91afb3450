package fake

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/aws/smithy-go/encoding/cbor"
	"github.com/google/uuid"
)

var autoScalingOps = map[string]jsonOp{
	"RegisterScalableTarget":   registerScalableTarget,
	"DeregisterScalableTarget": deregisterScalableTarget,
	"PutScalingPolicy":         putScalingPolicy,
}

type targetIn struct {
	ServiceNamespace, ResourceId, ScalableDimension string
}

func noTarget(v targetIn) *apiError {
	return errorf("ObjectNotFoundException", fmt.Sprintf(
		"No scalable target registered for service namespace: %s, resource ID: %s, scalable dimension: %s",
		v.ServiceNamespace, v.ResourceId, v.ScalableDimension))
}

func registerScalableTarget(s *Server, in json.RawMessage) (any, *apiError) {
	var v targetIn
	if err := decode(in, &v); err != nil {
		return nil, err
	}
	if v.ServiceNamespace == "sagemaker" {
		// endpoint/<name>/variant/<variant>
		parts := strings.Split(v.ResourceId, "/")
		if len(parts) != 4 || parts[0] != "endpoint" || parts[2] != "variant" {
			return nil, errorf("ValidationException", "Unsupported resource ID "+v.ResourceId)
		}
		if _, ok := s.endpoints[parts[1]]; !ok {
			return nil, errorf("ValidationException", fmt.Sprintf("Endpoint %s does not exist", parts[1]))
		}
	}
	s.targets[v.ResourceId] = in
	return map[string]any{"ScalableTargetARN": fmt.Sprintf(
		"arn:aws:application-autoscaling:%s:%s:scalable-target/%s", Region, Account, uuid.NewString())}, nil
}

func deregisterScalableTarget(s *Server, in json.RawMessage) (any, *apiError) {
	var v targetIn
	if err := decode(in, &v); err != nil {
		return nil, err
	}
	if _, ok := s.targets[v.ResourceId]; !ok {
		return nil, noTarget(v)
	}
	delete(s.targets, v.ResourceId)
	// Deregistering a target deletes its scaling policies.
	for k := range s.policies {
		if strings.HasPrefix(k, v.ResourceId+"/") {
			delete(s.policies, k)
		}
	}
	return struct{}{}, nil
}

func putScalingPolicy(s *Server, in json.RawMessage) (any, *apiError) {
	var v struct {
		targetIn
		PolicyName string
	}
	if err := decode(in, &v); err != nil {
		return nil, err
	}
	if _, ok := s.targets[v.ResourceId]; !ok {
		return nil, noTarget(v.targetIn)
	}
	policyARN := fmt.Sprintf("arn:aws:autoscaling:%s:%s:scalingPolicy:%s:resource/%s/%s:policyName/%s",
		Region, Account, uuid.NewString(), v.ServiceNamespace, v.ResourceId, v.PolicyName)
	s.policies[v.ResourceId+"/"+v.PolicyName] = policyARN
	return map[string]any{"PolicyARN": policyARN, "Alarms": []any{}}, nil
}

// serveCBOR answers a CloudWatch (rpcv2Cbor) call: PutMetricAlarm and
// DeleteAlarms.
func (s *Server) serveCBOR(w http.ResponseWriter, op string, body []byte) {
	input := json.RawMessage("{}")
	if len(body) > 0 {
		v, err := cbor.Decode(body)
		if err != nil {
			http.Error(w, "fake cloudwatch: "+err.Error(), http.StatusBadRequest)
			return
		}
		input, _ = json.Marshal(fromCBOR(v))
	}
	s.mu.Lock()
	aerr := s.record(CloudWatch, op, input)
	if aerr == nil {
		aerr = s.cloudWatch(op, input)
	}
	if aerr != nil {
		s.failed(aerr.code)
	}
	s.mu.Unlock()
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	if aerr != nil {
		w.Header().Set("X-Amzn-Query-Error", aerr.code+";Sender")
		w.WriteHeader(aerr.status)
		_, _ = w.Write(cbor.Encode(cbor.Map{"__type": cbor.String(aerr.code), "message": cbor.String(aerr.msg)}))
		return
	}
	_, _ = w.Write(cbor.Encode(cbor.Map{}))
}

// cloudWatch applies an alarm call. s.mu must be held.
func (s *Server) cloudWatch(op string, in json.RawMessage) *apiError {
	switch op {
	case "PutMetricAlarm":
		var v struct{ AlarmName string }
		if err := decode(in, &v); err != nil {
			return err
		}
		s.alarms[v.AlarmName] = in
	case "DeleteAlarms":
		var v struct{ AlarmNames []string }
		if err := decode(in, &v); err != nil {
			return err
		}
		for _, n := range v.AlarmNames {
			if _, ok := s.alarms[n]; !ok {
				return &apiError{status: http.StatusNotFound, code: "ResourceNotFound", msg: "Alarm " + n + " does not exist"}
			}
		}
		for _, n := range v.AlarmNames {
			delete(s.alarms, n)
		}
	default:
		return errorf("UnknownOperationException", "fake: CloudWatch."+op+" is not implemented")
	}
	return nil
}

// fromCBOR turns a decoded CBOR value into plain Go values for JSON.
func fromCBOR(v cbor.Value) any {
	switch v := v.(type) {
	case cbor.Uint:
		return uint64(v)
	case cbor.NegInt:
		return -float64(v)
	case cbor.Float32:
		return float64(v)
	case cbor.Float64:
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil
		}
		return float64(v)
	case cbor.String:
		return string(v)
	case cbor.Slice:
		return []byte(v)
	case cbor.Bool:
		return bool(v)
	case cbor.List:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = fromCBOR(e)
		}
		return out
	case cbor.Map:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = fromCBOR(e)
		}
		return out
	case *cbor.Tag:
		return fromCBOR(v.Value)
	default:
		return nil
	}
}
