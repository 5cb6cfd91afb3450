package web_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"easel/internal/testenv"
)

// TestBrowserNotices: creating a role, a user or a key is confirmed by a
// notice, and a failure that is no one field's is an error notice.
func TestBrowserNotices(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	b := newBrowser(t, 60*time.Second)
	b.login(s.URL, "admin", testenv.AdminPassword)
	notice := func(what, want string) {
		t.Helper()
		b.do(what+": wait for the notice", chromedp.WaitVisible(tid("notice")))
		if got := run(b, what, chromedp.Text(tid("notice"))); !strings.Contains(got, want) {
			t.Errorf("%s: notice %q, want %q", what, got, want)
		}
	}
	b.do("create a role",
		chromedp.Navigate(s.URL+"/roles"),
		openPanel("role-create-toggle"),
		chromedp.SendKeys(tid("role-name"), "painter"),
		chromedp.Click(tid("perm-inference-create")),
		chromedp.Click(tid("role-create-submit")),
		chromedp.WaitVisible(tid("role-row-painter")),
	)
	notice("role", "Role painter created.")
	b.do("create a user",
		chromedp.Navigate(s.URL+"/users"),
		openPanel("user-create-toggle"),
		chromedp.SendKeys(tid("user-username"), "paula"),
		chromedp.SendKeys(tid("user-password"), "paula-password"),
		chromedp.Click(tid("user-role-painter")),
		chromedp.Click(tid("user-create-submit")),
		chromedp.WaitVisible(tid("user-row-paula")),
	)
	notice("user", "User paula created.")
	b.do("create a key",
		chromedp.Navigate(s.URL+"/keys"),
		chromedp.SendKeys(tid("key-name"), "studio script"),
		chromedp.Click(tid("key-create-submit")),
		chromedp.WaitVisible(tid("key-secret")),
	)
	notice("key", "Key “studio script” created.")
	b.do("dismiss", chromedp.Click(`[data-testid="notice"] [data-dismiss]`), chromedp.WaitNotPresent(tid("notice")))

	// Deleted meanwhile (here through the API): the row's Delete fails, and
	// says so in an error notice.
	b.do("open users", chromedp.Navigate(s.URL+"/users"), chromedp.WaitVisible(tid("user-row-paula")))
	s.MustCall(t, 204, "DELETE", "/users", testenv.As("admin"), map[string]any{"user_name_list": []string{"paula"}})
	acceptDialogs(b.ctx)
	b.do("delete the gone user", chromedp.Click(tid("user-delete-paula")), chromedp.WaitVisible(tid("notice-error")))
	if got := run(b, "error notice", chromedp.Text(tid("notice-error"))); !strings.Contains(got, "does not exist") {
		t.Errorf("deleting a deleted user: notice %q, want it to say it does not exist", got)
	}
}

