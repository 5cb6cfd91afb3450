package sagemaker_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"

	"easel/gpu"
	"easel/gpu/sagemaker"
	"easel/gpu/sagemaker/fake"
	"easel/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopGateway()
	os.Exit(code)
}

const (
	testBucket = "esd-bucket"
	testImage  = "123456789012.dkr.ecr.us-east-1.amazonaws.com/esd/inference:v1.4.0"
	testRole   = "arn:aws:iam::123456789012:role/esd-sagemaker"
)

// newBackend returns a fake and a Backend pointed at it (3 attempts per
// call, millisecond backoff).
func newBackend(t *testing.T, bucket string, store sagemaker.ObjectStore) (*fake.Server, *sagemaker.Backend) {
	t.Helper()
	f := fake.New()
	t.Cleanup(f.Close)
	f.Bucket = bucket
	f.AddRole(testRole)
	f.AddImage(testImage)
	f.PutObject("data/model.tar.gz", []byte("ESD model data"))
	b, err := sagemaker.New(context.Background(), sagemaker.Config{
		Region: "us-east-1", RoleARN: testRole, Image: testImage, Bucket: bucket,
		Endpoint: f.URL(), MaxAttempts: 3, MaxBackoff: 5 * time.Millisecond,
	}, store, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")))
	if err != nil {
		t.Fatal(err)
	}
	return f, b
}

func asyncSpec(short string) gpu.Spec {
	return gpu.Spec{
		Name: "esd-async-" + short, ID: short + "-5c8e-4d1a-9f3b-0123456789ab", Type: gpu.Async,
		InstanceType: "ml.g5.2xlarge", InstanceCount: 1, Autoscaling: true, MaxInstances: 3,
		CreatedAt: "2024-01-30 07:59:46.842717",
	}
}

// waitState polls Status until the endpoint leaves Creating/Updating.
func waitState(t *testing.T, b *sagemaker.Backend, name string) gpu.Status {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		st, err := b.Status(context.Background(), name)
		if err != nil {
			t.Fatalf("Status(%s): %v", name, err)
		}
		if st.State != gpu.Creating && st.State != gpu.Updating {
			return st
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("endpoint %s never settled", name)
	return gpu.Status{}
}

// deployed deploys spec and waits for it to be InService.
func deployed(t *testing.T, b *sagemaker.Backend, spec gpu.Spec) {
	t.Helper()
	if err := b.Deploy(context.Background(), spec); err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	if st := waitState(t, b, spec.Name); st.State != gpu.InService {
		t.Fatalf("state = %+v, want InService", st)
	}
}

// decodeCall decodes the only (or last) call of op.
func decodeCall(t *testing.T, f *fake.Server, op string, v any) {
	t.Helper()
	calls := f.CallsTo(op)
	if len(calls) == 0 {
		t.Fatalf("no %s call", op)
	}
	if err := calls[len(calls)-1].Decode(v); err != nil {
		t.Fatalf("decode %s: %v", op, err)
	}
}

func isNotFound(err error) bool { return errors.Is(err, gpu.ErrNotFound) }

// awsConfig is the SDK configuration of tests that call the fake directly.
func awsConfig(t *testing.T) aws.Config {
	t.Helper()
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion("us-east-1"),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// runtimeClient is a SageMaker Runtime client of the fake.
func runtimeClient(t *testing.T, f *fake.Server) *sagemakerruntime.Client {
	return sagemakerruntime.NewFromConfig(awsConfig(t), func(o *sagemakerruntime.Options) { o.BaseEndpoint = aws.String(f.URL()) })
}

// controlClient is a SageMaker client of the fake.
func controlClient(t *testing.T, f *fake.Server) *awssm.Client {
	return awssm.NewFromConfig(awsConfig(t), func(o *awssm.Options) { o.BaseEndpoint = aws.String(f.URL()) })
}
