package imageops

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"
)

func TestCoverSize(t *testing.T) {
	cases := []struct{ sw, sh, w, h, ww, wh int }{
		{1024, 768, 512, 512, 683, 512}, // height needs the larger factor
		{768, 1024, 512, 512, 512, 683},
		{1000, 1000, 500, 400, 500, 500},
		{400, 1000, 512, 512, 400, 1000}, // one side inside: no scaling
		{300, 200, 512, 512, 300, 200},
	}
	for _, c := range cases {
		if w, h := CoverSize(c.sw, c.sh, c.w, c.h); w != c.ww || h != c.wh {
			t.Errorf("CoverSize(%d,%d → %dx%d) = %dx%d, want %dx%d", c.sw, c.sh, c.w, c.h, w, h, c.ww, c.wh)
		}
	}
}

func TestFitPadsCentredWithBlack(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 4, 2))
	for i := range src.Pix {
		src.Pix[i] = 255
	}
	out := Fit(src, 8, 4)
	if out.Bounds().Dx() != 8 || out.Bounds().Dy() != 4 {
		t.Fatalf("size %v", out.Bounds())
	}
	// The 4×2 white block sits at x 2..5, y 1..2; the rest is opaque black.
	for y := range 4 {
		for x := range 8 {
			r, _, _, a := out.At(x, y).RGBA()
			inside := x >= 2 && x < 6 && y >= 1 && y < 3
			if inside != (r == 0xffff) || a != 0xffff {
				t.Fatalf("pixel %d,%d = %v (inside %v)", x, y, out.At(x, y), inside)
			}
		}
	}
}

func TestFitTransparentPaddingAndGrey(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	src.Set(0, 0, color.NRGBA{255, 0, 0, 128})
	out := Fit(src, 4, 4)
	if _, _, _, a := out.At(0, 0).RGBA(); a != 0 {
		t.Fatalf("padding alpha %d, want 0", a)
	}
	g := Fit(image.NewGray(image.Rect(0, 0, 10, 10)), 5, 5)
	if _, ok := g.(*image.Gray); !ok {
		t.Fatalf("grey became %T", g)
	}
}

func TestEncodeKeepsFormat(t *testing.T) {
	img := Fit(image.NewRGBA(image.Rect(0, 0, 64, 48)), 32, 32)
	for _, name := range []string{"a.png", "a.jpg", "a.jpeg", "a.webp", "a.bmp"} {
		var buf bytes.Buffer
		if err := Encode(&buf, name, img); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(buf.Bytes()))
		if err != nil || cfg.Width != 32 || cfg.Height != 32 {
			t.Fatalf("%s: %v %v %s", name, cfg, err, format)
		}
	}
}

func TestDecodeRefusesHugeImages(t *testing.T) {
	var buf bytes.Buffer
	_ = png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	b := buf.Bytes()
	// Patch the IHDR width/height to 100000 × 100000.
	copy(b[16:24], []byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0})
	if _, err := Decode(b); err == nil {
		t.Fatal("decoded a 10-gigapixel header")
	}
}
