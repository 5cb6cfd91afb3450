// Package a1111 holds the rules for talking to an AUTOMATIC1111-compatible
// WebUI that Easel sends its own requests to: what a request may carry
// (Sanitise, Select), whether an answer is the one asked for
// (CheckAnswer), and whether an error answer is the caller's mistake or
// the server's failure (Judge). Push pools (gpu/webui) use it now, Easel's
// GPU workers later: the rules live here once.
package a1111

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// The tasks this package knows; others pass through Sanitise untouched
// apart from the image fields.
const (
	Txt2img          = "txt2img"
	Img2img          = "img2img"
	ExtraSingleImage = "extra-single-image"
)

// ErrInvalid is matched (errors.Is) by every error that says the request
// itself is wrong: the job fails for good, no server is to blame.
var ErrInvalid = errors.New("invalid inference parameters")

// FieldError is a caller's mistake in one request field.
type FieldError struct {
	Field string // e.g. "init_images[0]"
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Is makes a FieldError match ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

func fieldErrorf(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// ModelName is the name A1111 reports in info.sd_model_name and the
// infotext's "Model:" for a checkpoint file name: the base name without
// its extension ("sd/base.safetensors" → "base").
func ModelName(file string) string {
	base := path.Base(strings.ReplaceAll(file, `\`, "/"))
	return strings.TrimSuffix(base, path.Ext(base))
}
