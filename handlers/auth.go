package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"easel/internal/logx"
	"easel/metrics"
	"easel/policy"
	"easel/secrets"
	"easel/store"
	"easel/views"
)

// Auth signs users in and out of the console.
type Auth struct {
	store    *store.Store
	policy   *policy.Policy
	sessions Sessions
	limiter  *loginLimiter
	checks   checkGate
	metrics  *metrics.Set
	log      *slog.Logger
}

// maxPasswordChecks is how many password checks run at once; more
// attempts are answered 429 rather than queued in memory.
const maxPasswordChecks = 4

// NewAuth returns the sign-in handler.
func NewAuth(s *store.Store, p *policy.Policy, sessions Sessions, m *metrics.Set, log *slog.Logger) *Auth {
	return &Auth{store: s, policy: p, sessions: sessions, metrics: m, log: log,
		limiter: newLoginLimiter(s.Now), checks: make(checkGate, maxPasswordChecks)}
}

// LoginPage is GET /login.
func (h *Auth) LoginPage(c echo.Context) error {
	if _, ok := policy.FromContext(c.Request().Context()); ok {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return Render(c, http.StatusOK, views.Login(views.LoginPage{
		Base: views.Base{Title: "Sign in", CSRF: CSRFToken(c)}, Next: safeNext(c.QueryParam("next")),
	}))
}

// Login is POST /login. The attempt is counted before the password is
// checked, and only a few checks run at once.
func (h *Auth) Login(c echo.Context) error {
	name, password := c.FormValue("username"), c.FormValue("password")
	page := views.LoginPage{Base: views.Base{Title: "Sign in", CSRF: CSRFToken(c)}, Username: name, Next: safeNext(c.FormValue("next"))}
	addr := clientKey(c.RealIP())
	if wait := h.limiter.reserve(name, addr); wait > 0 {
		logx.For(c.Request().Context(), h.log).Info("sign-in throttled", "user", name, "ip", c.RealIP())
		h.metrics.Refused(metrics.LimitLoginThrottle)
		page.Error = fmt.Sprintf("Too many failed sign-ins. Try again in %s.", waitText(wait))
		return tooMany(c, wait, page)
	}
	if !h.checks.enter() {
		h.limiter.refund(name, addr)
		h.metrics.Refused(metrics.LimitLoginBusy)
		page.Error = "The server is busy signing others in. Try again in a moment."
		return tooMany(c, time.Second, page)
	}
	err := h.check(c.Request().Context(), name, password)
	h.checks.leave()
	if err != nil {
		logx.For(c.Request().Context(), h.log).Info("sign-in failed", "user", name, "ip", c.RealIP())
		h.metrics.LoginFailed()
		page.Error = "Wrong user name or password."
		return Render(c, http.StatusUnauthorized, views.Login(page))
	}
	h.limiter.succeed(name, addr)
	if err := h.sessions.SignIn(c, name); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, page.Next)
}

// tooMany answers 429 with Retry-After in whole seconds.
func tooMany(c echo.Context, wait time.Duration, page views.LoginPage) error {
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	return Render(c, http.StatusTooManyRequests, views.Login(page))
}

// waitText says a wait in the unit a person reads.
func waitText(wait time.Duration) string {
	if wait < time.Minute {
		return fmt.Sprintf("%d seconds", int(math.Ceil(wait.Seconds())))
	}
	if m := int(math.Ceil(wait.Minutes())); m > 1 {
		return fmt.Sprintf("%d minutes", m)
	}
	return "a minute"
}

func (h *Auth) check(ctx context.Context, name, password string) error {
	u, err := store.FindUser(ctx, h.store.DB(), name)
	if err != nil {
		// Spend the same time as a real check so names cannot be probed.
		secrets.VerifyPassword(dummyHash, password)
		return err
	}
	if !secrets.VerifyPassword(u.PasswordHash, password) {
		return store.Errorf(store.EUnauthorized, "wrong password")
	}
	return nil
}

var dummyHash, _ = secrets.HashPassword("easel-dummy-password")

// Logout is POST /logout.
func (h *Auth) Logout(c echo.Context) error {
	if err := h.sessions.SignOut(c); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/login")
}

// safeNext keeps redirects after sign-in on this site: only a path that
// starts with a single "/" and has no scheme, host, backslash or control
// character (browsers drop tabs and newlines, so "/\t/evil.example" would
// become "//evil.example"); anything else is "/".
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsRune(next, '\\') ||
		!utf8.ValidString(next) || strings.ContainsFunc(next, unicode.IsControl) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return "/"
	}
	return next
}
