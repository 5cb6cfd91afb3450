package app

import (
	"context"
	"fmt"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"easel/gpu"
	"easel/gpu/sagemaker"
)

// addSageMaker serves ml.* instance types when SageMaker is configured
// (EASEL_SAGEMAKER_ROLE_ARN); the standard AWS credential chain applies.
func (a *App) addSageMaker(ctx context.Context, reg *gpu.Registry) error {
	if a.Config.SageMakerRole == "" {
		return nil
	}
	var opts []func(*awsconfig.LoadOptions) error
	if a.Config.AWSAccessKey != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(a.Config.AWSAccessKey, a.Config.AWSSecretKey, "")))
	}
	b, err := sagemaker.New(ctx, sagemaker.Config{Region: a.Config.Region, RoleARN: a.Config.SageMakerRole,
		Image: a.Config.SageMakerImage, Bucket: a.Blob.Bucket, Endpoint: a.Config.SageMakerEndpoint}, a.Blob, opts...)
	if err != nil {
		return fmt.Errorf("sagemaker: %w", err)
	}
	reg.AddSageMaker(b)
	return nil
}
