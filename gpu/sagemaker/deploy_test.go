package sagemaker_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"easel/gpu"
	sm "easel/gpu/sagemaker"
	"easel/gpu/sagemaker/fake"
)

func TestDeployAsyncMatchesESD(t *testing.T) {
	f, b := newBackend(t, testBucket, nil)
	spec := asyncSpec("1a2b3c4")
	if err := b.Deploy(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	st, err := b.Status(context.Background(), spec.Name)
	if err != nil || st.State != gpu.Creating {
		t.Fatalf("first Status = %+v, %v; want Creating", st, err)
	}
	if st := waitState(t, b, spec.Name); st.State != gpu.InService || st.InstanceCount != 1 {
		t.Fatalf("Status = %+v, want InService with 1 instance", st)
	}

	var model sagemaker.CreateModelInput
	decodeCall(t, f, "CreateModel", &model)
	if got := aws.ToString(model.ModelName); got != "esd-model-async-1a2b3c4" {
		t.Errorf("ModelName = %q", got)
	}
	if aws.ToString(model.ExecutionRoleArn) != testRole || aws.ToString(model.PrimaryContainer.Image) != testImage ||
		aws.ToString(model.PrimaryContainer.ModelDataUrl) != "s3://esd-bucket/data/model.tar.gz" {
		t.Errorf("model = role %q image %q data %q", aws.ToString(model.ExecutionRoleArn),
			aws.ToString(model.PrimaryContainer.Image), aws.ToString(model.PrimaryContainer.ModelDataUrl))
	}
	wantEnv := map[string]string{
		"EndpointID": spec.ID, "LOG_LEVEL": "INFO", "BUCKET_NAME": testBucket, "INSTANCE_TYPE": "ml.g5.2xlarge",
		"ENDPOINT_NAME": spec.Name, "ENDPOINT_ID": spec.ID, "CREATED_AT": spec.CreatedAt,
	}
	if d := cmp.Diff(wantEnv, model.PrimaryContainer.Environment); d != "" {
		t.Errorf("Environment (-want +got):\n%s", d)
	}

	var cfg sagemaker.CreateEndpointConfigInput
	decodeCall(t, f, "CreateEndpointConfig", &cfg)
	if got := aws.ToString(cfg.EndpointConfigName); got != "esd-config-async-1a2b3c4" {
		t.Errorf("EndpointConfigName = %q", got)
	}
	if len(cfg.ProductionVariants) != 1 {
		t.Fatalf("variants = %d", len(cfg.ProductionVariants))
	}
	pv := cfg.ProductionVariants[0]
	if aws.ToString(pv.VariantName) != "prod" || aws.ToString(pv.ModelName) != "esd-model-async-1a2b3c4" ||
		pv.InstanceType != "ml.g5.2xlarge" || aws.ToInt32(pv.InitialInstanceCount) != 1 || aws.ToFloat32(pv.InitialVariantWeight) != 1 {
		t.Errorf("variant = %+v", pv)
	}
	ac := cfg.AsyncInferenceConfig
	if ac == nil || aws.ToString(ac.OutputConfig.S3OutputPath) != "s3://esd-bucket/sagemaker_output/" ||
		aws.ToInt32(ac.ClientConfig.MaxConcurrentInvocationsPerInstance) != 1 {
		t.Errorf("AsyncInferenceConfig = %+v", ac)
	}

	var ep sagemaker.CreateEndpointInput
	decodeCall(t, f, "CreateEndpoint", &ep)
	if aws.ToString(ep.EndpointName) != spec.Name || aws.ToString(ep.EndpointConfigName) != "esd-config-async-1a2b3c4" {
		t.Errorf("CreateEndpoint = %q, %q", aws.ToString(ep.EndpointName), aws.ToString(ep.EndpointConfigName))
	}
}

func TestDeployRealTimeCustomImage(t *testing.T) {
	f, b := newBackend(t, testBucket, nil)
	spec := gpu.Spec{Name: "esd-real-time-mine", ID: "id-1", Type: gpu.RealTime, InstanceType: "ml.g4dn.2xlarge",
		InstanceCount: 2, CustomImage: "1.dkr.ecr.us-east-1.amazonaws.com/me/custom:1"}
	deployed(t, b, spec)
	var model sagemaker.CreateModelInput
	decodeCall(t, f, "CreateModel", &model)
	if aws.ToString(model.ModelName) != "esd-model-real-time-mine" || aws.ToString(model.PrimaryContainer.Image) != spec.CustomImage {
		t.Errorf("model %q image %q", aws.ToString(model.ModelName), aws.ToString(model.PrimaryContainer.Image))
	}
	var cfg sagemaker.CreateEndpointConfigInput
	decodeCall(t, f, "CreateEndpointConfig", &cfg)
	if cfg.AsyncInferenceConfig != nil || aws.ToInt32(cfg.ProductionVariants[0].InitialInstanceCount) != 2 {
		t.Errorf("real-time config = %+v", cfg)
	}
	if st, _ := b.Status(context.Background(), spec.Name); st.InstanceCount != 2 {
		t.Errorf("InstanceCount = %d, want 2", st.InstanceCount)
	}
}

func TestDeployFailedWithReason(t *testing.T) {
	f, b := newBackend(t, testBucket, nil)
	f.FailureReason = "CannotStartContainerError"
	spec := asyncSpec("fail001")
	spec.InstanceType = "ml.fail.xlarge"
	if err := b.Deploy(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	st := waitState(t, b, spec.Name)
	if st.State != gpu.Failed || st.FailureReason != "CannotStartContainerError" {
		t.Fatalf("Status = %+v, want Failed with reason", st)
	}
}

func TestStatusMapping(t *testing.T) {
	f, b := newBackend(t, testBucket, nil)
	spec := asyncSpec("map0001")
	deployed(t, b, spec)
	for raw, want := range map[string]string{"OutOfService": gpu.Failed, "SystemUpdating": gpu.Updating,
		"RollingBack": gpu.Updating, "Deleting": gpu.Deleting, "InService": gpu.InService} {
		f.SetStatus(spec.Name, raw, "")
		if st, err := b.Status(context.Background(), spec.Name); err != nil || st.State != want {
			t.Errorf("%s → %+v, %v; want %s", raw, st, err, want)
		}
	}
	if _, err := b.Status(context.Background(), "esd-async-nothere"); !isNotFound(err) {
		t.Errorf("unknown endpoint: err = %v, want gpu.ErrNotFound", err)
	}
}

func TestDuplicateNameIsResourceInUse(t *testing.T) {
	f, b := newBackend(t, testBucket, nil)
	spec := asyncSpec("dup0001")
	deployed(t, b, spec)
	err := b.Deploy(context.Background(), spec)
	if err == nil || !strings.Contains(err.Error(), "ResourceInUse: Cannot create already existing model") {
		t.Fatalf("second Deploy: %v", err)
	}
	if gpu.IsTransient(err) {
		t.Error("ResourceInUse must not be transient")
	}
	// The first deployment is untouched.
	st := f.State()
	if len(st.Models) != 1 || len(st.EndpointConfigs) != 1 || len(st.Endpoints) != 1 {
		t.Errorf("state = %+v", st)
	}
}

func TestDeployCleansUpPartialCreate(t *testing.T) {
	f, b := newBackend(t, testBucket, nil)
	f.FailNext("CreateEndpoint", 1, http.StatusBadRequest, "ResourceLimitExceeded",
		"The account-level service limit 'ml.g5.2xlarge for endpoint usage' is 0 Instances")
	err := b.Deploy(context.Background(), asyncSpec("part001"))
	if err == nil || !strings.Contains(err.Error(), "ResourceLimitExceeded: The account-level service limit") {
		t.Fatalf("Deploy: %v", err)
	}
	if st := f.State(); !st.Empty() {
		t.Errorf("left behind: %+v", st)
	}
	if len(f.CallsTo("DeleteEndpointConfig")) != 1 || len(f.CallsTo("DeleteModel")) != 1 {
		t.Errorf("cleanup calls: %+v", f.Calls())
	}
}

func TestThrottlingIsRetried(t *testing.T) {
	f, b := newBackend(t, testBucket, nil)
	f.Throttle("CreateModel", 2)
	if err := b.Deploy(context.Background(), asyncSpec("thr0001")); err != nil {
		t.Fatalf("Deploy with 2 throttled attempts: %v", err)
	}
	calls := f.CallsTo("CreateModel")
	if len(calls) != 3 || calls[0].Err != "ThrottlingException" || calls[2].Err != "" {
		t.Errorf("CreateModel calls = %+v", calls)
	}
	f.Throttle("DescribeEndpoint", 3)
	_, err := b.Status(context.Background(), "esd-async-thr0001")
	if !gpu.IsTransient(err) || !strings.Contains(err.Error(), "ThrottlingException") {
		t.Errorf("Status after 3 throttles: %v, want a transient ThrottlingException", err)
	}
}

func TestScale(t *testing.T) {
	f, b := newBackend(t, testBucket, nil)
	spec := asyncSpec("scl0001")
	deployed(t, b, spec)
	if err := b.Scale(context.Background(), spec.Name, 2); err != nil {
		t.Fatal(err)
	}
	var in sagemaker.UpdateEndpointWeightsAndCapacitiesInput
	decodeCall(t, f, "UpdateEndpointWeightsAndCapacities", &in)
	if len(in.DesiredWeightsAndCapacities) != 1 || aws.ToString(in.DesiredWeightsAndCapacities[0].VariantName) != "prod" ||
		aws.ToInt32(in.DesiredWeightsAndCapacities[0].DesiredInstanceCount) != 2 {
		t.Errorf("input = %+v", in)
	}
	if st := waitState(t, b, spec.Name); st.State != gpu.InService || st.InstanceCount != 2 {
		t.Errorf("after Scale: %+v", st)
	}
}

func TestDeleteCleansEverything(t *testing.T) {
	f, b := newBackend(t, testBucket, nil)
	spec := asyncSpec("del0001")
	deployed(t, b, spec)
	if err := b.EnableAutoscaling(context.Background(), spec.Name, 2); err != nil {
		t.Fatal(err)
	}
	other := asyncSpec("keep001")
	deployed(t, b, other)
	if err := b.Delete(context.Background(), spec.Name); err != nil {
		t.Fatal(err)
	}
	want := fakeState(other.Name)
	if d := cmp.Diff(want, f.State(), cmpopts.EquateEmpty()); d != "" {
		t.Errorf("state after Delete (-want +got):\n%s", d)
	}
	if _, err := b.Status(context.Background(), spec.Name); !isNotFound(err) {
		t.Errorf("Status after Delete: %v", err)
	}
	if err := b.Delete(context.Background(), spec.Name); err != nil {
		t.Errorf("second Delete: %v", err)
	}
	if err := b.Delete(context.Background(), other.Name); err != nil || !f.State().Empty() {
		t.Errorf("Delete %s: %v, state %+v", other.Name, err, f.State())
	}
}

// fakeState is what the fake holds for one deployed endpoint without
// autoscaling.
func fakeState(name string) fake.State {
	n := sm.NamesFor(name)
	return fake.State{Models: []string{n.Model}, EndpointConfigs: []string{n.Config}, Endpoints: []string{n.Endpoint}}
}

func TestReadyAfterDelay(t *testing.T) {
	f, b := newBackend(t, testBucket, nil)
	f.ReadyDelay = 150 * time.Millisecond
	spec := asyncSpec("dly0001")
	if err := b.Deploy(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if st, err := b.Status(context.Background(), spec.Name); err != nil || st.State != gpu.Creating {
			t.Fatalf("before the delay: %+v, %v", st, err)
		}
	}
	if st := waitState(t, b, spec.Name); st.State != gpu.InService {
		t.Fatalf("after the delay: %+v", st)
	}
}
