package blob

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// maxFolders bounds how many folders Folders lists.
const maxFolders = 1000

// Folders returns the "folders" directly under prefix: the common
// prefixes up to the next "/" (e.g. "v1.4.0-g5/" for prefix ""), at most
// 1000 of them. It returns the store's error, if any.
func (c *Client) Folders(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	pages := s3.NewListObjectsV2Paginator(c.s3, &s3.ListObjectsV2Input{Bucket: &c.Bucket, Prefix: &prefix, Delimiter: aws.String("/")})
	for pages.HasMorePages() && len(out) < maxFolders {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return out, fmt.Errorf("list folders under %q: %w", prefix, err)
		}
		for _, p := range page.CommonPrefixes {
			out = append(out, aws.ToString(p.Prefix))
		}
	}
	return out, nil
}
