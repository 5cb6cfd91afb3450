package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"easel/blob"
	"easel/gpu"
	"easel/gpu/sagemaker"
	"easel/jobs"
	"easel/trainer"
)

// checkTTL is how long the Endpoints page reuses a prerequisite check.
const checkTTL = 5 * time.Minute

// addSageMaker serves ml.* instance types when SageMaker is configured
// (EASEL_SAGEMAKER_ROLE_ARN); the standard AWS credential chain applies.
// The ESD container reads the bucket through Amazon S3 itself, so with
// another store the types are refused, with the reason, unless
// EASEL_SAGEMAKER_ENDPOINT names a gateway that reaches this store.
func (a *App) addSageMaker(ctx context.Context, reg *gpu.Registry) error {
	if a.Config.SageMakerRole == "" {
		return nil
	}
	s3 := storeFinding(a.Config)
	if s3.Status == gpu.FindingMissing {
		reg.Refuse(gpu.SageMakerInstanceTypes, "SageMaker endpoints are not offered: "+s3.Detail)
		reg.SetCheck(func(context.Context) []gpu.Finding { return []gpu.Finding{s3} })
		a.Log.Warn("SageMaker instance types are not offered", "reason", s3.Detail)
		return nil
	}
	b, err := newSageMaker(ctx, a.Config, a.Blob)
	if err != nil {
		return err
	}
	reg.AddSageMaker(b)
	if a.Config.TrainImage != "" {
		a.smTrainer = b.Trainer(a.Config.TrainImage, a.watchTraining)
	}
	c := &cachedCheck{run: func(ctx context.Context) []gpu.Finding {
		return append([]gpu.Finding{s3}, b.Check(ctx, a.Blob)...)
	}}
	reg.SetCheck(c.get)
	return nil
}

// newSageMaker returns the backend cfg describes; store may be nil.
func newSageMaker(ctx context.Context, cfg Config, store *blob.Client) (*sagemaker.Backend, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if cfg.AWSAccessKey != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AWSAccessKey, cfg.AWSSecretKey, "")))
	}
	var objects sagemaker.ObjectStore
	if store != nil {
		objects = store
	}
	b, err := sagemaker.New(ctx, sagemaker.Config{Region: cfg.Region, RoleARN: cfg.SageMakerRole,
		Image: cfg.SageMakerImage, Bucket: cfg.S3Bucket, Endpoint: cfg.SageMakerEndpoint}, objects, opts...)
	if err != nil {
		return nil, fmt.Errorf("sagemaker: %w", err)
	}
	return b, nil
}

// storeFinding says whether the ESD container can reach this server's
// bucket: through Amazon S3 (EASEL_S3_ENDPOINT=aws), or through the
// gateway EASEL_SAGEMAKER_ENDPOINT names (which only its operator can
// vouch for).
func storeFinding(cfg Config) gpu.Finding {
	what := "Bucket s3://" + cfg.S3Bucket + "/ reachable by the container"
	switch {
	case cfg.S3Endpoint == "aws":
		return gpu.Finding{What: what, Status: gpu.FindingOK, Detail: "EASEL_S3_ENDPOINT=aws: the container reads it through Amazon S3"}
	case cfg.SageMakerEndpoint != "":
		return gpu.Finding{What: what, Status: gpu.FindingUnverified, Detail: "could not verify: EASEL_SAGEMAKER_ENDPOINT names a " +
			"gateway, which must give the container this store (EASEL_S3_ENDPOINT=" + cfg.S3Endpoint + ")"}
	}
	store := "unset, the embedded store"
	if cfg.S3Endpoint != "" {
		store = cfg.S3Endpoint
	}
	return gpu.Finding{What: what, Status: gpu.FindingMissing,
		Detail: "the ESD inference container reads models, parameters and its WebUI bundle from Amazon S3 itself, " +
			"and this server's store is not Amazon S3 (EASEL_S3_ENDPOINT is " + store + ")",
		Fix: "Set EASEL_S3_ENDPOINT=aws and EASEL_S3_BUCKET to the bucket the container should use (an ESD bucket works), " +
			"or EASEL_SAGEMAKER_ENDPOINT to an AWS-compatible gateway that reaches this store."}
}

// cachedCheck runs a check at most once per checkTTL.
type cachedCheck struct {
	run  gpu.Check
	mu   sync.Mutex
	last []gpu.Finding
	at   time.Time
}

func (c *cachedCheck) get(ctx context.Context) []gpu.Finding {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last == nil || time.Since(c.at) > checkTTL {
		ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		c.last, c.at = c.run(ctx), time.Now()
	}
	return c.last
}

// CheckSageMaker runs the SageMaker prerequisite check of cfg without
// starting a server: the bucket is read when it is an external store.
// It fails only when SageMaker is not configured.
func CheckSageMaker(ctx context.Context, cfg Config, log *slog.Logger) ([]gpu.Finding, error) {
	if cfg.SageMakerRole == "" {
		return nil, errors.New("SageMaker is not configured: set EASEL_SAGEMAKER_ROLE_ARN and EASEL_SAGEMAKER_IMAGE")
	}
	var store *blob.Client
	if cfg.S3Endpoint != "" {
		var err error
		store, err = blob.New(ctx, blob.Config{Endpoint: cfg.S3Endpoint, PublicURL: cfg.S3PublicURL, Region: cfg.Region,
			Bucket: cfg.S3Bucket, AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey})
		if err != nil {
			log.Warn("cannot open the bucket", "error", err)
			store = nil
		}
	}
	b, err := newSageMaker(ctx, cfg, store)
	if err != nil {
		return nil, err
	}
	var bucket sagemaker.Bucket
	if store != nil {
		bucket = store
	}
	return append([]gpu.Finding{storeFinding(cfg)}, b.Check(ctx, bucket)...), nil
}

// watchTraining follows a started SageMaker training job from River.
func (a *App) watchTraining(ctx context.Context, id, jobName string) error {
	_, err := a.River.Insert(ctx, jobs.TrainingWatchArgs{TrainingID: id, JobName: jobName}, nil)
	return err
}

// trainDeps are the River and action dependencies of SageMaker training:
// none unless it is configured (no typed nil in an interface).
func (a *App) trainDeps() (jobs.TrainingDescriber, []trainer.Backend) {
	if a.smTrainer == nil {
		return nil, nil
	}
	return a.smTrainer, []trainer.Backend{a.smTrainer}
}