// TestBrowserPermissionsShapeThePages: buttons and hints offer only what the
// viewer may do; empty states say what that viewer can do.
func TestBrowserPermissionsShapeThePages(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	mustRole(t, s, "viewer", "inference:list", "checkpoint:list", "sagemaker_endpoint:list")
	mustRole(t, s, "painter", "inference:create", "inference:list")
	mustUser(t, s, "admin", "vera", "viewer")
	mustUser(t, s, "admin", "gina", "painter")
	b := newBrowser(t, 90*time.Second)

	b.login(s.URL, "vera", "pw-vera")
	b.do("gallery", chromedp.Navigate(s.URL+"/gallery"), chromedp.WaitVisible(tid("gallery-empty")))
	page := run(b, "gallery text", chromedp.Text(chromedp.CSS("main")))
	for _, bad := range []string{"Generate", "Every image your team generated"} {
		if strings.Contains(page, bad) {
			t.Errorf("gallery for a viewer without inference:create or :all: got %q in %q", bad, page)
		}
	}
	if n := run(b, "generate buttons", chromedp.Evaluate[int](`document.querySelectorAll('a[href="/generate"]').length`)); n != 0 {
		t.Errorf("gallery for a viewer without inference:create: got %d links to Generate, want none", n)
	}
	b.do("models", chromedp.Navigate(s.URL+"/models"), chromedp.WaitVisible(tid("models-empty")))
	if got, want := run(b, "models empty", chromedp.Text(tid("models-empty"))), "No models have been shared with you yet."; got != want {
		t.Errorf("models, empty, without checkpoint:create: got %q, want %q", got, want)
	}
	b.do("endpoints", chromedp.Navigate(s.URL+"/endpoints"), chromedp.WaitVisible(tid("endpoints-empty")))
	if got := run(b, "endpoints empty", chromedp.Text(tid("endpoints-empty"))); !strings.Contains(got, "Ask an administrator") {
		t.Errorf("endpoints, empty, without sagemaker_endpoint:create: got %q, want a pointer to an administrator", got)
	}
	if run(b, "create toggle", chromedp.Evaluate[bool](`!!document.querySelector('[data-testid="endpoint-create-toggle"]')`)) {
		t.Errorf("endpoints without sagemaker_endpoint:create: got a New endpoint panel")
	}
	b.logout()

	// gina may generate but neither add models nor create endpoints.
	b.login(s.URL, "gina", "pw-gina")
	b.do("generate", chromedp.Navigate(s.URL+"/generate"), chromedp.WaitVisible(tid("generate-no-model")))
	if got := run(b, "no model hint", chromedp.Text(tid("generate-no-model"))); strings.Contains(got, "upload") || strings.Contains(got, "Upload") {
		t.Errorf("Generate without checkpoint:create: hint %q, want no offer to upload", got)
	}
	b.do("generate without an endpoint",
		chromedp.SendKeys(tid("generate-prompt"), "a kite"),
		chromedp.Click(tid("generate-submit")),
		chromedp.WaitVisible(tid("notice-error")),
	)
	got := run(b, "no endpoint", chromedp.Text(tid("notice-error")))
	if !strings.HasPrefix(got, "No Async endpoint is in service for you.") || strings.Contains(got, "gina") {
		t.Errorf("Generate with no endpoint, without sagemaker_endpoint:create: notice %q, want the console's words", got)
	}
	if n := run(b, "links", chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="notice-error"] a').length`)); n != 0 {
		t.Errorf("the notice offers %d links to a viewer who may not create endpoints, want none", n)
	}
	b.logout()

	// The admin may create endpoints: the same refusal points to them.
	b.login(s.URL, "admin", testenv.AdminPassword)
	b.do("generate as admin",
		chromedp.Navigate(s.URL+"/generate"),
		chromedp.SendKeys(tid("generate-prompt"), "a kite"),
		chromedp.Click(tid("generate-submit")),
		chromedp.WaitVisible(`[data-testid="notice-error"] a[href="/endpoints"]`),
	)
	if got, want := run(b, "admin notice", chromedp.Text(tid("notice-error"))), "No Async endpoint is in service for you — create one in Endpoints."; !strings.HasPrefix(got, want) {
		t.Errorf("Generate with no endpoint, as admin: notice %q, want %q", got, want)
	}
}

