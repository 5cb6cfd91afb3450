package blob

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// DefaultPresignTTL is the lifetime a presigned URL gets when the caller
// passes a ttl <= 0.
const DefaultPresignTTL = time.Hour

func presignTTL(ttl time.Duration) func(*s3.PresignOptions) {
	if ttl <= 0 {
		ttl = DefaultPresignTTL
	}
	return s3.WithPresignExpires(ttl)
}

// PresignPut returns a URL that lets its holder PUT the object key (a plain
// HTTP PUT of the body, no extra headers needed) for ttl. The URL names
// Config.PublicURL when set. It returns "" and an error only when signing
// fails (e.g. no credentials); nothing is sent to the store.
func (c *Client) PresignPut(ctx context.Context, key string, ttl time.Duration) (string, error) {
	req, err := c.presign.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: &c.Bucket, Key: &key}, presignTTL(ttl))
	if err != nil {
		return "", fmt.Errorf("presign put %s: %w", key, err)
	}
	return req.URL, nil
}

// PresignGet returns a URL that lets its holder GET the object key for ttl.
// It returns "" and an error only when signing fails; whether the object
// exists is not checked.
func (c *Client) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	req, err := c.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &c.Bucket, Key: &key}, presignTTL(ttl))
	if err != nil {
		return "", fmt.Errorf("presign get %s: %w", key, err)
	}
	return req.URL, nil
}

// PresignUploadPart returns a URL that lets its holder PUT part partNumber
// (1..10000) of the multipart upload uploadID of key for ttl. The response
// to that PUT carries the part's ETag header, which the holder must report
// back for CompleteMultipartUpload. It returns "" and an error when signing
// fails or partNumber is out of range.
func (c *Client) PresignUploadPart(ctx context.Context, key, uploadID string, partNumber int32, ttl time.Duration) (string, error) {
	if partNumber < 1 || partNumber > MaxParts {
		return "", fmt.Errorf("presign upload part %s: part number %d not in 1..%d", key, partNumber, MaxParts)
	}
	req, err := c.presign.PresignUploadPart(ctx, &s3.UploadPartInput{
		Bucket: &c.Bucket, Key: &key, UploadId: &uploadID, PartNumber: &partNumber,
	}, presignTTL(ttl))
	if err != nil {
		return "", fmt.Errorf("presign upload part %s #%d: %w", key, partNumber, err)
	}
	return req.URL, nil
}
