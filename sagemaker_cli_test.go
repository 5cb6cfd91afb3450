package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"easel/gpu/sagemaker/fake"
)

// TestSageMakerCheckCommand runs `easel sagemaker check` against the fake.
func TestSageMakerCheckCommand(t *testing.T) {
	f := fake.New()
	t.Cleanup(f.Close)
	role := "arn:aws:iam::123456789012:role/ESDRoleForEndpoint-us-east-1"
	image := "123456789012.dkr.ecr.us-east-1.amazonaws.com/esd/inference:1.4.0"
	f.AddRole(role)
	f.AddImage(image)
	env := map[string]string{"EASEL_DATA_DIR": t.TempDir(), "EASEL_SAGEMAKER_ROLE_ARN": role, "EASEL_SAGEMAKER_IMAGE": image,
		"EASEL_SAGEMAKER_ENDPOINT": f.URL(), "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret"}
	check := func() (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), []string{"sagemaker", "check"}, func(k string) string { return env[k] }, &out)
		return out.String(), err
	}
	out, err := check()
	if err != nil {
		t.Fatalf("check: %v\n%s", err, out)
	}
	for _, want := range []string{"ok           Inference image " + image, "ok           Execution role " + role,
		"NOT VERIFIED Model data archive s3://easel/data/model.tar.gz: could not verify: this server cannot read the bucket",
		"0 missing"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, c := range f.Calls() {
		if !strings.HasPrefix(c.Op, "Get") && !strings.HasPrefix(c.Op, "Describe") && c.Op != "SimulatePrincipalPolicy" {
			t.Errorf("the check called %s.%s", c.Service, c.Op)
		}
	}

	f.Deny(f.Caller, "iam:PassRole")
	out, err = check()
	if err == nil || !strings.Contains(err.Error(), "SageMaker prerequisites missing: 1") ||
		!strings.Contains(out, "MISSING      Easel's AWS identity") || !strings.Contains(out, "fix: Attach a policy") {
		t.Errorf("check with PassRole denied: %v\n%s", err, out)
	}

	delete(env, "EASEL_SAGEMAKER_ROLE_ARN")
	if _, err := check(); err == nil || !strings.Contains(err.Error(), "SageMaker is not configured") {
		t.Errorf("without SageMaker: %v", err)
	}
}
