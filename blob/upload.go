package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// DefaultPartSize is the part size Upload uses when given 0.
const DefaultPartSize = 16 << 20

// UploadResult describes an object written by Upload.
type UploadResult struct {
	Size   int64
	SHA256 string // hex
	ETag   string // as S3 returned it, quotes included
}

// noDefaultChecksum stops the SDK from adding CRC32 checksums to parts, so
// parts uploaded here and through presigned URLs look alike to
// CompleteMultipartUpload (which sends no per-part checksums).
func noDefaultChecksum(o *s3.Options) {
	o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
}

// Upload streams r into the object key and returns its size, SHA-256 and
// ETag. It holds at most two parts of partSize bytes in memory (one being
// read while the previous one is sent); partSize 0 means DefaultPartSize,
// and it is raised to MinPartSize if smaller. Input that fits in one part
// (including empty input) is written with a single PutObject; anything
// larger goes through a multipart upload. onProgress, when non-nil, is
// called on the caller's goroutine after each part is stored with the
// number of bytes stored so far.
//
// On any failure (reading r, the store, ctx cancelled) it aborts the
// multipart upload, so no parts are left behind, and returns a zero
// UploadResult and the error; the object is then not written. A read from
// r that blocks is not interrupted by ctx: give a reader that ends when the
// caller gives up (an HTTP request body does).
func (c *Client) Upload(ctx context.Context, key string, r io.Reader, partSize int64, onProgress func(done int64)) (UploadResult, error) {
	switch {
	case partSize == 0:
		partSize = DefaultPartSize
	case partSize < MinPartSize:
		partSize = MinPartSize
	case partSize > MaxPartSize:
		partSize = MaxPartSize
	}
	sum := sha256.New()
	bufs := [2][]byte{make([]byte, partSize)}
	n, err := readPart(r, bufs[0])
	if err != nil {
		return UploadResult{}, fmt.Errorf("upload %s: read: %w", key, err)
	}
	sum.Write(bufs[0][:n])
	if int64(n) < partSize { // all of r fits in one part
		out, err := c.s3.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &c.Bucket, Key: &key, Body: bytes.NewReader(bufs[0][:n]), ContentLength: aws.Int64(int64(n)),
		})
		if err != nil {
			return UploadResult{}, fmt.Errorf("upload %s: %w", key, err)
		}
		if onProgress != nil {
			onProgress(int64(n))
		}
		return UploadResult{Size: int64(n), SHA256: hex.EncodeToString(sum.Sum(nil)), ETag: aws.ToString(out.ETag)}, nil
	}

	uploadID, err := c.CreateMultipartUpload(ctx, key)
	if err != nil {
		return UploadResult{}, fmt.Errorf("upload %s: %w", key, err)
	}
	res, err := c.uploadParts(ctx, key, uploadID, r, bufs, n, sum, onProgress)
	if err != nil {
		if abortErr := c.abortQuietly(ctx, key, uploadID); abortErr != nil {
			err = errors.Join(err, abortErr)
		}
		return UploadResult{}, fmt.Errorf("upload %s: %w", key, err)
	}
	res.SHA256 = hex.EncodeToString(sum.Sum(nil))
	return res, nil
}

// uploadParts sends bufs[0][:first] as part 1 and the rest of r as further
// parts, reading part i+1 while part i is in flight, then completes the
// upload. It returns the result without SHA256, or the first error.
func (c *Client) uploadParts(ctx context.Context, key, uploadID string, r io.Reader, bufs [2][]byte,
	first int, sum hash.Hash, onProgress func(int64)) (UploadResult, error) {
	type sent struct {
		part Part
		err  error
	}
	var (
		parts    []Part
		done     int64
		inflight chan sent
	)
	// wait collects the part in flight, if any.
	wait := func() error {
		if inflight == nil {
			return nil
		}
		s := <-inflight
		inflight = nil
		if s.err != nil {
			return s.err
		}
		parts = append(parts, s.part)
		done += s.part.Size
		if onProgress != nil {
			onProgress(done)
		}
		return nil
	}
	send := func(num int32, body []byte) {
		ch := make(chan sent, 1)
		inflight = ch
		go func() {
			out, err := c.s3.UploadPart(ctx, &s3.UploadPartInput{
				Bucket: &c.Bucket, Key: &key, UploadId: &uploadID, PartNumber: aws.Int32(num),
				Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))),
			}, noDefaultChecksum)
			if err != nil {
				ch <- sent{err: fmt.Errorf("part %d: %w", num, err)}
				return
			}
			ch <- sent{part: Part{Number: num, ETag: aws.ToString(out.ETag), Size: int64(len(body))}}
		}()
	}

	n := first
	for num := int32(1); ; num++ {
		send(num, bufs[(num-1)%2][:n])
		if int64(n) < int64(len(bufs[0])) { // short part: r is exhausted
			break
		}
		next := num % 2
		if bufs[next] == nil {
			bufs[next] = make([]byte, len(bufs[0]))
		}
		var err error
		n, err = readPart(r, bufs[next])
		if err == nil && n > 0 && num == MaxParts {
			err = fmt.Errorf("input exceeds %d parts of %d bytes", MaxParts, len(bufs[0]))
		}
		if werr := wait(); err == nil {
			err = werr
		}
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			return UploadResult{}, err
		}
		if n == 0 {
			break
		}
		sum.Write(bufs[next][:n])
	}
	if err := wait(); err != nil {
		return UploadResult{}, err
	}
	etag, err := c.CompleteMultipartUpload(ctx, key, uploadID, parts)
	if err != nil {
		return UploadResult{}, err
	}
	return UploadResult{Size: done, ETag: etag}, nil
}

// readPart fills buf from r and returns how many bytes it read: len(buf),
// or less only when r is exhausted (io.EOF). Any other read error,
// including io.ErrUnexpectedEOF from a truncated source, is returned.
func readPart(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
