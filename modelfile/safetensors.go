package modelfile

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"io"
	"math/bits"
	"slices"
	"strings"
)

// Caps on what a safetensors header may claim. Real SD checkpoints have
// headers of a few hundred KiB and under 3,000 tensors.
const (
	MaxHeaderBytes   = 16 << 20
	MaxTensors       = 1 << 16
	MaxRank          = 16
	MaxMetadataKeys  = 256
	MaxMetadataValue = 2048
)

// dtypeBits are the element types of the safetensors format and their
// sizes in bits.
var dtypeBits = map[string]uint64{
	"BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
	"I16": 16, "U16": 16, "F16": 16, "BF16": 16,
	"I32": 32, "U32": 32, "F32": 32,
	"I64": 64, "U64": 64, "F64": 64, "C64": 64,
	"F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}

// Tensor is one entry of a safetensors header; Begin and End are offsets
// into the data that follows the header.
type Tensor struct {
	Name       string
	DType      string
	Shape      []uint64
	Begin, End uint64
}

// Header is a checked safetensors header.
type Header struct {
	Tensors  []Tensor
	Metadata map[string]string
}

// ReadSafetensors reads and checks the header of the safetensors file of
// size bytes behind r, without reading any tensor data. A malformed or
// hostile file is a *FormatError; other errors are r's.
func ReadSafetensors(r io.ReaderAt, size int64) (Header, error) {
	if size < 8 {
		return Header{}, bad("the file is %d bytes long, too short for a safetensors header", size)
	}
	var prefix [8]byte
	if _, err := r.ReadAt(prefix[:], 0); err != nil {
		return Header{}, err
	}
	n := binary.LittleEndian.Uint64(prefix[:])
	switch {
	case n > MaxHeaderBytes:
		return Header{}, bad("the header claims %d bytes, over the limit of %d", n, MaxHeaderBytes)
	case n > uint64(size-8):
		return Header{}, bad("the header claims %d bytes but the file has only %d after the length", n, size-8)
	case n < 2:
		return Header{}, bad("the header is %d bytes long, too short for JSON", n)
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, 8); err != nil {
		return Header{}, err
	}
	return ParseSafetensorsHeader(buf, uint64(size-8)-n)
}

// ParseSafetensorsHeader checks the JSON header of a safetensors file
// whose tensor data is dataLen bytes long.
func ParseSafetensorsHeader(header []byte, dataLen uint64) (Header, error) {
	if len(header) > MaxHeaderBytes {
		return Header{}, bad("the header is over the limit of %d bytes", MaxHeaderBytes)
	}
	if len(header) == 0 || header[0] != '{' {
		return Header{}, bad("the header does not start with {")
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	if _, err := dec.Token(); err != nil {
		return Header{}, bad("the header is not JSON: %v", err)
	}
	h := Header{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return Header{}, bad("the header is not JSON: %v", err)
		}
		name, _ := tok.(string)
		if seen[name] {
			return Header{}, bad("the header names %q twice", clip(name))
		}
		seen[name] = true
		if name == "__metadata__" {
			if h.Metadata, err = decodeMetadata(dec); err != nil {
				return Header{}, err
			}
			continue
		}
		if len(h.Tensors) == MaxTensors {
			return Header{}, bad("the header lists more than %d tensors", MaxTensors)
		}
		t, err := decodeTensor(dec, name)
		if err != nil {
			return Header{}, err
		}
		h.Tensors = append(h.Tensors, t)
	}
	if _, err := dec.Token(); err != nil {
		return Header{}, bad("the header is not JSON: %v", err)
	}
	// The format allows padding the header with spaces, nothing else.
	if rest := header[dec.InputOffset():]; len(bytes.Trim(rest, " ")) > 0 {
		return Header{}, bad("the header has data after its JSON object")
	}
	return h, checkLayout(h.Tensors, dataLen)
}

type rawTensor struct {
	DType   string          `json:"dtype"`
	Shape   json.RawMessage `json:"shape"`
	Offsets json.RawMessage `json:"data_offsets"`
}

// maxRawArray bounds the JSON text of a shape or offset pair, so that a
// hostile array cannot make the decoder allocate more than the cap allows.
const maxRawArray = 24 * MaxRank

func decodeTensor(dec *json.Decoder, name string) (Tensor, error) {
	var raw rawTensor
	if err := dec.Decode(&raw); err != nil {
		return Tensor{}, bad("tensor %q: %v", clip(name), err)
	}
	t := Tensor{Name: name, DType: raw.DType}
	size, ok := dtypeBits[raw.DType]
	if !ok {
		return Tensor{}, bad("tensor %q has an unknown dtype %q", clip(name), clip(raw.DType))
	}
	var offsets []uint64
	if len(raw.Shape) > maxRawArray || len(raw.Offsets) > maxRawArray {
		return Tensor{}, bad("tensor %q has an overlong shape or data_offsets", clip(name))
	}
	if !bytes.HasPrefix(raw.Shape, []byte("[")) || json.Unmarshal(raw.Shape, &t.Shape) != nil || len(t.Shape) > MaxRank {
		return Tensor{}, bad("tensor %q has no valid shape (a list of up to %d whole numbers)", clip(name), MaxRank)
	}
	if json.Unmarshal(raw.Offsets, &offsets) != nil || len(offsets) != 2 || offsets[0] > offsets[1] {
		return Tensor{}, bad("tensor %q has no valid data_offsets (a begin and end)", clip(name))
	}
	t.Begin, t.End = offsets[0], offsets[1]
	elems := uint64(1)
	for _, d := range t.Shape {
		hi, lo := bits.Mul64(elems, d)
		if hi != 0 {
			return Tensor{}, bad("tensor %q has a shape too large to exist", clip(name))
		}
		elems = lo
	}
	hi, nbits := bits.Mul64(elems, size)
	if hi != 0 || nbits%8 != 0 || nbits/8 != t.End-t.Begin {
		return Tensor{}, bad("tensor %q: shape %v of %s does not fill its %d bytes", clip(name), t.Shape, t.DType, t.End-t.Begin)
	}
	return t, nil
}

func decodeMetadata(dec *json.Decoder) (map[string]string, error) {
	var m map[string]string
	if err := dec.Decode(&m); err != nil {
		return nil, bad("__metadata__ is not an object of strings: %v", err)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
	out := make(map[string]string, min(len(keys), MaxMetadataKeys))
	for _, k := range keys[:min(len(keys), MaxMetadataKeys)] {
		v := m[k]
		if len(v) > MaxMetadataValue {
			v = v[:MaxMetadataValue] + "…"
		}
		out[clip(k)] = v
	}
	return out, nil
}

// checkLayout requires the tensors to tile the data exactly: sorted by
// offset, each begins where the one before ends, the last ends at dataLen.
func checkLayout(ts []Tensor, dataLen uint64) error {
	sorted := slices.Clone(ts)
	slices.SortFunc(sorted, func(a, b Tensor) int {
		return cmp.Or(cmp.Compare(a.Begin, b.Begin), cmp.Compare(a.End, b.End))
	})
	var at uint64
	for _, t := range sorted {
		switch {
		case t.Begin < at:
			return bad("tensor %q overlaps another tensor's bytes", clip(t.Name))
		case t.Begin > at:
			return bad("the bytes %d to %d belong to no tensor", at, t.Begin)
		}
		at = t.End
	}
	if at != dataLen {
		return bad("the tensors end at byte %d of the data, but the file has %d", at, dataLen)
	}
	return nil
}

// clip shortens a name from a hostile file for an error message.
func clip(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
