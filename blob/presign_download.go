package blob

import (
	"context"
	"fmt"
	"mime"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// PresignDownload is PresignGet for a link that saves the object as
// filename instead of showing it (the store answers with
// Content-Disposition: attachment). It returns "" and an error only when
// signing fails.
func (c *Client) PresignDownload(ctx context.Context, key, filename string, ttl time.Duration) (string, error) {
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": filename})
	req, err := c.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &c.Bucket, Key: &key,
		ResponseContentDisposition: &disposition}, presignTTL(ttl))
	if err != nil {
		return "", fmt.Errorf("presign download %s: %w", key, err)
	}
	return req.URL, nil
}