// TestBrowserRecentChangesReadAsSentences: the dashboard names who changed
// what, links to the things that still exist, and shows no audit codes or
// bare ids.
func TestBrowserRecentChangesReadAsSentences(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	mustActiveModel(t, s, "Lora", "style.safetensors")
	mustActiveModel(t, s, "VAE", "gone.vae.pt")
	id := checkpointsOf(t, s, testenv.As("admin"), "?types=VAE")[0]["id"].(string)
	s.MustCall(t, 204, "DELETE", "/checkpoints", testenv.As("admin"), map[string]any{"checkpoint_id_list": []string{id}})
	b := newBrowser(t, 60*time.Second)
	b.login(s.URL, "admin", testenv.AdminPassword)
	b.do("dashboard", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(tid("audit-table")))
	lines := run(b, "changes", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('[data-testid="change"] .change-text'), (e) => e.textContent.replace(/\s+/g, " ").trim())`))
	for _, want := range []string{"admin updated model style.safetensors", "admin deleted model gone.vae.pt"} {
		if !slices.Contains(lines, want) {
			t.Errorf("recent changes %q: want the sentence %q", lines, want)
		}
	}
	code := regexp.MustCompile(`[a-z]+\.[a-z]+ |[0-9a-f]{8}-[0-9a-f]{4}-`)
	for _, l := range lines {
		if m := code.FindString(l + " "); m != "" && !strings.Contains(l, ".safetensors") && !strings.Contains(l, ".vae.pt") {
			t.Errorf("recent change %q shows the code or id %q", l, m)
		}
	}
	href := run(b, "link", chromedp.AttributeValue(`[data-testid="change"] a[data-testid="change-link"]`, "href")).Value
	if href != "/models?q=style.safetensors" {
		t.Errorf("newest change links to %q, want the model %q", href, "/models?q=style.safetensors")
	}
}

// TestBrowserPhone: at 390 px the navigation opens from a menu button and
// holds every page, nothing is wider than the screen, and recent changes
// are a line or two each — in light and dark mode.
func TestBrowserPhone(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	mustActiveModel(t, s, "Stable-diffusion", "a-model-with-a-long-name-for-phones.safetensors")
	b := newBrowser(t, 90*time.Second)
	b.do("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	b.login(s.URL, "admin", testenv.AdminPassword)
	for _, scheme := range []string{"light", "dark"} {
		b.do(scheme, colorScheme(scheme), chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(tid("menu-toggle")))
		if n := run(b, "links shown", chromedp.Evaluate[int](`Array.from(document.querySelectorAll('[data-testid="nav"] a')).filter((a) => a.offsetParent).length`)); n != 0 {
			t.Errorf("%s: %d navigation links shown before the menu opens, want them behind the menu button", scheme, n)
		}
		// The button's words must show against its background.
		if d := run(b, "toggle contrast", chromedp.Evaluate[int](shownJS+`(() => {
			const btn = document.querySelector('[data-testid="menu-toggle"]');
			const a = shown(btn, getComputedStyle(btn).color), b = shown(btn);
			return Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) + Math.abs(a[2] - b[2]);
		})()`)); d < 200 {
			t.Errorf("%s: the menu button's text differs from its background by %d, want at least 200 (of 765)", scheme, d)
		}
		b.do(scheme+": open the menu", chromedp.Click(tid("menu-toggle")), chromedp.WaitVisible(tid("nav-keys")))
		shown := run(b, "links", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('[data-testid="nav"] a')).filter((a) => {
			const r = a.getBoundingClientRect(); return a.offsetParent && r.width > 0 && r.left >= 0 && r.right <= innerWidth;
		}).map((a) => a.dataset.testid)`))
		if want := []string{"nav-dashboard", "nav-users", "nav-roles", "nav-generate", "nav-gallery", "nav-models", "nav-trainings", "nav-endpoints", "nav-workers", "nav-keys"}; !slices.Equal(shown, want) {
			t.Errorf("%s: menu shows %v on screen, want %v", scheme, shown, want)
		}
		b.do(scheme+": go to models", chromedp.Click(tid("nav-models")), chromedp.WaitVisible(tid("models-table")))
		for _, path := range []string{"/", "/models", "/endpoints", "/roles", "/keys", "/generate"} {
			b.do(path, chromedp.Navigate(s.URL+path), chromedp.WaitVisible(tid("menu-toggle")))
			if w := run(b, "width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
				t.Errorf("%s %s: the page is %d px wide on a 390 px screen", scheme, path, w)
			}
		}
		b.do("dashboard", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(tid("audit-table")))
		if h := run(b, "tallest change", chromedp.Evaluate[int](`Math.round(Math.max(...Array.from(document.querySelectorAll('[data-testid="change"]'), (e) => e.getBoundingClientRect().height)))`)); h > 100 {
			t.Errorf("%s: a recent change is %d px tall at 390 px, want at most 100", scheme, h)
		}
	}
}
