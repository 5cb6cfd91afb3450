package web_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"easel/internal/testenv"
)

// TestBrowserModelsTable: the models table looks like every other table,
// keeps its short values on one line, counts in words and leaves the type
// choice room for its longest name.
func TestBrowserModelsTable(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	mustActiveModel(t, s, "Stable-diffusion", "base.safetensors")
	b := newBrowser(t, 60*time.Second)
	b.login(s.URL, "admin", testenv.AdminPassword)
	b.do("open models at 1280 px", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(s.URL+"/models"),
		chromedp.WaitVisible(tid("model-row-base.safetensors")))
	if got := run(b, "count", chromedp.Text(tid("models-count"))); got != "1 model" {
		t.Errorf("count: got %q, want %q", got, "1 model")
	}
	if !run(b, "wrapped", chromedp.Evaluate[bool](`!!document.querySelector('#models-table table').closest('.table-wrap')`)) {
		t.Errorf("models table: got no .table-wrap around it, want it framed like the other tables")
	}
	// Each header and each short value sits on one line.
	wrapped := run(b, "lines", chromedp.Evaluate[[]string](`(() => {
		// The lines of the cell's longest text node.
		const lines = (el) => {
			const w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT); let most = 0;
			for (let n = w.nextNode(); n; n = w.nextNode()) {
				const r = document.createRange(); r.selectNodeContents(n);
				most = Math.max(most, new Set(Array.from(r.getClientRects(), (x) => Math.round(x.top))).size);
			}
			return most;
		};
		const row = document.querySelector('[data-testid="model-row-base.safetensors"]');
		const cells = [...document.querySelectorAll('#models-table thead th'), ...[1, 3, 4].map((i) => row.cells[i])];
		return cells.filter((c) => c.textContent.trim() !== "" && !c.querySelector('.visually-hidden') && lines(c) > 1).map((c) => c.textContent.trim());
	})()`))
	if len(wrapped) > 0 {
		t.Errorf("models table at 1280 px: %q wrap, want each on one line", wrapped)
	}
	// The import's type select shows "Stable-diffusion" whole.
	for _, sel := range []string{"model-import-type", "model-upload-type"} {
		room := run(b, sel, chromedp.Evaluate[float64](`(() => {
			const s = document.querySelector('[data-testid="`+sel+`"]'), cs = getComputedStyle(s);
			const cx = document.createElement("canvas").getContext("2d"); cx.font = cs.font;
			const widest = Math.max(...Array.from(s.options, (o) => cx.measureText(o.text).width));
			return s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - widest;
		})()`))
		if room < 0 {
			t.Errorf("%s: %.0f px short of its longest option, want it whole", sel, -room)
		}
	}
}

// TestBrowserTickedChoicesStandOut: a ticked permission or role differs
// clearly from an unticked one, in light and in dark mode.
func TestBrowserTickedChoicesStandOut(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	b := newBrowser(t, 60*time.Second)
	b.login(s.URL, "admin", testenv.AdminPassword)
	for _, scheme := range []string{"light", "dark"} {
		b.do(scheme, colorScheme(scheme))
		b.do(scheme+": back to roles", chromedp.Navigate(s.URL+"/roles"), openPanel("role-create-toggle"),
			chromedp.Click(tid("perm-checkpoint-list")))
		// The matrix cell of a ticked box against one of an unticked box.
		if d := run(b, scheme+" matrix", colourDistance(`[data-testid="perm-checkpoint-list"]`, `[data-testid="perm-checkpoint-create"]`, "td")); d < 60 {
			t.Errorf("%s mode: ticked and unticked permission cells differ by %d, want at least 60 (of 765)", scheme, d)
		}
		b.do(scheme+": users", chromedp.Navigate(s.URL+"/users"), openPanel("user-create-toggle"),
			chromedp.Click(tid("user-role-byoc")))
		if d := run(b, scheme+" chip", colourDistance(`[data-testid="user-role-byoc"]`, `[data-testid="user-role-IT Operator"]`, "label")); d < 150 {
			t.Errorf("%s mode: ticked and unticked role chips differ by %d, want at least 150 (of 765)", scheme, d)
		}
	}
}

// colourDistance is how far apart the backgrounds of the ancestors (tag) of
// two elements look on the page: the sum of the RGB differences, 0 to 765.
func colourDistance(a, b, tag string) chromedp.Action[int] {
	return chromedp.Evaluate[int](fmt.Sprintf(shownJS+`(() => {
		const x = shown(document.querySelector(%q).closest(%q)), y = shown(document.querySelector(%q).closest(%q));
		return Math.abs(x[0] - y[0]) + Math.abs(x[1] - y[1]) + Math.abs(x[2] - y[2]);
	})()`, a, tag, b, tag))
}

// shownJS defines shown(el, colour): the RGB an element's background (or
// colour, painted over it) shows on screen, every background from the page
// down composited.
const shownJS = `
const shownCanvas = document.createElement("canvas").getContext("2d", { willReadFrequently: true });
const shown = (el, colour) => {
	const chain = [];
	for (let e = el; e; e = e.parentElement) chain.unshift(getComputedStyle(e).backgroundColor);
	if (colour) chain.push(colour);
	shownCanvas.fillStyle = "#fff"; shownCanvas.fillRect(0, 0, 1, 1);
	for (const c of chain) { shownCanvas.fillStyle = c; shownCanvas.fillRect(0, 0, 1, 1); }
	return shownCanvas.getImageData(0, 0, 1, 1).data;
};
`

// colorScheme emulates prefers-color-scheme.
func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		return err
	})
}
