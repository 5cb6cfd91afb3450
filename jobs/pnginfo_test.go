package jobs

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pngChunks returns the text chunks of a PNG by keyword, failing the test
// on a chunk whose CRC is wrong.
func pngChunks(t *testing.T, file []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	for off := len(pngSignature); off+12 <= len(file); {
		n := int(binary.BigEndian.Uint32(file[off:]))
		typ := string(file[off+4 : off+8])
		body := file[off+4 : off+8+n]
		if got, want := binary.BigEndian.Uint32(file[off+8+n:]), crc32.ChecksumIEEE(body); got != want {
			t.Fatalf("chunk %s: CRC %08x, want %08x", typ, got, want)
		}
		data := body[4:]
		switch typ {
		case "tEXt":
			k, v, _ := bytes.Cut(data, []byte{0})
			runes := make([]rune, len(v)) // Latin-1
			for i, b := range v {
				runes[i] = rune(b)
			}
			out["tEXt:"+string(k)] = string(runes)
		case "iTXt":
			k, rest, _ := bytes.Cut(data, []byte{0})
			rest = rest[2:] // compression flag and method
			_, rest, _ = bytes.Cut(rest, []byte{0})
			_, rest, _ = bytes.Cut(rest, []byte{0})
			out["iTXt:"+string(k)] = string(rest)
		}
		off += 12 + n
	}
	return out
}

func smallPNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 4, 3))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestWithParametersWritesTheChunk(t *testing.T) {
	for _, tc := range []struct{ name, text, chunk string }{
		{"latin-1", "a cat, café\nSteps: 20, Sampler: Euler a", "tEXt:parameters"},
		{"unicode", "一只猫\nSteps: 20", "iTXt:parameters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := WithParameters(smallPNG(t), tc.text)
			if err != nil {
				t.Fatal(err)
			}
			if got := pngChunks(t, out)[tc.chunk]; got != tc.text {
				t.Errorf("%s = %q, want %q", tc.chunk, got, tc.text)
			}
			img, err := png.Decode(bytes.NewReader(out))
			if err != nil || img.Bounds().Dx() != 4 {
				t.Errorf("the PNG no longer decodes: %v", err)
			}
			again, err := WithParameters(out, "other text")
			if err != nil || !bytes.Equal(again, out) {
				t.Errorf("a PNG with parameters was changed (%v)", err)
			}
		})
	}
	if _, err := WithParameters([]byte("GIF89a"), "x"); err == nil {
		t.Error("a GIF was accepted as a PNG")
	}
}

// TestInfotextFormat compares the text made from parameters with A1111's
// create_infotext output, kept in testdata/infotext.golden.
func TestInfotextFormat(t *testing.T) {
	params := `{"prompt": "a red fox, snow", "negative_prompt": "blurry", "steps": 25, "sampler_name": "DPM++ 2M Karras",
		"cfg_scale": 7.5, "seed": -1, "width": 512, "height": 768}`
	info := `{"all_seeds": [1234, 1235], "sd_model_hash": "6ce0161689", "sd_model_name": "v1-5-pruned-emaonly"}`
	got := Infotext([]byte(params), info, 1) + "\n---\n" +
		Infotext([]byte(`{"prompt": "house", "init_images": ["x"], "denoising_strength": 0.75, "seed": 7, "sampler_name": "Euler: fast"}`), "", 0)
	path := filepath.Join("testdata", "infotext.golden")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("infotext:\n%s\nwant:\n%s", got, want)
	}
	own := `{"infotexts": ["from the GPU\nSteps: 20"]}`
	if got := Infotext([]byte(params), own, 0); got != "from the GPU\nSteps: 20" {
		t.Errorf("the answer's own infotext was not kept: %q", got)
	}
	if strings.Contains(Infotext([]byte(`{"prompt": "p"}`), "", 0), "Denoising") {
		t.Error("txt2img infotext names a denoising strength")
	}
}
