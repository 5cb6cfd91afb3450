package modelfile

import (
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// Formats of Info.Format.
const (
	FormatSafetensors = "safetensors"
	FormatPickle      = "pickle"
)

// Info is what a model file says about itself, as the model library
// stores it (checkpoints.model_info).
type Info struct {
	// Format is FormatSafetensors or FormatPickle.
	Format string `json:"format"`
	// Kind is the model kind told from the tensor names, in the library's
	// type names (Stable-diffusion, Lora, VAE, embeddings, ControlNet);
	// "" when the names do not tell.
	Kind string `json:"kind,omitempty"`
	// Base is the model family the file is for or of: "SD 1.x",
	// "SD 2.x" or "SDXL"; "" when unknown.
	Base string `json:"base,omitempty"`
	// BaseName is the base model a LoRA was trained on, as its metadata
	// names it (ss_sd_model_name).
	BaseName string `json:"base_name,omitempty"`
	// Tensors counts the tensors of a safetensors file.
	Tensors int `json:"tensors,omitempty"`
	// DTypes are the tensor element types, sorted.
	DTypes []string `json:"dtypes,omitempty"`
	// Metadata is the header's __metadata__ (values cut at MaxMetadataValue).
	Metadata map[string]string `json:"metadata,omitempty"`
	// Globals are the names a pickle imports (module.name), sorted.
	Globals []string `json:"globals,omitempty"`
	// Unsafe are the Globals outside the allow-list.
	Unsafe []string `json:"unsafe,omitempty"`
	// Error says why the file could not be read; the fields above are
	// then empty, and a pickle that cannot be read counts as unsafe.
	Error string `json:"error,omitempty"`
}

// IsUnsafe reports whether loading the file could run code: a pickle that
// imports something outside the allow-list, or one that could not be read.
func (i Info) IsUnsafe() bool {
	return i.Format == FormatPickle && (len(i.Unsafe) > 0 || i.Error != "")
}

// ErrNotModel is returned by Inspect for a file name it has no reader for.
var ErrNotModel = errors.New("not a model file modelfile reads")

// Inspect reads the file called name (its extension picks the reader)
// through r, size bytes long. A file that is malformed or past a cap
// yields an Info with Error set and a nil error; the error is for a
// failing r (the store) or ErrNotModel.
func Inspect(r io.ReaderAt, size int64, name string) (Info, error) {
	switch strings.ToLower(path.Ext(name)) {
	case ".safetensors":
		h, err := ReadSafetensors(r, size)
		var bad *FormatError
		switch {
		case errors.As(err, &bad):
			return Info{Format: FormatSafetensors, Error: bad.Error()}, nil
		case err != nil:
			return Info{}, err
		}
		return h.Info(), nil
	case ".ckpt", ".pt", ".pth", ".bin":
		s, err := ScanTorch(r, size)
		var bad *FormatError
		switch {
		case errors.As(err, &bad):
			return Info{Format: FormatPickle, Globals: s.Globals, Unsafe: s.Unsafe, Error: bad.Error()}, nil
		case err != nil:
			return Info{}, err
		}
		return Info{Format: FormatPickle, Globals: s.Globals, Unsafe: s.Unsafe}, nil
	}
	return Info{}, ErrNotModel
}

// FormatError is a file that is not what its name says, or is past a cap.
type FormatError struct{ Reason string }

func (e *FormatError) Error() string { return e.Reason }

func bad(format string, args ...any) error {
	return &FormatError{Reason: fmt.Sprintf(format, args...)}
}
