package worker

import (
	"bytes"
	"encoding/base64"
	"go/parser"
	"go/token"
	"image/png"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"200GiB": 200 << 30, "500GB": 500e9, "1.5T": 3 << 39, "1048576": 1 << 20, "64 MiB": 64 << 20, "10b": 10,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GiB", "-1GiB", "0", "lots", "1e400"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestParseNvidiaSMI(t *testing.T) {
	name, mib := parseNvidiaSMI("NVIDIA H100 80GB HBM3, 81559 MiB\nNVIDIA H100 80GB HBM3, 81559 MiB\n")
	if name != "NVIDIA H100 80GB HBM3" || mib != 81559 {
		t.Errorf("parseNvidiaSMI = %q, %d; want the first GPU", name, mib)
	}
}

// webp1x1 is a 1×1 lossless WebP.
const webp1x1 = "UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA=="

func TestToPNG(t *testing.T) {
	raw, _ := base64.StdEncoding.DecodeString(webp1x1)
	out, err := toPNG(raw)
	if err != nil {
		t.Fatalf("toPNG(WebP): %v", err)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil || img.Bounds().Dx() != 1 {
		t.Errorf("toPNG(WebP) is not a 1×1 PNG: %v", err)
	}
	if again, _ := toPNG(out); !bytes.Equal(again, out) {
		t.Error("toPNG changed a PNG")
	}
	if _, err := toPNG([]byte("GIF89a...")); err == nil {
		t.Error("toPNG(junk) succeeded, want an error")
	}
}

// TestImports keeps the worker off the server: it speaks to Easel over
// HTTP and shares only the protocol types (and easel/modelfile, a file
// format library, for the training simulator's LoRA).
func TestImports(t *testing.T) {
	var files []string
	filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatal("no files")
	}
	for _, f := range files {
		ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range ast.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, "easel/") && p != "easel/workerproto" && p != "easel/modelfile" && p != "easel/worker" && !strings.HasPrefix(p, "easel/worker/") {
				t.Errorf("%s imports %s; the worker may share only easel/workerproto with the server", f, p)
			}
		}
	}
}

func TestRedactDropsTheSignature(t *testing.T) {
	err := redact(&url.Error{Op: "Get", URL: "https://s3.example/b/m.safetensors?X-Amz-Signature=secret", Err: io.ErrUnexpectedEOF})
	if strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "m.safetensors") {
		t.Errorf("redact = %v, want the URL without its query", err)
	}
}
