package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"easel/internal/testenv"
)

// TestBrowserGallery: the grid shows the thumbnails (loaded, not the full
// images); two jobs checked and deleted with one confirmed Delete go, the
// third stays.
func TestBrowserGallery(t *testing.T) {
	t.Parallel()
	s := simPoolServer(t)
	ids := galleryJobs(t, s, 3)
	b := newBrowser(t, 90*time.Second)
	b.login(s.URL, "admin", testenv.AdminPassword)
	card := func(id string) string { return `[data-testid="gallery-card-` + id + `"]` }
	b.do("open the gallery", chromedp.Navigate(s.URL+"/gallery"), chromedp.WaitVisible(card(ids[2])+` img`))
	run(b, "wait for the thumbnails to load", chromedp.Poll[bool](`Array.from(document.querySelectorAll('[data-testid="gallery-thumb"]')).every((i) => i.complete && i.naturalWidth > 0)`))
	srcs := run(b, "thumbnails", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('[data-testid="gallery-thumb"]'), (i) => new URL(i.src).pathname)`))
	if len(srcs) != 3 {
		t.Fatalf("the gallery shows %d thumbnails, want 3: %v", len(srcs), srcs)
	}
	for _, src := range srcs {
		if !strings.HasSuffix(src, "/thumbs/0.jpg") {
			t.Errorf("a card shows %s, not its thumbnail", src)
		}
	}
	if n := run(b, "thumbnail width", chromedp.Evaluate[int](`document.querySelector('[data-testid="gallery-thumb"]').naturalWidth`)); n != 320 {
		t.Errorf("the card's image is %d pixels wide, want the 320-pixel thumbnail", n)
	}
	dialogs := acceptDialogs(b.ctx)
	b.do("select two and delete them",
		chromedp.Click(card(ids[0])+` [data-testid="gallery-check"]`),
		chromedp.Click(card(ids[1])+` [data-testid="gallery-check"]`),
		chromedp.Click(tid("gallery-delete-selected")),
		chromedp.WaitNotPresent(card(ids[0])),
		chromedp.WaitNotPresent(card(ids[1])),
		chromedp.WaitVisible(card(ids[2])),
	)
	if msg := <-dialogs; !strings.Contains(msg, "Delete the selected jobs") {
		t.Errorf("confirmation %q", msg)
	}
	left := s.MustCall(t, 200, "GET", "/inferences", testenv.As("admin"), nil).JSON(t)
	if items := left["data"].(map[string]any)["inferences"].([]any); len(items) != 1 {
		t.Errorf("jobs left after deleting two of three: %d", len(items))
	}
}
