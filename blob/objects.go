package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Head returns the size of the object key. When it is missing the error
// satisfies IsNotFound.
func (c *Client) Head(ctx context.Context, key string) (int64, error) {
	out, err := c.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &c.Bucket, Key: &key})
	if err != nil {
		return 0, fmt.Errorf("head object %s: %w", key, err)
	}
	return aws.ToInt64(out.ContentLength), nil
}

// Get returns the body of the object key; the caller must close it. When
// the object is missing the error satisfies IsNotFound.
func (c *Client) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &c.Bucket, Key: &key})
	if err != nil {
		return nil, fmt.Errorf("get object %s: %w", key, err)
	}
	return out.Body, nil
}

// Put writes body as the object key, replacing any existing one.
// contentType may be empty (the store then picks its default). It returns
// the store's error, if any.
func (c *Client) Put(ctx context.Context, key string, body []byte, contentType string) error {
	in := &s3.PutObjectInput{
		Bucket: &c.Bucket, Key: &key, Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))),
	}
	if contentType != "" {
		in.ContentType = &contentType
	}
	if _, err := c.s3.PutObject(ctx, in); err != nil {
		return fmt.Errorf("put object %s: %w", key, err)
	}
	return nil
}

// DeletePrefix deletes every object whose key starts with prefix and
// aborts every open multipart upload under it. It returns the number of
// objects deleted; on failure that count is what was deleted before the
// error. An empty prefix is refused (it would empty the bucket).
func (c *Client) DeletePrefix(ctx context.Context, prefix string) (int, error) {
	if prefix == "" {
		return 0, errors.New("delete prefix: empty prefix")
	}
	deleted := 0
	pages := s3.NewListObjectsV2Paginator(c.s3, &s3.ListObjectsV2Input{Bucket: &c.Bucket, Prefix: &prefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return deleted, fmt.Errorf("delete prefix %s: list: %w", prefix, err)
		}
		keys := make([]string, 0, len(page.Contents))
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		for len(keys) > 0 {
			batch := keys[:min(len(keys), 1000)]
			keys = keys[len(batch):]
			n, err := c.deleteObjects(ctx, batch)
			deleted += n
			if err != nil {
				return deleted, fmt.Errorf("delete prefix %s: %w", prefix, err)
			}
		}
	}
	uploads, err := c.ListMultipartUploads(ctx, prefix)
	if err != nil {
		return deleted, fmt.Errorf("delete prefix %s: %w", prefix, err)
	}
	for _, u := range uploads {
		if err := c.AbortMultipartUpload(ctx, u.Key, u.UploadID); err != nil {
			return deleted, fmt.Errorf("delete prefix %s: %w", prefix, err)
		}
	}
	return deleted, nil
}

// deleteObjects deletes up to 1000 keys with one DeleteObjects call, or
// one DeleteObject call per key when the store does not implement batch
// delete. It returns how many were deleted and the first failure.
func (c *Client) deleteObjects(ctx context.Context, keys []string) (int, error) {
	ids := make([]types.ObjectIdentifier, len(keys))
	for i := range keys {
		ids[i] = types.ObjectIdentifier{Key: &keys[i]}
	}
	out, err := c.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{
		Bucket: &c.Bucket, Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
	})
	if err != nil {
		switch errorCode(err) {
		case "NotImplemented", "MethodNotAllowed", "NotSupported":
			return c.deleteOneByOne(ctx, keys)
		}
		return 0, fmt.Errorf("delete objects: %w", err)
	}
	// Quiet mode reports only failures; a missing key is not one.
	var errs []error
	for _, e := range out.Errors {
		if aws.ToString(e.Code) == "NoSuchKey" {
			continue
		}
		errs = append(errs, fmt.Errorf("delete object %s: %s: %s",
			aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message)))
	}
	return len(keys) - len(errs), errors.Join(errs...)
}

func (c *Client) deleteOneByOne(ctx context.Context, keys []string) (int, error) {
	for i, key := range keys {
		if _, err := c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &c.Bucket, Key: &key}); err != nil {
			return i, fmt.Errorf("delete object %s: %w", key, err)
		}
	}
	return len(keys), nil
}
