package web_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"easel/internal/testenv"
)

// chromiumPath is where CI installs Chromium; the browser tests never skip.
const chromiumPath = "/usr/bin/chromium"

// TestBrowserRoleAndUserFlow walks the console as a person would: the admin
// creates a role and a user with htmx forms, then that user signs in and sees
// only what the role allows.
func TestBrowserRoleAndUserFlow(t *testing.T) {
	t.Parallel()
	b := newBrowser(t, 60*time.Second)
	s := testenv.NewServer(t)
	dialogs := acceptDialogs(b.ctx)

	b.login(s.URL, "admin", testenv.AdminPassword)
	if got, want := b.nav(), []string{"nav-dashboard", "nav-users", "nav-roles", "nav-generate", "nav-gallery", "nav-webhooks", "nav-models", "nav-datasets", "nav-trainings", "nav-endpoints", "nav-workers", "nav-keys", "nav-audit"}; !slices.Equal(got, want) {
		t.Errorf("admin nav: got %v, want %v", got, want)
	}

	// A role from the permission matrix; the row appears without a reload.
	// The space in the name keeps the rows' ids honest (hx-target escapes).
	b.do("create role",
		chromedp.Navigate(s.URL+"/roles"),
		markPage,
		chromedp.Click(tid("role-create-toggle")),
		chromedp.SendKeys(tid("role-name"), "catalog viewer"),
		chromedp.Click(tid("perm-checkpoint-list")),
		chromedp.Click(tid("perm-user-list")),
		chromedp.Click(tid("role-create-submit")),
		chromedp.WaitVisible(tid("role-row-catalog viewer")),
	)
	b.assertSamePage("create role")
	if got := run(b, "role row", chromedp.Text(tid("role-row-catalog viewer"))); !strings.Contains(got, "checkpoint:list") || !strings.Contains(got, "user:list") {
		t.Errorf("role row: got %q, want checkpoint:list and user:list", got)
	}
	if got := run(b, "role name after create", chromedp.Value(tid("role-name"))); got != "" {
		t.Errorf("role name after create: got %q, want an emptied form", got)
	}

	// A too-short password: the error sits next to the field, input is kept.
	b.do("create user with a short password",
		chromedp.Navigate(s.URL+"/users"),
		markPage,
		openPanel("user-create-toggle"),
		chromedp.SendKeys(tid("user-username"), "alice"),
		chromedp.SendKeys(tid("user-password"), "short"),
		chromedp.Click(tid("user-role-catalog viewer")),
		chromedp.Click(tid("user-create-submit")),
		chromedp.WaitVisible(tid("error-password")),
		settled("user-create-form"),
	)
	if got := run(b, "password error", chromedp.Text(tid("error-password"))); !strings.Contains(got, "at least 8 characters") {
		t.Errorf("password error: got %q, want it to ask for at least 8 characters", got)
	}
	if got := run(b, "username after error", chromedp.Value(tid("user-username"))); got != "alice" {
		t.Errorf("username after error: got %q, want %q", got, "alice")
	}
	if !run(b, "role choice after error", chromedp.JavascriptAttribute[bool](tid("user-role-catalog viewer"), "checked")) {
		t.Errorf("role choice after error: got unchecked, want catalog viewer still checked")
	}
	b.do("check no row for the refused user", chromedp.WaitNotPresent(tid("user-row-alice")))

	// Fixed: the row is appended to the table, the error goes away.
	b.do("create user",
		chromedp.SendKeys(tid("user-password"), "alice-password-1"),
		chromedp.Click(tid("user-create-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#users-body [data-testid="user-row-alice"]`)),
		chromedp.WaitNotPresent(tid("error-password")),
	)
	b.assertSamePage("create user")
	if got := run(b, "user row", chromedp.Text(tid("user-row-alice"))); !strings.Contains(got, "catalog viewer") {
		t.Errorf("user row: got %q, want it to show the role catalog viewer", got)
	}

	// The new user sees only what user:list and checkpoint:list allow.
	b.logout()
	b.login(s.URL, "alice", "alice-password-1")
	if got, want := b.nav(), []string{"nav-dashboard", "nav-users", "nav-models", "nav-keys"}; !slices.Equal(got, want) {
		t.Errorf("alice nav: got %v, want %v", got, want)
	}
	resp := run(b, "open /roles as alice", chromedp.NavigateResponse(s.URL+"/roles"))
	if resp.Status != 403 {
		t.Errorf("GET /roles as alice: got status %d, want 403", resp.Status)
	}
	b.do("see the error page", chromedp.WaitVisible(tid("error-page")))
	if got := run(b, "error title", chromedp.Text(chromedp.CSS(`[data-testid="error-page"] h2`))); got != "Forbidden" {
		t.Errorf("error page title: got %q, want %q", got, "Forbidden")
	}
	if got, want := b.nav(), []string{"nav-dashboard", "nav-users", "nav-models", "nav-keys"}; !slices.Equal(got, want) {
		t.Errorf("alice nav on the error page: got %v, want %v", got, want)
	}

	// Back as admin: deleting the role asks first, then removes its row.
	b.logout()
	b.login(s.URL, "admin", testenv.AdminPassword)
	b.do("delete role",
		chromedp.Navigate(s.URL+"/roles"),
		chromedp.Click(tid("role-delete-catalog viewer")),
		chromedp.WaitNotPresent(tid("role-row-catalog viewer")),
	)
	select {
	case msg := <-dialogs:
		if want := "Delete role catalog viewer?"; !strings.HasPrefix(msg, want) {
			t.Errorf("confirm dialog: got %q, want it to start with %q", msg, want)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("confirm dialog: got none, want one before the delete")
	}
}

// browser is one headless Chromium tab bounded by the test's timeout.
type browser struct {
	t   *testing.T
	ctx context.Context
}

func newBrowser(t *testing.T, timeout time.Duration) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("browser tests need Chromium at %s (apt-get install chromium): %v", chromiumPath, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Headless,
	)
	// The browser outlives the steps' deadline a little, so a failure can
	// still show the page.
	root, cancel := context.WithTimeout(context.Background(), timeout+10*time.Second)
	actx, acancel := chromedp.NewExecAllocator(root, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	ctx, scancel := context.WithTimeout(bctx, timeout)
	t.Cleanup(func() { scancel(); bcancel(); acancel(); cancel() })
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start Chromium at %s: %v", chromiumPath, err)
	}
	watchCSP(t, ctx)
	return &browser{t: t, ctx: ctx}
}

// watchCSP fails the test when the page breaks the Content-Security-Policy
// (an inline script or handler, a blocked fetch): such a console may look
// right and not work.
func watchCSP(t *testing.T, ctx context.Context) {
	var mu sync.Mutex
	var violations []string
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if strings.Contains(m.Text, "Content Security Policy") {
				mu.Lock()
				violations = append(violations, m.Text)
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, v := range violations {
			t.Errorf("Content-Security-Policy violation: %s", v)
		}
	})
}

// do runs steps and fails the test with where the page stands.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v\n%s", what, err, b.snapshot())
	}
}

