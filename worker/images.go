package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // A1111 may save JPEG
	"image/png"
	"io"
	"net/http"
	"os"
	"strings"

	_ "golang.org/x/image/webp" // and WebP
)

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// toPNG returns a PNG as is and re-encodes a JPEG or WebP as PNG (Easel
// stores PNG); an error for anything else.
func toPNG(raw []byte) ([]byte, error) {
	if bytes.HasPrefix(raw, pngMagic) {
		return raw, nil
	}
	img, format, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("decoding an image of the answer: %w", err)
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("re-encoding a %s image as PNG: %w", format, err)
	}
	return buf.Bytes(), nil
}

// uploadImages puts the images, as PNG, to the upload URLs in order and
// returns how many it put: extra images (extensions append some) are
// dropped.
func (w *Worker) uploadImages(ctx context.Context, images [][]byte, urls []string) (int, error) {
	n := min(len(images), len(urls))
	for i := range n {
		body, err := toPNG(images[i])
		if err != nil {
			return 0, &jobError{reason: err.Error()}
		}
		if err := w.upload(ctx, urls[i], body); err != nil {
			// A fresh lease gets fresh URLs.
			return 0, &jobError{reason: fmt.Sprintf("uploading image %d: %v", i+1, err), transient: true}
		}
	}
	return n, nil
}

// upload PUTs body to a presigned URL, retrying network errors and 5xx
// a few times. It sends no header but Content-Length: others could break
// the signature, and the worker key must not leave for the object store.
func (w *Worker) upload(ctx context.Context, url string, body []byte) error {
	return w.retryPut(ctx, func() error { return w.putOnce(ctx, url, body) })
}

// retryPut runs put up to 4 times with backoff while it fails with a
// network error or a 5xx; a 4xx, a missing file or the end of ctx ends it.
func (w *Worker) retryPut(ctx context.Context, put func() error) error {
	var err error
	for n := range 4 {
		if n > 0 {
			if err := sleep(ctx, w.backoff(n-1)); err != nil {
				return err
			}
		}
		err = put()
		var se *statusError
		if err == nil || ctx.Err() != nil || (errors.As(err, &se) && se.status < 500) || errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return err
}

func (w *Worker) putOnce(ctx context.Context, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := w.cfg.HTTP.Do(req)
	if err != nil {
		return redact(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		text, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		return &statusError{path: "PUT image", status: resp.StatusCode, body: strings.TrimSpace(string(text))}
	}
	return nil
}
