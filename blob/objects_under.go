package blob

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Object is one stored object: its key and size.
type Object struct {
	Key  string
	Size int64
}

// ObjectsUnder returns the objects whose keys start with prefix, in key
// order, at most max of them.
func (c *Client) ObjectsUnder(ctx context.Context, prefix string, max int) ([]Object, error) {
	var out []Object
	pages := s3.NewListObjectsV2Paginator(c.s3, &s3.ListObjectsV2Input{Bucket: &c.Bucket, Prefix: &prefix})
	for pages.HasMorePages() && len(out) < max {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return out, fmt.Errorf("list objects under %q: %w", prefix, err)
		}
		for _, o := range page.Contents {
			if len(out) < max {
				out = append(out, Object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size)})
			}
		}
	}
	return out, nil
}
