package fake

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

type endpointConfig struct {
	input        json.RawMessage
	models       []string
	instanceType string
	count        int
	async        json.RawMessage // AsyncInferenceConfig, nil for real-time
	created      time.Time
}

type variantIn struct {
	VariantName, ModelName, InstanceType string
	InitialInstanceCount                 int
}

type asyncIn struct {
	OutputConfig struct{ S3OutputPath, S3FailurePath string }
}

var sageMakerOps = map[string]jsonOp{
	"CreateModel":                        createModel,
	"DeleteModel":                        deleteModel,
	"CreateEndpointConfig":               createEndpointConfig,
	"DescribeEndpointConfig":             describeEndpointConfig,
	"DeleteEndpointConfig":               deleteEndpointConfig,
	"CreateEndpoint":                     createEndpoint,
	"DescribeEndpoint":                   describeEndpoint,
	"DeleteEndpoint":                     deleteEndpoint,
	"UpdateEndpointWeightsAndCapacities": updateWeightsAndCapacities,
	"CreateTrainingJob":                  createTrainingJob,
	"DescribeTrainingJob":                describeTrainingJob,
	"StopTrainingJob":                    stopTrainingJob,
}

func arn(kind, name string) string {
	return fmt.Sprintf("arn:aws:sagemaker:%s:%s:%s/%s", Region, Account, kind, name)
}

func notFound(kind, name string) *apiError {
	return errorf("ValidationException", fmt.Sprintf("Could not find %s %q.", kind, arn(kindPath(kind), name)))
}

func kindPath(kind string) string {
	if kind == "endpoint configuration" {
		return "endpoint-config"
	}
	return kind
}

func exists(kind, name string) *apiError {
	return errorf("ResourceInUse", fmt.Sprintf("Cannot create already existing %s %q.", kind, arn(kindPath(kind), name)))
}

// namePattern is SageMaker's pattern for model, endpoint config and
// endpoint names.
var namePattern = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$`)

// checkName answers as SageMaker does for a name against its constraints.
func checkName(member, name string) *apiError {
	switch {
	case len(name) > 63:
		return errorf("ValidationException", fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy "+
			"constraint: Member must have length less than or equal to 63", name, member))
	case !namePattern.MatchString(name):
		return errorf("ValidationException", fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy "+
			"constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name, member))
	}
	return nil
}

// createModel checks what SageMaker checks: the name, that it may assume
// the execution role, and that the model data object exists.
func createModel(s *Server, in json.RawMessage) (any, *apiError) {
	var v struct {
		ModelName        string
		ExecutionRoleArn string
		PrimaryContainer struct{ Image, ModelDataUrl string }
	}
	if err := decode(in, &v); err != nil {
		return nil, err
	}
	if err := checkName("modelName", v.ModelName); err != nil {
		return nil, err
	}
	if _, ok := s.models[v.ModelName]; ok {
		return nil, exists("model", v.ModelName)
	}
	if trust, ok := s.roles[v.ExecutionRoleArn]; !ok || !strings.Contains(trust, "sagemaker.amazonaws.com") {
		return nil, errorf("ValidationException", fmt.Sprintf("Could not assume role %s. Please ensure that the role exists "+
			"and allows principal 'sagemaker.amazonaws.com' to assume the role.", v.ExecutionRoleArn))
	}
	if url := v.PrimaryContainer.ModelDataUrl; url != "" {
		if _, err := s.readS3Locked(url); err != nil {
			return nil, errorf("ValidationException", "Could not find model data at "+url+".")
		}
	}
	s.models[v.ModelName] = in
	return map[string]any{"ModelArn": arn("model", v.ModelName)}, nil
}

func deleteModel(s *Server, in json.RawMessage) (any, *apiError) {
	var v struct{ ModelName string }
	if err := decode(in, &v); err != nil {
		return nil, err
	}
	if _, ok := s.models[v.ModelName]; !ok {
		return nil, notFound("model", v.ModelName)
	}
	delete(s.models, v.ModelName)
	return struct{}{}, nil
}

func createEndpointConfig(s *Server, in json.RawMessage) (any, *apiError) {
	var v struct {
		EndpointConfigName   string
		ProductionVariants   []variantIn
		AsyncInferenceConfig json.RawMessage
	}
	if err := decode(in, &v); err != nil {
		return nil, err
	}
	if err := checkName("endpointConfigName", v.EndpointConfigName); err != nil {
		return nil, err
	}
	if _, ok := s.configs[v.EndpointConfigName]; ok {
		return nil, exists("endpoint configuration", v.EndpointConfigName)
	}
	if len(v.ProductionVariants) == 0 {
		return nil, errorf("ValidationException", "ProductionVariants must not be empty")
	}
	c := &endpointConfig{input: in, instanceType: v.ProductionVariants[0].InstanceType,
		count: v.ProductionVariants[0].InitialInstanceCount, created: time.Now()}
	for _, pv := range v.ProductionVariants {
		if _, ok := s.models[pv.ModelName]; !ok {
			return nil, notFound("model", pv.ModelName)
		}
		c.models = append(c.models, pv.ModelName)
	}
	if len(v.AsyncInferenceConfig) > 0 && string(v.AsyncInferenceConfig) != "null" {
		c.async = v.AsyncInferenceConfig
	}
	s.configs[v.EndpointConfigName] = c
	return map[string]any{"EndpointConfigArn": arn("endpoint-config", v.EndpointConfigName)}, nil
}

func describeEndpointConfig(s *Server, in json.RawMessage) (any, *apiError) {
	var v struct{ EndpointConfigName string }
	if err := decode(in, &v); err != nil {
		return nil, err
	}
	c, ok := s.configs[v.EndpointConfigName]
	if !ok {
		return nil, notFound("endpoint configuration", v.EndpointConfigName)
	}
	out := map[string]any{}
	_ = json.Unmarshal(c.input, &out)
	out["EndpointConfigArn"] = arn("endpoint-config", v.EndpointConfigName)
	out["CreationTime"] = c.created.Unix()
	return out, nil
}

func deleteEndpointConfig(s *Server, in json.RawMessage) (any, *apiError) {
	var v struct{ EndpointConfigName string }
	if err := decode(in, &v); err != nil {
		return nil, err
	}
	if _, ok := s.configs[v.EndpointConfigName]; !ok {
		return nil, notFound("endpoint configuration", v.EndpointConfigName)
	}
	delete(s.configs, v.EndpointConfigName)
	return struct{}{}, nil
}
