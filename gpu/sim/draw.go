package sim

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/draw"
	_ "image/gif"  // accept GIF init images
	_ "image/jpeg" // accept JPEG init images
	"image/png"
	"math"
	"strings"
)

// render draws the deterministic test pattern for (prompt, seed): a
// plasma whose palette and frequencies come from a hash of both, blended
// over init (when given) with the given strength, plus the simulator
// banner with label (the model's hash and name).
func render(w, h int, prompt string, seed int64, init image.Image, strength float64, label string) *image.RGBA {
	sum := sha256.Sum256(append([]byte(prompt+"\x00"), binary.BigEndian.AppendUint64(nil, uint64(seed))...))
	param := func(i int) float64 { return float64(sum[i]) / 255 } // 0..1

	var pal [256][3]uint8
	for i := range pal {
		t := float64(i) / 255
		for c := range 3 {
			v := 0.5 + 0.5*math.Cos(2*math.Pi*((0.5+param(c))*t+param(3+c)))
			pal[i][c] = uint8(v * 255)
		}
	}
	wave := func(n, size int, k int) []float64 {
		f := 2 * math.Pi * (1 + 4*param(k)) / float64(size)
		p := 2 * math.Pi * param(k+1)
		out := make([]float64, n)
		for i := range out {
			out[i] = math.Sin(float64(i)*f + p)
		}
		return out
	}
	wx, wy := wave(w, w, 6), wave(h, h, 8)
	wd, wa := wave(w+h, (w+h)/2, 10), wave(w+h, (w+h)/3, 12)

	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		row := img.Pix[y*img.Stride:]
		for x := range w {
			v := wx[x] + wy[y] + wd[x+y] + wa[x-y+h-1] // -4..4
			c := pal[int((v+4)*(255.0/8))]
			o := 4 * x
			row[o], row[o+1], row[o+2], row[o+3] = c[0], c[1], c[2], 255
		}
	}
	if init != nil {
		blend(img, init, strength)
	}
	banner(img, label)
	return img
}

// blend mixes the init image (scaled, nearest neighbour) into img: the
// result keeps (1-strength) of the init image.
func blend(img *image.RGBA, init image.Image, strength float64) {
	b := init.Bounds()
	src := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(src, src.Bounds(), init, b.Min, draw.Src)
	w, h := img.Rect.Dx(), img.Rect.Dy()
	keep := uint32((1 - strength) * 256)
	for y := range h {
		srow := src.Pix[(y*b.Dy()/h)*src.Stride:]
		row := img.Pix[y*img.Stride:]
		for x := range w {
			so, o := 4*(x*b.Dx()/w), 4*x
			for c := range 3 {
				row[o+c] = uint8((uint32(srow[so+c])*keep + uint32(row[o+c])*(256-keep)) >> 8)
			}
		}
	}
}

// banner writes "EASEL SIMULATOR" (and under it label, when given) at
// the top and "NOT STABLE DIFFUSION" at the bottom, white on black
// strips, clipped to small images.
func banner(img *image.RGBA, label string) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	s := max(1, min(w, h)/256)
	line := 9 * s
	top := line
	if label != "" {
		top = 2 * line
	}
	black := image.NewUniform(color.RGBA{0, 0, 0, 255})
	draw.Draw(img, image.Rect(0, 0, w, top), black, image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(0, h-line, w, h), black, image.Point{}, draw.Src)
	text(img, "EASEL SIMULATOR", s, s)
	if label != "" {
		text(img, strings.ToUpper(label), s, line+s)
	}
	text(img, "NOT STABLE DIFFUSION", s, h-line+s)
}

// text draws msg centred horizontally at row y with the 5x7 font scaled
// by s; a line too long to fit starts at the left edge. Characters
// without a glyph are drawn as '?'.
func text(img *image.RGBA, msg string, s, y int) {
	x0 := max(0, (img.Rect.Dx()-len([]rune(msg))*6*s)/2)
	for i, r := range []rune(msg) {
		g, ok := glyphs[r]
		if !ok && r != ' ' {
			g = glyphs['?']
		}
		for gy, bits := range g {
			for gx := range 5 {
				if bits&(0x10>>gx) == 0 {
					continue
				}
				px, py := x0+(i*6+gx)*s, y+gy*s
				fill(img, image.Rect(px, py, px+s, py+s))
			}
		}
	}
}

func fill(img *image.RGBA, r image.Rectangle) {
	r = r.Intersect(img.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			o := img.PixOffset(x, y)
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = 255, 255, 255, 255
		}
	}
}

// glyphs is a 5x7 bitmap font for the banner: capitals, digits and the
// punctuation of model file names.
var glyphs = map[rune][7]uint8{
	'A': {0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11},
	'B': {0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e},
	'C': {0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e},
	'D': {0x1e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1e},
	'E': {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f},
	'F': {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10},
	'G': {0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f},
	'H': {0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11},
	'I': {0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e},
	'J': {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c},
	'K': {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11},
	'L': {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f},
	'M': {0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11},
	'N': {0x11, 0x19, 0x15, 0x13, 0x11, 0x11, 0x11},
	'O': {0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e},
	'P': {0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10},
	'Q': {0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d},
	'R': {0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11},
	'S': {0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e},
	'T': {0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04},
	'U': {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e},
	'V': {0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04},
	'W': {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a},
	'X': {0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11},
	'Y': {0x11, 0x11, 0x0a, 0x04, 0x04, 0x04, 0x04},
	'Z': {0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f},
	'0': {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e},
	'1': {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e},
	'2': {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f},
	'3': {0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e},
	'4': {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02},
	'5': {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e},
	'6': {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e},
	'7': {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},
	'8': {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e},
	'9': {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c},
	'-': {0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00},
	'_': {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f},
	'.': {0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c},
	'(': {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02},
	')': {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08},
	'[': {0x0e, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0e},
	']': {0x0e, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0e},
	'/': {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00},
	'+': {0x00, 0x04, 0x04, 0x1f, 0x04, 0x04, 0x00},
	':': {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00},
	'?': {0x0e, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04},
}

var pngEncoder = png.Encoder{CompressionLevel: png.BestSpeed}

func encodePNG(img image.Image) (string, error) {
	var buf bytes.Buffer
	if err := pngEncoder.Encode(&buf, img); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// maxInputPixels bounds decoded input images.
const maxInputPixels = 4096 * 4096

// decodeImage decodes a base64 image, with or without a data-URL prefix.
func decodeImage(s string) (image.Image, error) {
	if strings.HasPrefix(s, "data:") {
		if i := strings.IndexByte(s, ','); i >= 0 {
			s = s[i+1:]
		}
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, errors.New("not base64")
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	if cfg.Width*cfg.Height > maxInputPixels || cfg.Width == 0 || cfg.Height == 0 {
		return nil, errors.New("image size out of range")
	}
	img, _, err := image.Decode(bytes.NewReader(raw))
	return img, err
}
