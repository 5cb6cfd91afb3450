package web_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"slices"
	"testing"

	"easel/internal/testenv"
	"easel/store"
)

// pngBytes is a w×h PNG painted by fill (white when nil).
func pngBytes(t *testing.T, w, h int, fill func(x, y int) color.Color) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.Color(color.White)
			if fill != nil {
				c = fill(x, y)
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decodeObject(t *testing.T, s *testenv.Server, key string) (image.Image, string) {
	t.Helper()
	img, format, err := image.Decode(bytes.NewReader(readObject(t, s, key)))
	if err != nil {
		t.Fatalf("decode %s: %v", key, err)
	}
	return img, format
}

func readObject(t *testing.T, s *testenv.Server, key string) []byte {
	t.Helper()
	r, err := s.App.Blob.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer r.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(r)
	return buf.Bytes()
}

func near(c color.Color, r, g, b uint8) bool {
	cr, cg, cb, _ := c.RGBA()
	d := func(a uint32, b uint8) bool { return int(a>>8)-int(b) < 8 && int(b)-int(a>>8) < 8 }
	return d(cr, r) && d(cg, g) && d(cb, b)
}

func TestDatasetCrop(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	admin := testenv.As("admin")
	halves := pngBytes(t, 1024, 768, func(x, _ int) color.Color {
		if x < 512 {
			return color.RGBA{0, 0, 255, 255}
		}
		return color.RGBA{0, 255, 0, 255}
	})
	var jpg bytes.Buffer
	red := image.NewRGBA(image.Rect(0, 0, 600, 600))
	for i := 0; i < len(red.Pix); i += 4 {
		red.Pix[i], red.Pix[i+3] = 255, 255
	}
	_ = jpeg.Encode(&jpg, red, &jpeg.Options{Quality: 90})
	createDataset(t, s, admin, "src", "5_things", map[string][]byte{
		"halves.png": halves, "halves.txt": []byte("blue and green"), "small.png": pngBytes(t, 100, 50, nil), "red.jpg": jpg.Bytes(),
	})

	r := s.MustCall(t, 202, "POST", "/datasets/src/crop", admin, map[string]any{"max_resolution": "512x512"})
	if got := r.JSON(t)["data"].(map[string]any)["dataset_name"]; got != "src_512x512" {
		t.Fatalf("crop target = %v", got)
	}
	// Listed at once, Enabled, with the source's prefix.
	if got := datasetNames(t, s, admin, "?dataset_status=Enabled"); !slices.Contains(got, "src_512x512") {
		t.Errorf("target not listed at once: %v", got)
	}
	r = s.MustCall(t, 400, "POST", "/datasets/src/crop", admin, map[string]any{"max_resolution": "512x512"})
	if r.Message(t) != "dataset src_512x512 already exists" {
		t.Errorf("second crop = %q", r.Message(t))
	}
	waitFor(t, "crop files", func() bool {
		recs := s.MustCall(t, 200, "GET", "/datasets/src_512x512", admin, nil).JSON(t)["data"].(map[string]any)["data"].([]any)
		return len(recs) == 4
	})
	d := s.MustCall(t, 200, "GET", "/datasets/src_512x512", admin, nil).JSON(t)["data"].(map[string]any)
	if d["prefix"] != "5_things" || d["status"] != "Enabled" || d["description"] != "about src" {
		t.Errorf("target = %v", d)
	}
	const dir = "dataset/src_512x512/5_things/"

	// 1024×768 scaled to 683×512 (Lanczos), centred: the blue/green edge
	// moves from x 512 to about 256.
	img, format := decodeObject(t, s, dir+"halves.png")
	if format != "png" || img.Bounds().Dx() != 512 || img.Bounds().Dy() != 512 {
		t.Fatalf("halves = %s %v", format, img.Bounds())
	}
	if !near(img.At(250, 256), 0, 0, 255) || !near(img.At(262, 256), 0, 255, 0) || !near(img.At(0, 0), 0, 0, 255) || !near(img.At(511, 511), 0, 255, 0) {
		t.Errorf("halves not centred: %v %v %v %v", img.At(250, 256), img.At(262, 256), img.At(0, 0), img.At(511, 511))
	}
	// 100×50 is not scaled: centred at (206, 231), padded with black.
	img, _ = decodeObject(t, s, dir+"small.png")
	if !near(img.At(206, 231), 255, 255, 255) || !near(img.At(305, 280), 255, 255, 255) ||
		!near(img.At(205, 231), 0, 0, 0) || !near(img.At(206, 230), 0, 0, 0) || !near(img.At(306, 281), 0, 0, 0) {
		t.Errorf("small not centred on black")
	}
	img, format = decodeObject(t, s, dir+"red.jpg")
	if format != "jpeg" || img.Bounds().Dx() != 512 || !near(img.At(256, 256), 255, 0, 0) {
		t.Errorf("red.jpg = %s %v %v", format, img.Bounds(), img.At(256, 256))
	}
	if got := string(readObject(t, s, dir+"halves.txt")); got != "blue and green" {
		t.Errorf("caption = %q", got)
	}
	files, _ := store.DatasetFiles(t.Context(), s.App.Store.DB(), "src_512x512")
	for _, f := range files {
		if f.SHA256 == "" || f.Status != "Enabled" || (f.Name != "halves.txt") != (f.Thumbnail != "") {
			t.Errorf("crop record %+v", f)
		}
	}
}
