// Package sagemaker is the gpu.Backend for Amazon SageMaker endpoints,
// driving SageMaker the way ESD 1.4.0 does: one model, one endpoint config
// (variant "prod") and one endpoint per deployment, async output under
// s3://<bucket>/sagemaker_output/, and Application Auto Scaling between 0
// and N instances for async endpoints.
package sagemaker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"

	"easel/gpu"
)

// Config says where and how to deploy.
type Config struct {
	Region string // default us-east-1
	// RoleARN is the execution role SageMaker models run as.
	RoleARN string
	// Image is the ESD inference image (ECR URI), unless a Spec overrides it.
	Image string
	// Bucket is ESD's bucket: model data, async inputs and outputs.
	Bucket string
	// ModelDataURL defaults to s3://<Bucket>/data/model.tar.gz.
	ModelDataURL string
	// Endpoint, when set, is the base URL used for every service
	// (SageMaker, SageMaker Runtime, Application Auto Scaling, CloudWatch,
	// and the check's ECR, IAM and STS) instead of AWS's; tests point it
	// at the fake.
	Endpoint string
	// MaxAttempts is how many times the SDK tries each call (default 3);
	// throttling and 5xx answers are retried.
	MaxAttempts int
	// MaxBackoff caps the SDK's wait between attempts (default 20s).
	MaxBackoff time.Duration
}

// ObjectStore is the bucket async inference uses (*blob.Client satisfies
// it). Get must fail with an error satisfying blob.IsNotFound when the
// object is missing.
type ObjectStore interface {
	Put(ctx context.Context, key string, body []byte, contentType string) error
	Get(ctx context.Context, key string) (io.ReadCloser, error)
}

// Key prefixes in the bucket.
const (
	// OutputPrefix is where SageMaker writes async results (ESD's layout).
	OutputPrefix = "sagemaker_output/"
	// FailurePrefix is where SageMaker writes async failures; ESD learnt
	// of them through SNS instead, which Easel does not use.
	FailurePrefix = "sagemaker_async_failures/"
	// InputPrefix is where InvokeAsync stages request JSON.
	InputPrefix = "async-inputs/"
	// Variant is the one production variant of every endpoint.
	Variant = "prod"
)

// Backend deploys and invokes SageMaker endpoints. It implements
// gpu.AsyncBackend.
type Backend struct {
	cfg     Config
	store   ObjectStore
	sm      *sagemaker.Client
	runtime *sagemakerruntime.Client
	scaling *applicationautoscaling.Client
	alarms  *cloudwatch.Client
	// aws and base are the SDK configuration and endpoint override, for
	// the clients of the prerequisite check.
	aws  aws.Config
	base *string
}

var _ gpu.AsyncBackend = (*Backend)(nil)

// New returns a Backend. The AWS configuration is the default chain for
// cfg.Region with opts applied (e.g. awsconfig.WithCredentialsProvider).
// store may be nil when async inference is not used.
func New(ctx context.Context, cfg Config, store ObjectStore, opts ...func(*awsconfig.LoadOptions) error) (*Backend, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("sagemaker: Bucket is required")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.ModelDataURL == "" {
		cfg.ModelDataURL = "s3://" + cfg.Bucket + "/data/model.tar.gz"
	}
	loads := append([]func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(cfg.Region)}, opts...)
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return nil, fmt.Errorf("sagemaker: aws config: %w", err)
	}
	awsCfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			if cfg.MaxAttempts > 0 {
				o.MaxAttempts = cfg.MaxAttempts
			}
			if cfg.MaxBackoff > 0 {
				o.MaxBackoff = cfg.MaxBackoff
				o.Backoff = retry.NewExponentialJitterBackoff(cfg.MaxBackoff)
			}
		})
	}
	var base *string
	if cfg.Endpoint != "" {
		base = aws.String(cfg.Endpoint)
	}
	return &Backend{
		cfg:     cfg,
		store:   store,
		sm:      sagemaker.NewFromConfig(awsCfg, func(o *sagemaker.Options) { o.BaseEndpoint = base }),
		runtime: sagemakerruntime.NewFromConfig(awsCfg, func(o *sagemakerruntime.Options) { o.BaseEndpoint = base }),
		scaling: applicationautoscaling.NewFromConfig(awsCfg, func(o *applicationautoscaling.Options) { o.BaseEndpoint = base }),
		alarms:  cloudwatch.NewFromConfig(awsCfg, func(o *cloudwatch.Options) { o.BaseEndpoint = base }),
		aws:     awsCfg,
		base:    base,
	}, nil
}

// Names of the SageMaker resources behind an endpoint.
type Names struct {
	Endpoint, Model, Config string
}

// NamesFor derives ESD's model and endpoint config names from an endpoint
// name: esd-<t>-<short> → esd-model-<t>-<short>, esd-config-<t>-<short>.
func NamesFor(endpoint string) Names {
	rest := strings.TrimPrefix(endpoint, "esd-")
	return Names{Endpoint: endpoint, Model: "esd-model-" + rest, Config: "esd-config-" + rest}
}

// AlarmName is the CloudWatch alarm driving an endpoint's step scaling
// policy (ESD shared one fixed name across endpoints; Easel has one each).
func AlarmName(endpoint string) string {
	return endpoint + "-hasbacklogwithoutcapacity-alarm"
}

// resourceID is the Application Auto Scaling resource of an endpoint.
func resourceID(endpoint string) string {
	return "endpoint/" + endpoint + "/variant/" + Variant
}

// s3URI returns s3://<bucket>/<key>.
func (b *Backend) s3URI(key string) string {
	return "s3://" + b.cfg.Bucket + "/" + key
}
