package web_test

import (
	"context"
	"io"
	"testing"

	"easel/gpu/sagemaker/fake"
	"easel/internal/testenv"
)

const (
	smRole  = "arn:aws:iam::123456789012:role/ESDRoleForEndpoint-us-east-1"
	smImage = "123456789012.dkr.ecr.us-east-1.amazonaws.com/esd/inference:1.4.0"
)

// sageMakerServer starts Easel with SageMaker pointed at a fake whose
// SageMaker and container read and write the server's own bucket, where
// ESD's model data archive and WebUI bundles are in place.
func sageMakerServer(t *testing.T, env ...testenv.Option) (*testenv.Server, *fake.Server) {
	t.Helper()
	f := fake.New()
	t.Cleanup(f.Close)
	opts := append([]testenv.Option{
		testenv.WithEnv("EASEL_SAGEMAKER_ROLE_ARN", smRole),
		testenv.WithEnv("EASEL_SAGEMAKER_IMAGE", smImage),
		testenv.WithEnv("EASEL_SAGEMAKER_ENDPOINT", f.URL()),
		testenv.WithEnv("AWS_ACCESS_KEY_ID", "AKIDTEST"), testenv.WithEnv("AWS_SECRET_ACCESS_KEY", "secret"),
		testenv.WithEnv("EASEL_RECONCILE_INTERVAL", "200ms")}, env...)
	s := testenv.NewServer(t, opts...)
	ctx := context.Background()
	b := s.App.Blob
	f.Bucket = b.Bucket
	f.ReadObject = func(key string) ([]byte, error) {
		rc, err := b.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	f.WriteObject = func(key string, body []byte) error { return b.Put(ctx, key, body, "application/json") }
	f.AddRole(smRole)
	f.AddImage(smImage)
	for key, body := range map[string]string{"data/model.tar.gz": "ESD model data", "v1.4.0-g5/webui.tar": "bundle", "v1.4.0-g4/webui.tar": "bundle"} {
		if err := b.Put(ctx, key, []byte(body), ""); err != nil {
			t.Fatal(err)
		}
	}
	return s, f
}
