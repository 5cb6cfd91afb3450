package modelfile

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"slices"
	"strings"
	"testing"
)

func TestScanPickleGlobals(t *testing.T) {
	cases := []struct {
		name   string
		pickle []byte
		want   []string
		unsafe bool
	}{
		{"state dict", benignPickle, []string{"collections.OrderedDict", "torch.FloatStorage", "torch._utils._rebuild_tensor_v2"}, false},
		{"os.system", osSystemPickle, []string{"os.system"}, true},
		{"stack global through the memo", stackGlobalPickle, []string{"builtins.eval"}, true},
		{"stack global of computed names", []byte("\x80\x04N\x8c\x06system\x93)R."), []string{"?.system"}, true},
		{"inst", []byte("(S'ls'\nisubprocess\ncheck_output\n."), []string{"subprocess.check_output"}, true},
		{"copyreg extension", []byte("\x80\x02\x82\x01)R."), []string{"copyreg.extension_1"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ScanPickle(bytes.NewReader(c.pickle))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("got globals %v, want %v", got, c.want)
			}
			s, err := ScanTorch(bytes.NewReader(torchZip(t, c.pickle)), int64(len(torchZip(t, c.pickle))))
			if err != nil {
				t.Fatal(err)
			}
			if (len(s.Unsafe) > 0) != c.unsafe {
				t.Errorf("in a zip: got unsafe %v, want unsafe %v", s.Unsafe, c.unsafe)
			}
		})
	}
}

func TestScanPickleMalformed(t *testing.T) {
	cases := map[string][]byte{
		"no stop":         []byte("\x80\x02N"),
		"underflow":       []byte("\x80\x02R."),
		"unknown opcode":  []byte("\x80\x02\xff."),
		"future protocol": []byte("\x80\x09N."),
		"huge string":     []byte("\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\x7fN."),
		"cut string":      []byte("\x80\x02X\x10\x00\x00\x00abc"),
		"pop no mark":     []byte("\x80\x021."),
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ScanPickle(bytes.NewReader(p))
			if _, ok := err.(*FormatError); !ok {
				t.Fatalf("got %v, want a FormatError", err)
			}
		})
	}
}

func TestInspectPickles(t *testing.T) {
	good := torchZip(t, benignPickle)
	info, err := Inspect(bytes.NewReader(good), int64(len(good)), "model.ckpt")
	if err != nil || info.Format != FormatPickle || info.IsUnsafe() || len(info.Globals) != 3 {
		t.Errorf("benign ckpt: got %+v, %v; want three safe globals", info, err)
	}
	evil := torchZip(t, osSystemPickle)
	info, err = Inspect(bytes.NewReader(evil), int64(len(evil)), "model.pt")
	if err != nil || !info.IsUnsafe() || !slices.Equal(info.Unsafe, []string{"os.system"}) {
		t.Errorf("malicious pt: got %+v, %v; want unsafe os.system", info, err)
	}
	// A legacy torch file: several bare pickles, then raw storage bytes.
	legacy := slices.Concat([]byte("\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.\x80\x02M\xe9\x03."), benignPickle, []byte("\x00\x01\x02garbage"))
	info, err = Inspect(bytes.NewReader(legacy), int64(len(legacy)), "old.pth")
	if err != nil || info.Error != "" || info.IsUnsafe() || len(info.Globals) != 3 {
		t.Errorf("legacy file: got %+v, %v; want three safe globals", info, err)
	}
	junk := []byte("this is not a pickle at all")
	info, err = Inspect(bytes.NewReader(junk), int64(len(junk)), "x.bin")
	if err != nil || info.Error == "" || !info.IsUnsafe() {
		t.Errorf("junk: got %+v, %v; want an error that counts as unsafe", info, err)
	}
	if _, err := Inspect(bytes.NewReader(junk), int64(len(junk)), "x.yaml"); err != ErrNotModel {
		t.Errorf("yaml: got %v, want ErrNotModel", err)
	}
}

// A zip entry that claims a small size but inflates to much more is read
// only up to its claim; one that claims more than the cap is not read.
func TestScanZipBombs(t *testing.T) {
	var inflated bytes.Buffer
	fw, _ := flate.NewWriter(&inflated, flate.BestCompression)
	fw.Write(benignPickle[:len(benignPickle)-1])
	fw.Write(bytes.Repeat([]byte("N"), 8<<20))
	fw.Close()
	for _, claim := range []uint64{uint64(len(benignPickle)), MaxPickleBytes + 1} {
		var buf bytes.Buffer
		z := zip.NewWriter(&buf)
		w, err := z.CreateRaw(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Deflate,
			CompressedSize64: uint64(inflated.Len()), UncompressedSize64: claim})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(inflated.Bytes())
		z.Close()
		_, err = ScanTorch(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if _, ok := err.(*FormatError); !ok {
			t.Errorf("claim %d: got %v, want a FormatError", claim, err)
		}
	}
}

func TestScanZipDirectoryCaps(t *testing.T) {
	file := torchZip(t, benignPickle)
	// Rewrite the end record to claim a central directory of 272 MiB.
	at := bytes.LastIndex(file, []byte("PK\x05\x06"))
	evil := slices.Clone(file)
	evil[at+15] = 0x11
	_, err := ScanTorch(bytes.NewReader(evil), int64(len(evil)))
	if err == nil || !strings.Contains(err.Error(), "entries") {
		t.Errorf("got %v, want a refusal naming the entries", err)
	}
}
