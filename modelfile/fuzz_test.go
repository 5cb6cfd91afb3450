package modelfile

import (
	"bytes"
	"runtime"
	"testing"
)

// allocBound is what reading an input of n bytes may allocate: a small
// multiple of the input (the header or pickle text, decoded) plus the
// fixed buffers (zip tail, bufio) — never what the input merely claims.
func allocBound(n int) uint64 { return 64*uint64(n) + 8<<20 }

// allocated runs f and returns the bytes it allocated.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func FuzzSafetensorsHeader(f *testing.F) {
	f.Add(stFile(f, loraTensors(), map[string]string{"ss_base_model_version": "sd_v1"}))
	f.Add(stFile(f, []stTensor{{"model.diffusion_model.x", "F16", []uint64{2, 2}}, {"conditioner.embedders.1.y", "BF16", []uint64{3}}}, nil))
	f.Add(stRaw([]byte(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`), 8))
	f.Add(stRaw([]byte(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`), 8))
	f.Add([]byte("\xff\xff\xff\xff\xff\xff\xff\xff{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var info Info
		var err error
		n := allocated(func() {
			info, err = Inspect(bytes.NewReader(data), int64(len(data)), "f.safetensors")
		})
		if err != nil {
			t.Fatalf("got %v: a bytes.Reader never fails, so only FormatErrors may come back (as Info.Error)", err)
		}
		if n > allocBound(len(data)) {
			t.Fatalf("allocated %d bytes for %d bytes of input", n, len(data))
		}
		if info.Error == "" && len(data) < 10 {
			t.Fatalf("accepted %d bytes as a safetensors file", len(data))
		}
	})
}

func FuzzPickleScan(f *testing.F) {
	for _, p := range [][]byte{benignPickle, osSystemPickle, stackGlobalPickle, []byte("(S'ls'\nisubprocess\ncheck_output\n.")} {
		f.Add(p)
		f.Add(torchZip(f, p))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var info Info
		var err error
		n := allocated(func() {
			info, err = Inspect(bytes.NewReader(data), int64(len(data)), "f.ckpt")
		})
		if err != nil {
			t.Fatalf("got %v: a bytes.Reader never fails, so only FormatErrors may come back (as Info.Error)", err)
		}
		if n > allocBound(len(data)) {
			t.Fatalf("allocated %d bytes for %d bytes of input", n, len(data))
		}
		for _, g := range info.Unsafe {
			if IsSafeGlobal(g) {
				t.Fatalf("%s is on the allow-list but reported unsafe", g)
			}
		}
		if len(info.Globals) > MaxGlobals {
			t.Fatalf("got %d globals, over the cap of %d", len(info.Globals), MaxGlobals)
		}
	})
}
