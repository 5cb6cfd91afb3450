package web_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
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
	if msg, want := run(b, "upload error", chromedp.Text(tid("upload-error"))), "A model called "+name+" exists already — rename it or delete the old one."; msg != want {
		t.Errorf("second upload error = %q, want %q", msg, want)
	}

	// The SHA-256 the checksum job records appears by itself, short, with
	// the whole value on hover and copy.
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	sha := chromedp.CSS(`[data-testid="model-row-` + name + `"] [data-testid="model-sha"]`)
	b.do("wait for the SHA-256", chromedp.WaitVisible(sha))
	if got := run(b, "sha text", chromedp.Text(sha)); got != hash[:12]+"…" {
		t.Errorf("SHA-256 shown as %q, want %q", got, hash[:12]+"…")
	}
	if got := run(b, "sha copy", chromedp.AttributeValue(sha, "data-copy-text")).Value; got != hash {
		t.Errorf("SHA-256 copied as %q, want %q", got, hash)
	}
	if got := run(b, "sha title", chromedp.AttributeValue(sha, "title")).Value; !strings.Contains(got, hash) {
		t.Errorf("SHA-256 title %q, want it to hold %s", got, hash)
	}
}

// TestBrowserCreatesAnEndpoint creates an endpoint on a simulator pool from
// the Endpoints page: the form says the final name while the user types, a
// notice confirms the creation, and the status badge turns In service by
// itself.
func TestBrowserCreatesAnEndpoint(t *testing.T) {
	t.Parallel()
	s := simPoolServer(t)
	b := newBrowser(t, 60*time.Second)
	b.login(s.URL, "admin", testenv.AdminPassword)
	preview := func(what, want string) {
		t.Helper()
		if got := run(b, what, chromedp.Text(tid("endpoint-name-preview"))); got != want {
			t.Errorf("%s: name preview %q, want %q", what, got, want)
		}
	}
	b.do("open the form",
		chromedp.Navigate(s.URL+"/endpoints"),
		openPanel("endpoint-create-toggle"),
		chromedp.WaitVisible(tid("endpoint-create-form")),
		markPage,
	)
	preview("empty name", "Left empty, the name will be esd-async- followed by 7 random characters.")
	b.do("type a name", chromedp.SendKeys(tid("endpoint-name"), "sim-demo"))
	preview("typed name", "It will be called esd-async-sim-demo.")
	b.do("pick Real-time", chromedp.SetValue(tid("endpoint-type"), "Real-time"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="endpoint-type"]').dispatchEvent(new Event("change", {bubbles: true}))`))
	preview("Real-time", "It will be called esd-real-time-sim-demo.")
	b.do("back to Async", chromedp.SetValue(tid("endpoint-type"), "Async"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="endpoint-type"]').dispatchEvent(new Event("change", {bubbles: true}))`))

	b.do("create an endpoint",
		chromedp.SetValue(tid("endpoint-instance-type"), "studio"),
		chromedp.Click(tid("endpoint-role-byoc")),
		chromedp.Click(tid("endpoint-create-submit")),
		chromedp.WaitVisible(tid("endpoint-row-esd-async-sim-demo")),
		chromedp.WaitVisible(tid("notice")),
	)
	if got, want := run(b, "notice", chromedp.Text(tid("notice"))), "Endpoint esd-async-sim-demo created; it is being deployed."; !strings.Contains(got, want) {
		t.Errorf("notice after create: got %q, want %q", got, want)
	}
	b.do("wait for In service",
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="endpoint-row-esd-async-sim-demo"][data-status="InService"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="endpoint-row-esd-async-sim-demo"] [data-testid="simulator-badge"]`)),
	)
	if got := run(b, "status", chromedp.Text(chromedp.CSS(`[data-testid="endpoint-row-esd-async-sim-demo"] [data-testid="endpoint-status"]`))); got != "In service" {
		t.Errorf("endpoint status: got %q, want %q", got, "In service")
	}
	b.assertSamePage("endpoint create")
	preview("fresh form", "Left empty, the name will be esd-async- followed by 7 random characters.")

	// A second endpoint for the same role is refused: not about one field,
	// so the error is a notice, in the console's words; the choices stay.
	b.do("second endpoint for byoc",
		settled("endpoint-create-form"),
		chromedp.Click(tid("endpoint-role-byoc")),
		chromedp.Click(tid("endpoint-create-submit")),
		chromedp.WaitVisible(tid("notice-error")),
	)
	want := "Role byoc has an endpoint already, and a role can have only one. Delete that one first, or pick another role."
	if msg := run(b, "error notice", chromedp.Text(tid("notice-error"))); !strings.Contains(msg, want) {
		t.Errorf("second endpoint: notice %q, want %q", msg, want)
	}
	if !run(b, "choice kept", chromedp.JavascriptAttribute[bool](tid("endpoint-role-byoc"), "checked")) {
		t.Errorf("second endpoint: role byoc got unticked, want the form as it was sent")
	}
	if run(b, "no success notice", chromedp.Evaluate[bool](`!!document.querySelector('[data-testid="notice"]')`)) {
		t.Errorf("second endpoint: the earlier success notice is still shown next to the error")
	}
}

// TestBrowserGeneratesAnImage generates an image from the Generate page,
// watches the job page update itself, reads its settings, downloads the
// image, opens Generate again with the same settings, and finds the job in
// the gallery.
func TestBrowserGeneratesAnImage(t *testing.T) {
	t.Parallel()
	s := inferenceServer(t)
	b := newBrowser(t, 60*time.Second)
	b.login(s.URL, "admin", testenv.AdminPassword)
	b.do("generate",
		chromedp.Navigate(s.URL+"/generate"),
		chromedp.WaitVisible(tid("generate-form")),
		chromedp.SendKeys(tid("generate-prompt"), "a red bicycle"),
		chromedp.SendKeys(`textarea[name="negative_prompt"]`, "rain"),
		chromedp.SetValue(tid("generate-width"), "64"),
		chromedp.SetValue(tid("generate-height"), "64"),
		chromedp.Click(tid("generate-submit")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="job-detail"][data-status="succeed"]`)),
		chromedp.WaitVisible(tid("job-image")),
	)
	if got := run(b, "status", chromedp.Text(tid("job-status"))); got != "Succeeded" {
		t.Errorf("job status: got %q, want %q", got, "Succeeded")
	}
	loaded := run(b, "image loaded", chromedp.Evaluate[bool](`document.querySelector('[data-testid="job-image"]').naturalWidth === 64`))
	if !loaded {
		t.Error("the job's image did not load at 64 pixels wide")
	}

	// The settings read as a table; the JSON waits behind a disclosure.
	for id, want := range map[string]string{"job-prompt": "a red bicycle", "job-negative": "rain", "job-size": "64 × 64 px",
		"job-steps": "20", "job-sampler": "Euler a", "job-cfg": "7"} {
		if got := run(b, id, chromedp.Text(tid(id))); got != want {
			t.Errorf("%s: got %q, want %q", id, got, want)
		}
	}
	seed := run(b, "seed", chromedp.Text(tid("job-seed")))
	if seed == "" || seed == "-1" {
		t.Errorf("seed: got %q, want the seed the image was made with", seed)
	}
	if run(b, "raw closed", chromedp.Evaluate[bool](`document.querySelector('[data-testid="job-raw"]').open`)) {
		t.Errorf("raw parameters: got them open, want them behind a closed <details>")
	}
	if raw := run(b, "raw", chromedp.TextContent(tid("job-params"))); !strings.Contains(raw, `"prompt": "a red bicycle"`) {
		t.Errorf("raw parameters = %q, want the uploaded JSON", raw)
	}

	// The download link saves the image rather than showing it.
	href := run(b, "download", chromedp.AttributeValue(tid("job-download"), "href")).Value
	res, err := http.Get(href)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if cd := res.Header.Get("Content-Disposition"); res.StatusCode != 200 || !strings.HasPrefix(cd, "attachment") {
		t.Errorf("download: status %d, Content-Disposition %q, want 200 and an attachment", res.StatusCode, cd)
	}

	// "Use these settings" opens Generate filled in, seed included.
	b.do("use these settings", chromedp.Click(tid("job-again")), chromedp.WaitVisible(tid("generate-form")))
	for sel, want := range map[string]string{`[data-testid="generate-prompt"]`: "a red bicycle", `textarea[name="negative_prompt"]`: "rain",
		`[data-testid="generate-width"]`: "64", `input[name="seed"]`: seed, `[data-testid="generate-model"]`: "base.safetensors"} {
		if got := run(b, sel, chromedp.Value(sel)); got != want {
			t.Errorf("Generate after Use these settings: %s = %q, want %q", sel, got, want)
		}
	}

	b.do("gallery",
		chromedp.Navigate(s.URL+"/gallery"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid^="gallery-card-"][data-status="succeed"] img`)),
	)
}
