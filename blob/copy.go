package blob

import (
	"context"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Copy copies the object from to the key to inside the bucket, on the
// store's side (the bytes never pass through Easel). Objects of 5 GiB and
// more are copied part by part. It returns the store's error, if any.
func (c *Client) Copy(ctx context.Context, from, to string) error {
	size, err := c.Head(ctx, from)
	if err != nil {
		return err
	}
	source := c.Bucket + "/" + url.PathEscape(from)
	if size < 5<<30 {
		_, err := c.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &c.Bucket, Key: &to, CopySource: &source})
		if err != nil {
			return fmt.Errorf("copy %s to %s: %w", from, to, err)
		}
		return nil
	}
	uploadID, err := c.CreateMultipartUpload(ctx, to)
	if err != nil {
		return err
	}
	const part = 1 << 30
	var parts []Part
	for n, off := int32(1), int64(0); off < size; n, off = n+1, off+part {
		rng := fmt.Sprintf("bytes=%d-%d", off, min(off+part, size)-1)
		out, err := c.s3.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: &c.Bucket, Key: &to,
			UploadId: &uploadID, PartNumber: &n, CopySource: &source, CopySourceRange: &rng})
		if err != nil {
			_ = c.AbortMultipartUpload(context.WithoutCancel(ctx), to, uploadID)
			return fmt.Errorf("copy %s to %s, part %d: %w", from, to, n, err)
		}
		parts = append(parts, Part{Number: n, ETag: *out.CopyPartResult.ETag})
	}
	if _, err := c.CompleteMultipartUpload(ctx, to, uploadID, parts); err != nil {
		_ = c.AbortMultipartUpload(context.WithoutCancel(ctx), to, uploadID)
		return err
	}
	return nil
}

// Delete removes the object key; a missing object is not an error.
func (c *Client) Delete(ctx context.Context, key string) error {
	if _, err := c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &c.Bucket, Key: &key}); err != nil && !IsNotFound(err) {
		return fmt.Errorf("delete object %s: %w", key, err)
	}
	return nil
}
