package jobs

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"strings"

	"easel/blob"
	"easel/store"
)

// ReadParams reads and checks a job's uploaded parameters: present, at
// most MaxParamsBytes, a JSON object, and within the size limits.
func ReadParams(ctx context.Context, b *blob.Client, key string) (json.RawMessage, error) {
	r, err := b.Get(ctx, key)
	if blob.IsNotFound(err) {
		return nil, store.Errorf(store.EInvalid, "the parameters are not uploaded yet: PUT them to api_params_s3_upload_url first")
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	raw, err := io.ReadAll(io.LimitReader(r, MaxParamsBytes+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > MaxParamsBytes {
		return nil, store.Errorf(store.EInvalid, "the parameter file is larger than the limit of %d bytes", MaxParamsBytes)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, store.Errorf(store.EInvalid, "the parameter file is not a JSON object: %v", err)
	}
	var p struct {
		Width     *float64 `json:"width"`
		Height    *float64 `json:"height"`
		BatchSize *float64 `json:"batch_size"`
		NIter     *float64 `json:"n_iter"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, store.Errorf(store.EInvalid, "the parameter file has a field of the wrong type: %v", err)
	}
	w, h, n := num(p.Width, 512), num(p.Height, 512), num(p.BatchSize, 1)*num(p.NIter, 1)
	switch {
	case w > MaxSide || h > MaxSide:
		return nil, store.Errorf(store.EInvalid, "asks for %gx%g images; the limit is %dx%d", w, h, MaxSide, MaxSide)
	case n > MaxImages:
		return nil, store.Errorf(store.EInvalid, "asks for %g images (batch_size x n_iter); the limit is %d per job", n, MaxImages)
	}
	return raw, nil
}

func num(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}

// PromptOf returns the prompt of A1111 parameters ("" when none).
func PromptOf(params json.RawMessage) string {
	var p struct {
		Prompt string `json:"prompt"`
	}
	_ = json.Unmarshal(params, &p)
	return p.Prompt
}

// toPNG decodes a base64 image (an optional data-URL prefix allowed) and
// re-encodes it as PNG.
func toPNG(b64 string) ([]byte, error) {
	if i := strings.Index(b64, ";base64,"); i >= 0 && strings.HasPrefix(b64, "data:") {
		b64 = b64[i+len(";base64,"):]
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("not base64: %w", err)
	}
	if bytes.HasPrefix(raw, []byte("\x89PNG\r\n\x1a\n")) {
		if _, err := png.DecodeConfig(bytes.NewReader(raw)); err == nil {
			return raw, nil
		}
	}
	img, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("not an image: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
