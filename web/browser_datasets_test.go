package web_test

import (
	"image/color"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"easel/internal/testenv"
	"easel/store"
)

// TestBrowserDatasetFlow uploads a small folder from the Datasets page
// (straight to the store), sees its thumbnails, edits a caption, makes a
// cropped copy and deletes it; a viewer with train:list alone, in one of
// the creator's roles, sees the pictures and captions but no button that
// writes.
func TestBrowserDatasetFlow(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	admin := testenv.As("admin")
	mustRole(t, s, "lookers", "train:list")
	mustRole(t, s, "painters", "train:all")
	mustUser(t, s, "admin", "pat", "painters", "lookers")
	mustUser(t, s, "admin", "lou", "lookers")
	dir := t.TempDir()
	files := map[string][]byte{
		"a.png":    pngBytes(t, 64, 48, func(x, _ int) color.Color { return color.RGBA{uint8(x * 4), 0, 0, 255} }),
		"a.txt":    []byte("a red ramp"),
		"b.png":    pngBytes(t, 32, 32, nil),
		"notes.md": []byte("left out"),
	}
	var paths []string
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	b := newBrowser(t, 90*time.Second)
	acceptDialogs(b.ctx)
	b.login(s.URL, "pat", "pw-pat")
	picture := func(name, inner string) chromedp.CSS {
		return chromedp.CSS(`[data-testid="dataset-picture-` + name + `"] [data-testid="` + inner + `"]`)
	}
	b.do("upload a folder from the Datasets page",
		chromedp.Navigate(s.URL+"/datasets"),
		chromedp.WaitVisible(tid("nav-datasets")),
		chromedp.WaitVisible(tid("dataset-upload-form")),
		chromedp.SendKeys(tid("dataset-name"), "ramps"),
		chromedp.SendKeys(tid("dataset-prefix"), "4_ramp"),
		chromedp.SetUploadFiles(`input[data-testid="dataset-files"]`, paths),
		chromedp.WaitVisible(tid("dataset-chosen")),
		chromedp.Click(tid("dataset-upload-start")),
		chromedp.WaitVisible(tid("dataset-title")),
		chromedp.WaitVisible(picture("a.png", "dataset-thumb")),
		chromedp.WaitVisible(picture("b.png", "dataset-thumb")),
		chromedp.WaitVisible(picture("a.png", "caption-text")),
	)
	if got := run(b, "status", chromedp.Text(tid("dataset-status"))); got != "Enabled" {
		t.Errorf("status after upload = %q", got)
	}
	if got := run(b, "caption", chromedp.Value(picture("a.png", "caption-text"))); got != "a red ramp" {
		t.Errorf("caption of a.png = %q", got)
	}
	ds, _ := store.GetDataset(t.Context(), s.App.Store.DB(), "ramps")
	recs, _ := store.DatasetFiles(t.Context(), s.App.Store.DB(), "ramps")
	if ds.Prefix != "4_ramp" || len(recs) != 3 {
		t.Fatalf("dataset %+v with %d files (notes.md must be left out)", ds, len(recs))
	}

	b.do("edit a caption",
		chromedp.SendKeys(picture("b.png", "caption-text"), "a white square"),
		chromedp.Click(picture("b.png", "caption-save")),
		chromedp.WaitVisible(picture("b.png", "caption-saved")),
	)
	if got := string(readObject(t, s, "dataset/ramps/4_ramp/b.txt")); got != "a white square" {
		t.Errorf("b.txt = %q", got)
	}

	b.do("make a cropped copy",
		chromedp.SetValue(tid("dataset-crop-size"), "16x16"),
		chromedp.Click(tid("dataset-crop")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="dataset-delete"][hx-delete="/datasets/ramps_16x16"]`)),
	)
	waitFor(t, "the crop", func() bool {
		r := s.MustCall(t, 200, "GET", "/datasets/ramps_16x16", admin, nil)
		return len(r.JSON(t)["data"].(map[string]any)["data"].([]any)) == 4
	})
	b.do("see the cropped copy",
		chromedp.Navigate(s.URL+"/datasets/ramps_16x16"),
		chromedp.WaitVisible(picture("a.png", "dataset-thumb")),
		chromedp.WaitVisible(picture("b.png", "caption-text")),
	)
	if got := run(b, "cropped caption", chromedp.Value(picture("b.png", "caption-text"))); got != "a white square" {
		t.Errorf("cropped caption of b.png = %q", got)
	}
	b.do("delete the copy",
		chromedp.Click(tid("dataset-delete")),
		chromedp.WaitVisible(tid("dataset-row-ramps")),
	)
	if _, err := store.GetDataset(t.Context(), s.App.Store.DB(), "ramps_16x16"); err == nil {
		t.Error("the cropped copy survived its delete")
	}

	b.logout()
	b.login(s.URL, "lou", "pw-lou")
	b.do("a viewer opens the dataset",
		chromedp.Navigate(s.URL+"/datasets"),
		chromedp.WaitVisible(tid("dataset-row-ramps")),
	)
	if run(b, "upload panel", chromedp.Evaluate[bool](`!!document.querySelector('[data-testid="dataset-upload-panel"]')`)) {
		t.Error("a viewer sees the upload panel")
	}
	b.do("viewer detail",
		chromedp.Navigate(s.URL+"/datasets/ramps"),
		chromedp.WaitVisible(picture("a.png", "caption-read")),
	)
	if got := run(b, "read-only caption", chromedp.Text(picture("a.png", "caption-read"))); got != "a red ramp" {
		t.Errorf("viewer's caption = %q", got)
	}
	writes := run(b, "write buttons", chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=dataset-crop-form], [data-testid=dataset-delete], [data-testid=dataset-enable], [data-testid=dataset-disable], [data-testid=caption-save]').length`))
	if writes != 0 {
		t.Errorf("a viewer sees %d write buttons", writes)
	}
}
