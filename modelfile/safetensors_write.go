package modelfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
)

// TensorData is one tensor for WriteSafetensors: its name, dtype, shape and bytes.
type TensorData struct {
	Name string
	// DType is a safetensors dtype: F16, F32, BF16, F64, I8, U8, ...
	DType string
	Shape []int64
	// Data is the tensor's bytes, little-endian, row-major: the product
	// of Shape times the dtype's size (1 element for an empty Shape).
	Data []byte
}

// dtypeSizes are the element sizes of the dtypes WriteSafetensors takes.
var dtypeSizes = map[string]int64{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4,
	"I64": 8, "U64": 8, "F64": 8,
}

// WriteSafetensors writes a .safetensors file to w: the header's length
// (8 bytes, little-endian), the JSON header (each tensor's dtype, shape
// and data_offsets, contiguous in the order given, and __metadata__ when
// metadata is not empty) padded with spaces to a multiple of 8, then the
// tensors' bytes. It refuses tensors whose data does not fit their shape.
func WriteSafetensors(w io.Writer, metadata map[string]string, tensors []TensorData) error {
	type entry struct {
		DType   string   `json:"dtype"`
		Shape   []int64  `json:"shape"`
		Offsets [2]int64 `json:"data_offsets"`
	}
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var offset int64
	for _, t := range tensors {
		size, ok := dtypeSizes[t.DType]
		switch {
		case !ok:
			return fmt.Errorf("tensor %s: unknown dtype %q", t.Name, t.DType)
		case t.Name == "" || t.Name == "__metadata__":
			return fmt.Errorf("tensor name %q is not allowed", t.Name)
		case header[t.Name] != nil:
			return fmt.Errorf("tensor %s appears twice", t.Name)
		}
		n := int64(1)
		for _, d := range t.Shape {
			if d < 0 {
				return fmt.Errorf("tensor %s: negative dimension in %v", t.Name, t.Shape)
			}
			n *= d
		}
		if int64(len(t.Data)) != n*size {
			return fmt.Errorf("tensor %s: %d bytes of data, shape %v of %s needs %d", t.Name, len(t.Data), t.Shape, t.DType, n*size)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int64{}
		}
		header[t.Name] = entry{DType: t.DType, Shape: shape, Offsets: [2]int64{offset, offset + n*size}}
		offset += n * size
	}
	raw, err := json.Marshal(header)
	if err != nil {
		return err
	}
	if pad := (8 - len(raw)%8) % 8; pad > 0 {
		raw = append(raw, bytes.Repeat([]byte{' '}, pad)...)
	}
	var size [8]byte
	binary.LittleEndian.PutUint64(size[:], uint64(len(raw)))
	if _, err := w.Write(size[:]); err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		return err
	}
	for _, t := range tensors {
		if _, err := w.Write(t.Data); err != nil {
			return err
		}
	}
	return nil
}

// F16Bits returns the IEEE 754 half-precision bits nearest to f (rounding
// to nearest even; overflow to infinity, tiny values to subnormals or 0).
func F16Bits(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	switch {
	case b&0x7fffffff == 0:
		return sign
	case int32(b>>23&0xff) == 0xff: // Inf or NaN
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	case exp >= 0x1f:
		return sign | 0x7c00
	case exp <= 0:
		if exp < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint32(14 - exp)
		half := uint32(1) << (shift - 1)
		v := mant >> shift
		if rest := mant & (1<<shift - 1); rest > half || (rest == half && v&1 == 1) {
			v++
		}
		return sign | uint16(v)
	}
	v := uint32(exp)<<10 | mant>>13
	if rest := mant & 0x1fff; rest > 0x1000 || (rest == 0x1000 && v&1 == 1) {
		v++ // may carry into the exponent, which is right
	}
	return sign | uint16(v)
}
