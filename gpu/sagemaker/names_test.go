package sagemaker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"easel/gpu"
	"easel/gpu/sagemaker"
)

func TestCheckEndpointName(t *testing.T) {
	for name, want := range map[string]string{
		"esd-async-1a2b3c4":                        "",
		"esd-real-time-a--b":                       "",
		"esd-async-mine-":                          "start and end with a letter or digit",
		"esd-async-mine_1":                         "letters, digits and dashes",
		"esd-async-" + strings.Repeat("a", 46):     "", // esd-config-async-<46> is 63 long
		"esd-async-" + strings.Repeat("a", 47):     "esd-config-async-" + strings.Repeat("a", 47) + "\" is 64 characters long",
		"esd-real-time-" + strings.Repeat("b", 42): "",
		"esd-real-time-" + strings.Repeat("b", 43): "is 64 characters long; SageMaker allows at most 63",
	} {
		err := sagemaker.CheckEndpointName(name)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("CheckEndpointName(%q) = %v, want %q", name, err, want)
		}
	}
}

// TestDeployChecksNamesFirst: a name SageMaker would reject never reaches it.
func TestDeployChecksNamesFirst(t *testing.T) {
	f, b := newBackend(t, testBucket, nil)
	spec := asyncSpec("x")
	spec.Name = "esd-async-mine-"
	if err := b.Deploy(context.Background(), spec); err == nil || !strings.Contains(err.Error(), "start and end with a letter or digit") {
		t.Fatalf("Deploy(%q) = %v", spec.Name, err)
	}
	if n := len(f.Calls()); n != 0 {
		t.Errorf("%d calls reached SageMaker", n)
	}
}

// TestFakeCreateModelChecksLikeSageMaker: the fake refuses what SageMaker
// refuses, so a backend that would fail on AWS fails here too.
func TestFakeCreateModelChecksLikeSageMaker(t *testing.T) {
	f, _ := newBackend(t, testBucket, nil)
	sm := controlClient(t, f)
	create := func(name, role, data string) error {
		_, err := sm.CreateModel(context.Background(), &awssm.CreateModelInput{ModelName: aws.String(name),
			ExecutionRoleArn: aws.String(role),
			PrimaryContainer: &types.ContainerDefinition{Image: aws.String(testImage), ModelDataUrl: aws.String(data)}})
		return err
	}
	data := "s3://" + testBucket + "/data/model.tar.gz"
	for _, tc := range []struct{ name, role, data, want string }{
		{"esd-model-async-" + strings.Repeat("a", 48), testRole, data, "Member must have length less than or equal to 63"},
		{"esd-model-async-x-", testRole, data, "Member must satisfy regular expression pattern"},
		{"esd-model-async-x", "arn:aws:iam::123456789012:role/nobody", data, "Could not assume role arn:aws:iam::123456789012:role/nobody"},
		{"esd-model-async-x", testRole, "s3://" + testBucket + "/data/missing.tar.gz", "Could not find model data at s3://esd-bucket/data/missing.tar.gz."},
		{"esd-model-async-x", testRole, "s3://other-bucket/data/model.tar.gz", "Could not find model data"},
	} {
		if err := create(tc.name, tc.role, tc.data); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CreateModel(%s, %s, %s) = %v, want %q", tc.name, tc.role, tc.data, err, tc.want)
		}
	}
	if err := create("esd-model-async-x", testRole, data); err != nil {
		t.Errorf("a valid model: %v", err)
	}
}

// TestDeployWithoutModelData: Deploy reports SageMaker's refusal and
// leaves nothing behind.
func TestDeployWithoutModelData(t *testing.T) {
	f, _ := newBackend(t, testBucket, nil)
	b, err := sagemaker.New(context.Background(), sagemaker.Config{RoleARN: testRole, Image: testImage, Bucket: testBucket,
		ModelDataURL: "s3://" + testBucket + "/data/none.tar.gz", Endpoint: f.URL(), MaxAttempts: 1, MaxBackoff: time.Millisecond},
		nil, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")))
	if err != nil {
		t.Fatal(err)
	}
	err = b.Deploy(context.Background(), asyncSpec("nodata1"))
	if err == nil || !strings.Contains(err.Error(), "Could not find model data at s3://esd-bucket/data/none.tar.gz") || gpu.IsTransient(err) {
		t.Fatalf("Deploy = %v", err)
	}
	if !f.State().Empty() {
		t.Errorf("left behind: %+v", f.State())
	}
}
