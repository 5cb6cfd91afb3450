package web_test

// Throwaway: screenshots of the console for a visual review. DELETE ME.

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"easel/internal/testenv"
)

func TestZZScreens(t *testing.T) {
	dir := os.Getenv("SHOTS")
	if dir == "" {
		t.Skip("set SHOTS")
	}
	_ = os.MkdirAll(dir, 0o755)
	b := newBrowser(t, 300*time.Second)
	s := testenv.NewServer(t)
	acceptDialogs(b.ctx)

	dark := false
	scheme := func(d bool) {
		dark = d
		v := "light"
		if d {
			v = "dark"
		}
		b.do("scheme", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: v}},
			})
			return err
		}))
	}
	shot := func(name string) {
		t.Helper()
		if dark {
			name += "-dark"
		}
		b.do("settle "+name, chromedp.Sleep(400*time.Millisecond))
		t.Logf("%s shot %s", time.Now().Format("15:04:05"), name)
		png := run(b, "shot "+name, chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b.do("viewport", chromedp.EmulateViewport(1280, 800))
	for _, d := range []bool{false, true} {
		if os.Getenv("NODARK") != "" && d {
			continue
		}
		scheme(d)
		b.do("login page", chromedp.Navigate(s.URL+"/login"), chromedp.WaitVisible(tid("login-page")))
		shot("01-login")
		b.do("wrong pw",
			chromedp.SendKeys(tid("login-username"), "admin"),
			chromedp.SendKeys(tid("login-password"), "nope-nope"),
			chromedp.Click(tid("login-submit")),
			chromedp.WaitVisible(tid("login-error")),
		)
		shot("02-login-error")
	}
	scheme(false)
	b.login(s.URL, "admin", testenv.AdminPassword)
	b.do("keys empty", chromedp.Navigate(s.URL+"/keys"), chromedp.WaitVisible(tid("keys-table")))
	shot("06a-keys-empty")

	mkRole := func(name string, perms ...string) {
		acts := []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(s.URL + "/roles"),
			chromedp.Click(tid("role-create-toggle")),
			chromedp.SendKeys(tid("role-name"), name),
		}
		for _, p := range perms {
			acts = append(acts, chromedp.Click(tid("perm-"+p)))
		}
		acts = append(acts, chromedp.Click(tid("role-create-submit")), chromedp.WaitVisible(tid("role-row-"+name)))
		b.do("role "+name, acts...)
	}
	mkRole("catalog viewer", "checkpoint-list", "user-list")
	mkRole("role manager", "role-create", "role-list", "checkpoint-all", "inference-create", "user-list")
	mkUser := func(name, pw string, roles ...string) {
		acts := []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(s.URL + "/users"),
			openPanel("user-create-toggle"),
			chromedp.SendKeys(tid("user-username"), name),
			chromedp.SendKeys(tid("user-password"), pw),
		}
		for _, r := range roles {
			acts = append(acts, chromedp.Click(tid("user-role-"+r)))
		}
		acts = append(acts, chromedp.Click(tid("user-create-submit")), chromedp.WaitVisible(tid("user-row-"+name)), settled("user-create-form"))
		b.do("user "+name, acts...)
	}
	mkUser("alice", "alice-password-1", "catalog viewer")
	mkUser("bob", "bob-password-12", "role manager")
	mkUser("carol", "carol-password-1")

	b.do("key1", chromedp.Navigate(s.URL+"/keys"),
		chromedp.SendKeys(tid("key-name"), "nightly batch"),
		chromedp.Click(tid("key-create-submit")),
		chromedp.WaitVisible(tid("key-secret-box")),
		settled("key-create-form"),
	)
	b.do("key2",
		chromedp.SendKeys(tid("key-name"), "WebUI on studio-1"),
		chromedp.Click(tid("key-service")),
		chromedp.Click(tid("key-create-submit")),
		chromedp.WaitVisible(tid("key-secret-box")),
		chromedp.Sleep(300*time.Millisecond),
	)
	b.do("key revoke", chromedp.Evaluate[chromedp.Void](`(() => { const rows = document.querySelectorAll('#keys-body tr'); [...rows].find(r => r.textContent.includes('nightly batch')).querySelector('button').click(); })()`),
		chromedp.Sleep(800*time.Millisecond))

	for _, d := range []bool{false, true} {
		if os.Getenv("NODARK") != "" && d {
			continue
		}
		scheme(d)
		b.do("keys again",
			chromedp.Navigate(s.URL+"/keys"),
			chromedp.SendKeys(tid("key-name"), "render farm "+map[bool]string{false: "A", true: "B"}[d]),
			chromedp.Click(tid("key-create-submit")),
			chromedp.WaitVisible(tid("key-secret-box")),
			settled("key-create-form"),
		)
		shot("06-keys-created")
		b.do("keys error",
			chromedp.Click(tid("key-create-submit")),
			chromedp.Sleep(500*time.Millisecond),
		)
		shot("06b-keys-error")

		b.do("dash", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(tid("dashboard-counts")))
		shot("03-dashboard")

		b.do("users", chromedp.Navigate(s.URL+"/users"), chromedp.WaitVisible(tid("users-table")),
			openPanel("user-create-toggle"),
			chromedp.SendKeys(tid("user-username"), "dave"),
			chromedp.SendKeys(tid("user-password"), "short"),
			chromedp.Click(tid("user-create-submit")),
			chromedp.WaitVisible(tid("error-password")),
			settled("user-create-form"),
			chromedp.Click(tid("user-edit-alice")),
			chromedp.WaitVisible(tid("user-edit-row-alice")),
		)
		shot("04-users")

		b.do("roles", chromedp.Navigate(s.URL+"/roles"), chromedp.WaitVisible(tid("roles-table")),
			chromedp.Click(tid("role-create-toggle")),
			chromedp.Click(tid("role-create-submit")),
			chromedp.Sleep(500*time.Millisecond),
			chromedp.Click(tid("role-edit-catalog viewer")),
			chromedp.WaitVisible(tid("role-edit-row-catalog viewer")),
		)
		shot("05-roles")

		b.do("404", chromedp.Navigate(s.URL+"/does/not/exist"), chromedp.WaitVisible(tid("error-page")))
		shot("08-404")
	}
	scheme(false)
	b.do("home", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(tid("logout")))

	// bob: role:create but not everything: disabled matrix cells.
	b.logout()
	b.login(s.URL, "bob", "bob-password-12")
	b.do("roles bob", chromedp.Navigate(s.URL+"/roles"), chromedp.WaitVisible(tid("roles-table")),
		chromedp.Click(tid("role-create-toggle")))
	shot("05b-roles-limited")
	b.do("dash bob", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(tid("dashboard-counts")))
	shot("03b-dashboard-limited")
	b.do("keys bob", chromedp.Navigate(s.URL+"/keys"), chromedp.WaitVisible(tid("keys-table")))
	shot("06c-keys-empty-nonadmin")

	b.logout()
	b.login(s.URL, "alice", "alice-password-1")
	b.do("403", chromedp.Navigate(s.URL+"/roles"), chromedp.WaitVisible(tid("error-page")))
	shot("07-403")
	b.do("users alice", chromedp.Navigate(s.URL+"/users"), chromedp.WaitVisible(tid("users-table")))
	shot("04b-users-readonly")

	// narrow viewport
	b.logout()
	b.login(s.URL, "admin", testenv.AdminPassword)
	b.do("narrow", chromedp.EmulateViewport(420, 800), chromedp.Navigate(s.URL+"/users"), chromedp.WaitVisible(tid("users-table")))
	shot("09-users-narrow")
	b.do("narrow roles", chromedp.Navigate(s.URL+"/roles"), chromedp.WaitVisible(tid("roles-table")), chromedp.Click(tid("role-create-toggle")))
	shot("09-roles-narrow")
}
