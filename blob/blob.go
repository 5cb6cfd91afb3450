// Package blob is Easel's one S3 client, for Amazon S3 and any
// S3-compatible store.
package blob

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Config says which store and bucket to use.
type Config struct {
	// Endpoint is the store's URL; "aws" or empty means Amazon S3.
	Endpoint string
	// PublicURL, when set, is the host presigned URLs name (for clients
	// that reach the store under another address).
	PublicURL string
	Region    string
	Bucket    string
	// AccessKey/SecretKey are static credentials; empty means the standard
	// AWS credential chain.
	AccessKey string
	SecretKey string
	// Observer, when set, times every request (the metrics).
	Observer CallObserver
}

// Client talks to one bucket.
type Client struct {
	s3      *s3.Client
	presign *s3.PresignClient
	Bucket  string
}

// New returns a client for cfg.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(cfg.Region)}
	if cfg.AccessKey != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, "")))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	custom := cfg.Endpoint != "" && cfg.Endpoint != "aws"
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if custom {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
			o.UsePathStyle = true
		}
		// Ranged reads (model headers) carry no full-object checksum; the
		// SDK would print a DEBUG line to stderr for each.
		o.DisableLogOutputChecksumValidationSkipped = true
		if cfg.Observer != nil {
			o.APIOptions = append(o.APIOptions, observeCalls(cfg.Observer))
		}
	})
	presignBase := client
	if cfg.PublicURL != "" {
		presignBase = s3.NewFromConfig(awsCfg, func(o *s3.Options) {
			o.BaseEndpoint = aws.String(cfg.PublicURL)
			o.UsePathStyle = custom
		})
	}
	return &Client{s3: client, presign: s3.NewPresignClient(presignBase), Bucket: cfg.Bucket}, nil
}

// EnsureBucket creates the bucket when missing and lets browsers PUT, GET
// and HEAD objects directly (CORS, ETag exposed for multipart uploads).
func (c *Client) EnsureBucket(ctx context.Context) error {
	_, err := c.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &c.Bucket})
	if err != nil {
		if _, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &c.Bucket}); err != nil {
			var owned *types.BucketAlreadyOwnedByYou
			if !errors.As(err, &owned) {
				return fmt.Errorf("create bucket %s: %w", c.Bucket, err)
			}
		}
	}
	_, err = c.s3.PutBucketCors(ctx, &s3.PutBucketCorsInput{
		Bucket: &c.Bucket,
		CORSConfiguration: &types.CORSConfiguration{CORSRules: []types.CORSRule{{
			AllowedMethods: []string{"PUT", "GET", "HEAD"},
			AllowedOrigins: []string{"*"},
			AllowedHeaders: []string{"*"},
			ExposeHeaders:  []string{"ETag"},
			MaxAgeSeconds:  aws.Int32(3600),
		}}},
	})
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode() == "NotImplemented" {
			return nil
		}
		return fmt.Errorf("put bucket cors: %w", err)
	}
	return nil
}

// Ping checks that the bucket is reachable.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &c.Bucket})
	if err != nil {
		return fmt.Errorf("head bucket %s: %w", c.Bucket, err)
	}
	return nil
}
