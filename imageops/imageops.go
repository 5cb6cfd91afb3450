// Package imageops holds the picture work of datasets: the crop of ESD's
// POST /datasets/{name}/crop (Lanczos scale to cover a box, centre, crop or
// pad with zero pixels, same file format) and small JPEG thumbnails.
package imageops

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"path"

	"github.com/gen2brain/webp" // registers the WebP decoder too
	"golang.org/x/image/bmp"
	"golang.org/x/image/draw"
)

// MaxPixels bounds the images decoded (width × height), against
// decompression bombs: about 8K × 8K.
const MaxPixels = 64 << 20

// JPEGQuality and WebPQuality are ESD's (PIL's quality=95).
const (
	JPEGQuality = 95
	WebPQuality = 95
)

// Lanczos3 is the Lanczos filter with a = 3 (PIL's Image.LANCZOS).
var Lanczos3 = &draw.Kernel{Support: 3, At: func(t float64) float64 {
	t = math.Abs(t)
	if t < 1e-12 {
		return 1
	}
	if t >= 3 {
		return 0
	}
	x := math.Pi * t
	return 3 * math.Sin(x) * math.Sin(x/3) / (x * x)
}}

// IsImageName reports whether a dataset record of this name is an image
// for the crop (ESD's case-sensitive extension list).
func IsImageName(name string) bool {
	switch path.Ext(name) {
	case ".png", ".jpg", ".jpeg", ".webp", ".bmp":
		return true
	}
	return false
}

// ErrTooLarge is an image over MaxPixels.
var ErrTooLarge = errors.New("image too large")

// Decode decodes an image of any registered format after checking its
// size against MaxPixels.
func Decode(data []byte) (image.Image, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return nil, fmt.Errorf("%w: %dx%d", ErrTooLarge, cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	return img, err
}

// CoverSize is the size src is scaled to before the crop: when both sides
// exceed the w×h box, the side needing the larger factor is fitted and the
// other rounded up; otherwise the image keeps its size.
func CoverSize(sw, sh, w, h int) (int, int) {
	if sw <= w || sh <= h {
		return sw, sh
	}
	fx, fy := float64(w)/float64(sw), float64(h)/float64(sh)
	if fx >= fy {
		return w, max(h, int(math.Ceil(float64(sh)*fx)))
	}
	return max(w, int(math.Ceil(float64(sw)*fy))), h
}

// Fit returns src scaled (Lanczos) to cover w×h when both sides exceed it,
// centred on a w×h canvas, the overflow cropped and any shortfall padded
// with zero pixels (black; transparent for images with alpha). Greyscale
// images stay greyscale; others come out as NRGBA.
func Fit(src image.Image, w, h int) image.Image {
	b := src.Bounds()
	cw, ch := CoverSize(b.Dx(), b.Dy(), w, h)
	scaled := src
	if cw != b.Dx() || ch != b.Dy() {
		dst := image.NewRGBA(image.Rect(0, 0, cw, ch))
		Lanczos3.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
		scaled = dst
	}
	sb := scaled.Bounds()
	// The top-left of the scaled image on the canvas (negative: cropped).
	off := image.Pt((w-sb.Dx())/2, (h-sb.Dy())/2)
	rect := image.Rect(0, 0, w, h)
	var canvas draw.Image
	switch src.(type) {
	case *image.Gray, *image.Gray16:
		canvas = image.NewGray(rect)
	default:
		n := image.NewNRGBA(rect)
		if isOpaque(src) {
			draw.Draw(n, rect, image.NewUniform(color.NRGBA{A: 255}), image.Point{}, draw.Src)
		}
		canvas = n
	}
	draw.Draw(canvas, sb.Sub(sb.Min).Add(off), scaled, sb.Min, draw.Src)
	return canvas
}

func isOpaque(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	return false
}

// Encode writes img in the format of the file name's extension (PNG,
// JPEG or WebP at quality 95, BMP).
func Encode(w io.Writer, name string, img image.Image) error {
	switch path.Ext(name) {
	case ".png":
		return png.Encode(w, img)
	case ".jpg", ".jpeg":
		return jpeg.Encode(w, img, &jpeg.Options{Quality: JPEGQuality})
	case ".webp":
		return webp.Encode(w, img, webp.Options{Quality: WebPQuality, Method: webp.DefaultMethod})
	case ".bmp":
		return bmp.Encode(w, img)
	}
	return fmt.Errorf("no encoder for %q", name)
}

// ThumbnailSide is the longest side of a thumbnail, in pixels.
const ThumbnailSide = 256

// Thumbnail returns a JPEG of img scaled to fit ThumbnailSide (never
// enlarged), transparent parts on white.
func Thumbnail(img image.Image) ([]byte, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if s := float64(ThumbnailSide) / float64(max(w, h)); s < 1 {
		w, h = max(1, int(math.Round(float64(w)*s))), max(1, int(math.Round(float64(h)*s)))
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Over, nil)
	var buf bytes.Buffer
	err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 80})
	return buf.Bytes(), err
}