func run[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v\n%s", what, err, b.snapshot())
	}
	return v
}

// snapshot is the page's address and text, for failure messages; it gets a
// few seconds of its own since the steps' deadline may be what failed.
func (b *browser) snapshot() string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), 5*time.Second)
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
	if err != nil {
		return "(page unreadable: " + err.Error() + ")"
	}
	return "page: " + text
}

func (b *browser) login(base, user, password string) {
	b.t.Helper()
	b.do("sign in as "+user,
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(tid("login-username"), user),
		chromedp.SendKeys(tid("login-password"), password),
		chromedp.Click(tid("login-submit")),
		chromedp.WaitVisible(tid("whoami")),
	)
	// Read by script, not by node: chromedp may still be renewing its node
	// ids for the document the sign-in navigated to ("No node with given id
	// found" from chromedp.Text, seen now and then on a loaded machine).
	if got := run(b, "whoami", chromedp.Evaluate[string](`document.querySelector('[data-testid="whoami"]').innerText`)); got != user {
		b.t.Fatalf("signed in: got user %q, want %q", got, user)
	}
}

func (b *browser) logout() {
	b.t.Helper()
	b.do("sign out", chromedp.Click(tid("logout")), chromedp.WaitVisible(tid("login-page")))
}

// nav lists the data-testid of every navigation link, in order.
func (b *browser) nav() []string {
	b.t.Helper()
	return run(b, "read nav", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('[data-testid="nav"] a'), a => a.dataset.testid)`))
}

// markPage tags the document; assertSamePage fails if it was reloaded since.
var markPage = chromedp.Evaluate[chromedp.Void](`window.easelMark = true`)

func (b *browser) assertSamePage(what string) {
	b.t.Helper()
	if !run(b, what+": read mark", chromedp.Evaluate[bool](`window.easelMark === true`)) {
		b.t.Errorf("%s: got a page reload, want an htmx swap", what)
	}
}

// settled waits until htmx has wired up a swapped-in element: it does so
// only after the settle delay, and a form submitted before then is sent
// natively.
func settled(testid string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(`[data-testid="` + testid + `"]:not(.htmx-added):not(.htmx-settling)`))
}

// openPanel opens the <details> of a toggle unless it is open already.
func openPanel(toggle string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(() => {
		const d = document.querySelector('[data-testid="` + toggle + `"]').closest("details");
		if (!d.open) d.querySelector("summary").click();
	})()`)
}

// acceptDialogs accepts every JavaScript dialog (hx-confirm) and reports
// its message.
func acceptDialogs(ctx context.Context) <-chan string {
	msgs := make(chan string, 8)
	events := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			if _, err := chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true}); err != nil {
				ev.Message = "accept failed: " + err.Error()
			}
			select {
			case msgs <- ev.Message:
			default:
			}
		}
	}()
	return msgs
}

// tid selects by data-testid.
func tid(id string) chromedp.CSS { return chromedp.CSS(`[data-testid="` + id + `"]`) }
