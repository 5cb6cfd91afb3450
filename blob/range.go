package blob

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// rangeBlock is the least a ranged read fetches: readers of file headers
// and archive directories make many small reads close together.
const rangeBlock = 1 << 20

// ObjectReader reads an object of a known size by ranged GETs, keeping
// the last block fetched. It is an io.ReaderAt, not safe for concurrent use.
type ObjectReader struct {
	ctx   context.Context
	c     *Client
	key   string
	size  int64
	block []byte
	at    int64
}

// ReaderAt returns a reader of the object key, size bytes long (Head).
func (c *Client) ReaderAt(ctx context.Context, key string, size int64) *ObjectReader {
	return &ObjectReader{ctx: ctx, c: c, key: key, size: size, at: -1}
}

// ReadAt reads len(p) bytes at off; past the end it returns io.EOF, and
// the store's errors otherwise.
func (r *ObjectReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read %s: negative offset", r.key)
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if pos >= r.size {
			return n, io.EOF
		}
		if r.at < 0 || pos < r.at || pos >= r.at+int64(len(r.block)) {
			if err := r.fetch(pos, int64(len(p)-n)); err != nil {
				return n, err
			}
		}
		n += copy(p[n:], r.block[pos-r.at:])
	}
	return n, nil
}

func (r *ObjectReader) fetch(pos, want int64) error {
	end := min(pos+max(want, rangeBlock), r.size) - 1
	rng := fmt.Sprintf("bytes=%d-%d", pos, end)
	out, err := r.c.s3.GetObject(r.ctx, &s3.GetObjectInput{Bucket: &r.c.Bucket, Key: &r.key, Range: &rng})
	if err != nil {
		return fmt.Errorf("get object %s %s: %w", r.key, rng, err)
	}
	defer out.Body.Close()
	buf := make([]byte, end-pos+1)
	if _, err := io.ReadFull(out.Body, buf); err != nil {
		return fmt.Errorf("get object %s %s: %w", r.key, rng, err)
	}
	r.block, r.at = buf, pos
	return nil
}
