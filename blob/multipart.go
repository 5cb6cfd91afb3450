package blob

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3's multipart limits.
const (
	MaxParts    = 10000
	MinPartSize = 5 << 20 // every part but the last
	MaxPartSize = 5 << 30
)

// Part is one uploaded part of a multipart upload.
type Part struct {
	Number int32
	// ETag is the part's ETag as S3 returned it, quotes included.
	ETag string
	// Size is filled in by ListParts; CompleteMultipartUpload ignores it.
	Size int64
}

// MultipartUpload is an open (neither completed nor aborted) multipart upload.
type MultipartUpload struct {
	Key       string
	UploadID  string
	Initiated time.Time
}

// CreateMultipartUpload starts a multipart upload of key and returns its
// upload ID, or "" and an error when the store refuses.
func (c *Client) CreateMultipartUpload(ctx context.Context, key string) (string, error) {
	out, err := c.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &c.Bucket, Key: &key})
	if err != nil {
		return "", fmt.Errorf("create multipart upload %s: %w", key, err)
	}
	if out.UploadId == nil || *out.UploadId == "" {
		return "", fmt.Errorf("create multipart upload %s: store returned no upload id", key)
	}
	return *out.UploadId, nil
}

// CompleteMultipartUpload assembles the object key from parts (sorted by
// number here; the ETags are sent exactly as given) and returns the
// object's ETag. On failure it returns "" and an error; IsInvalidPart is
// true for it when the part list is wrong (unknown part, wrong ETag, a
// non-last part under 5 MiB), and IsNotFound when the upload does not
// exist (aborted, or already completed). A failed completion leaves the
// upload open, so it can still be retried or aborted.
//
// The upload is checked to exist first (one ListParts call): versitygw
// answers a CompleteMultipartUpload for an unknown or finished upload ID
// with success whenever an object exists at key, and AWS S3 may do the same
// for a repeated completion. So a retry after a completion that did succeed
// but whose answer was lost also gets IsNotFound; callers that need to tell
// the two apart can Head the key.
func (c *Client) CompleteMultipartUpload(ctx context.Context, key, uploadID string, parts []Part) (string, error) {
	if len(parts) == 0 {
		return "", fmt.Errorf("complete multipart upload %s: no parts", key)
	}
	if _, err := c.s3.ListParts(ctx, &s3.ListPartsInput{
		Bucket: &c.Bucket, Key: &key, UploadId: &uploadID, MaxParts: aws.Int32(1),
	}); err != nil {
		return "", fmt.Errorf("complete multipart upload %s: %w", key, err)
	}
	sorted := slices.Clone(parts)
	slices.SortFunc(sorted, func(a, b Part) int { return int(a.Number) - int(b.Number) })
	completed := make([]types.CompletedPart, len(sorted))
	for i, p := range sorted {
		completed[i] = types.CompletedPart{PartNumber: aws.Int32(p.Number), ETag: aws.String(p.ETag)}
	}
	out, err := c.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &c.Bucket, Key: &key, UploadId: &uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: completed},
	})
	if err != nil {
		return "", fmt.Errorf("complete multipart upload %s: %w", key, err)
	}
	return aws.ToString(out.ETag), nil
}

// AbortMultipartUpload discards the upload and its parts. An upload that
// does not exist (already aborted or completed) counts as success, so it
// is safe to call more than once; any other failure is returned.
func (c *Client) AbortMultipartUpload(ctx context.Context, key, uploadID string) error {
	_, err := c.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: &c.Bucket, Key: &key, UploadId: &uploadID,
	})
	if err != nil && !IsNotFound(err) {
		return fmt.Errorf("abort multipart upload %s: %w", key, err)
	}
	return nil
}

// ListParts returns the parts uploaded so far to uploadID, in part-number
// order, with their sizes. It returns an error for which IsNotFound is true
// when the upload does not exist.
func (c *Client) ListParts(ctx context.Context, key, uploadID string) ([]Part, error) {
	var parts []Part
	pages := s3.NewListPartsPaginator(c.s3, &s3.ListPartsInput{Bucket: &c.Bucket, Key: &key, UploadId: &uploadID})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list parts %s: %w", key, err)
		}
		for _, p := range page.Parts {
			parts = append(parts, Part{
				Number: aws.ToInt32(p.PartNumber), ETag: aws.ToString(p.ETag), Size: aws.ToInt64(p.Size),
			})
		}
	}
	return parts, nil
}

// ListMultipartUploads returns the open multipart uploads whose key starts
// with prefix ("" means all), or nil and an error.
func (c *Client) ListMultipartUploads(ctx context.Context, prefix string) ([]MultipartUpload, error) {
	var uploads []MultipartUpload
	in := &s3.ListMultipartUploadsInput{Bucket: &c.Bucket}
	if prefix != "" {
		in.Prefix = &prefix
	}
	pages := s3.NewListMultipartUploadsPaginator(c.s3, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list multipart uploads %s: %w", prefix, err)
		}
		for _, u := range page.Uploads {
			uploads = append(uploads, MultipartUpload{
				Key: aws.ToString(u.Key), UploadID: aws.ToString(u.UploadId), Initiated: aws.ToTime(u.Initiated),
			})
		}
	}
	return uploads, nil
}

// abortQuietly aborts an upload on a failure path: it does not inherit
// ctx's cancellation (a cancelled upload must still be cleaned up), but is
// bounded in time. It returns the abort's error, if any.
func (c *Client) abortQuietly(ctx context.Context, key, uploadID string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return c.AbortMultipartUpload(ctx, key, uploadID)
}
