package modelfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"testing"
)

// parseWritten reads back what WriteSafetensors wrote (the header reader
// of this package is tested on its own).
func parseWritten(t *testing.T, raw []byte) (map[string]json.RawMessage, []byte) {
	t.Helper()
	n := binary.LittleEndian.Uint64(raw[:8])
	if n%8 != 0 || int(8+n) > len(raw) {
		t.Fatalf("header length %d (file %d bytes)", n, len(raw))
	}
	var h map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+n], &h); err != nil {
		t.Fatalf("header is not JSON: %v", err)
	}
	return h, raw[8+n:]
}

func TestWriteSafetensorsLayout(t *testing.T) {
	var buf bytes.Buffer
	tensors := []TensorData{
		{Name: "b.lora_down.weight", DType: "F16", Shape: []int64{2, 3}, Data: make([]byte, 12)},
		{Name: "a.alpha", DType: "F32", Shape: nil, Data: []byte{0, 0, 128, 64}},
		{Name: "c", DType: "F16", Shape: []int64{3, 2, 1, 1}, Data: bytes.Repeat([]byte{1}, 12)},
	}
	if err := WriteSafetensors(&buf, map[string]string{"ss_network_dim": "4"}, tensors); err != nil {
		t.Fatal(err)
	}
	h, data := parseWritten(t, buf.Bytes())
	var meta map[string]string
	if err := json.Unmarshal(h["__metadata__"], &meta); err != nil || meta["ss_network_dim"] != "4" {
		t.Errorf("metadata = %s (%v)", h["__metadata__"], err)
	}
	var end int64
	for _, want := range tensors {
		var e struct {
			DType   string   `json:"dtype"`
			Shape   []int64  `json:"shape"`
			Offsets [2]int64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(h[want.Name], &e); err != nil {
			t.Fatalf("%s: %v", want.Name, err)
		}
		if e.DType != want.DType || len(e.Shape) != len(want.Shape) || e.Offsets[0] != end {
			t.Errorf("%s = %+v, want %s %v from %d", want.Name, e, want.DType, want.Shape, end)
		}
		if !bytes.Equal(data[e.Offsets[0]:e.Offsets[1]], want.Data) {
			t.Errorf("%s: data differs", want.Name)
		}
		end = e.Offsets[1]
	}
	if end != int64(len(data)) {
		t.Errorf("tensors end at %d, data is %d bytes", end, len(data))
	}
	if string(h["a.alpha"]) == "" || !bytes.Contains(h["a.alpha"], []byte(`"shape":[]`)) {
		t.Errorf("a scalar has shape [], got %s", h["a.alpha"])
	}
}

func TestWriteSafetensorsRefuses(t *testing.T) {
	for name, ts := range map[string][]TensorData{
		"short data":    {{Name: "x", DType: "F16", Shape: []int64{2}, Data: make([]byte, 3)}},
		"unknown dtype": {{Name: "x", DType: "F12", Shape: []int64{1}, Data: make([]byte, 2)}},
		"twice":         {{Name: "x", DType: "U8", Data: []byte{1}}, {Name: "x", DType: "U8", Data: []byte{1}}},
		"metadata name": {{Name: "__metadata__", DType: "U8", Data: []byte{1}}},
	} {
		if err := WriteSafetensors(&bytes.Buffer{}, nil, ts); err == nil {
			t.Errorf("%s: written", name)
		}
	}
}

func TestF16Bits(t *testing.T) {
	for _, c := range []struct {
		f    float32
		want uint16
	}{{1, 0x3c00}, {-2, 0xc000}, {0.5, 0x3800}, {65504, 0x7bff}, {1e6, 0x7c00}, {0, 0},
		{0.1, 0x2e66}, {5.9604645e-8, 0x0001}, {1e-9, 0}, {float32(math.Inf(-1)), 0xfc00}, {6.1035156e-5, 0x0400}} {
		if got := F16Bits(c.f); got != c.want {
			t.Errorf("F16Bits(%g) = %#04x, want %#04x", c.f, got, c.want)
		}
	}
}
