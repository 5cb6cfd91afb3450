package web_test

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"easel/internal/testenv"
)

// TestBrowserUploadsAModel uploads a 20 MB file from the Models page: the
// browser sends its parts straight to the object store, and the model
// becomes Active without a page reload.
func TestBrowserUploadsAModel(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	b := newBrowser(t, 90*time.Second)
	const name = "browser-upload.safetensors"
	path := filepath.Join(t.TempDir(), name)
	data := make([]byte, 20<<20)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}

	b.login(s.URL, "admin", testenv.AdminPassword)
	b.do("upload from the Models page",
		chromedp.Navigate(s.URL+"/models"),
		chromedp.WaitVisible(tid("model-upload-form")),
		markPage,
		chromedp.SetValue(tid("model-upload-type"), "Lora"),
		chromedp.SetUploadFiles(`input[data-testid="model-upload-files"]`, []string{path}),
		chromedp.Click(tid("model-upload-start")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="model-row-`+name+`"][data-status="Active"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="upload-item"].done`)),
	)
	b.assertSamePage("upload")
	status := run(b, "upload status", chromedp.Text(chromedp.CSS(`[data-testid="upload-item"] small`)))
	if !strings.Contains(status, "Uploaded 20.0 MiB") {
		t.Errorf("upload status = %q, want it to report 20.0 MiB uploaded", status)
	}
	list := checkpointsOf(t, s, testenv.As("admin"), "")
	if len(list) != 1 || list[0]["status"] != "Active" || list[0]["size"] != "20971520" || list[0]["type"] != "Lora" {
		t.Fatalf("checkpoints after the browser upload = %v", list)
	}

	// A second upload with the same name is refused before anything starts.
	b.do("upload the same name again",
		chromedp.SetUploadFiles(`input[data-testid="model-upload-files"]`, []string{path}),
		chromedp.Click(tid("model-upload-start")),
		chromedp.WaitVisible(tid("upload-error")),
	)
	if msg := run(b, "upload error", chromedp.Text(tid("upload-error"))); !strings.Contains(msg, "already exists") {
		t.Errorf("second upload error = %q, want 'already exists'", msg)
	}
}

// TestBrowserCreatesAnEndpoint creates an endpoint on a simulator pool from
// the Endpoints page and watches its status badge turn InService by itself.
func TestBrowserCreatesAnEndpoint(t *testing.T) {
	t.Parallel()
	s := simPoolServer(t)
	b := newBrowser(t, 60*time.Second)
	b.login(s.URL, "admin", testenv.AdminPassword)
	b.do("create an endpoint",
		chromedp.Navigate(s.URL+"/endpoints"),
		openPanel("endpoint-create-toggle"),
		chromedp.WaitVisible(tid("endpoint-create-form")),
		markPage,
		chromedp.SetValue(tid("endpoint-instance-type"), "studio"),
		chromedp.SendKeys(tid("endpoint-name"), "demo"),
		chromedp.Click(tid("endpoint-role-byoc")),
		chromedp.Click(tid("endpoint-create-submit")),
		chromedp.WaitVisible(tid("endpoint-row-esd-async-demo")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="endpoint-row-esd-async-demo"][data-status="InService"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="endpoint-row-esd-async-demo"] [data-testid="simulator-badge"]`)),
	)
	b.assertSamePage("endpoint create")
	// A second endpoint for the same role is refused next to the form.
	b.do("second endpoint for byoc",
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="endpoint-create-form"]:not(.htmx-added):not(.htmx-settling)`)),
		chromedp.Click(tid("endpoint-role-byoc")),
		chromedp.Click(tid("endpoint-create-submit")),
		chromedp.WaitVisible(tid("form-error")),
	)
	if msg := run(b, "form error", chromedp.Text(tid("form-error"))); !strings.Contains(msg, "has a valid endpoint already") {
		t.Errorf("second endpoint error = %q", msg)
	}
}

// TestBrowserGeneratesAnImage generates an image from the Generate page,
// watches the job page update itself, and finds it in the gallery.
func TestBrowserGeneratesAnImage(t *testing.T) {
	t.Parallel()
	s := inferenceServer(t)
	b := newBrowser(t, 60*time.Second)
	b.login(s.URL, "admin", testenv.AdminPassword)
	b.do("generate",
		chromedp.Navigate(s.URL+"/generate"),
		chromedp.WaitVisible(tid("generate-form")),
		chromedp.SendKeys(tid("generate-prompt"), "a red bicycle"),
		chromedp.SetValue(tid("generate-width"), "64"),
		chromedp.SetValue(tid("generate-height"), "64"),
		chromedp.Click(tid("generate-submit")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="job-detail"][data-status="succeed"]`)),
		chromedp.WaitVisible(tid("job-image")),
	)
	infotext := run(b, "infotext", chromedp.Text(chromedp.CSS(`pre.infotext`)))
	if !strings.Contains(infotext, "a red bicycle") || !strings.Contains(infotext, "Size: 64x64") {
		t.Errorf("infotext = %q", infotext)
	}
	loaded := run(b, "image loaded", chromedp.Evaluate[bool](`document.querySelector('[data-testid="job-image"]').naturalWidth === 64`))
	if !loaded {
		t.Error("the job's image did not load at 64 pixels wide")
	}
	b.do("gallery",
		chromedp.Navigate(s.URL+"/gallery"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid^="gallery-card-"][data-status="succeed"] img`)),
	)
}
