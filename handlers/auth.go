package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

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
	log      *slog.Logger
}

// Login attempts: at most loginMaxFailures failures per client address or
// user name within loginWindow.
const (
	loginMaxFailures = 10
	loginWindow      = 15 * time.Minute
)

// NewAuth returns the sign-in handler.
func NewAuth(s *store.Store, p *policy.Policy, sessions Sessions, log *slog.Logger) *Auth {
	return &Auth{store: s, policy: p, sessions: sessions, log: log,
		limiter: newLoginLimiter(loginMaxFailures, loginWindow, s.Now)}
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

// Login is POST /login.
func (h *Auth) Login(c echo.Context) error {
	name, password := c.FormValue("username"), c.FormValue("password")
	page := views.LoginPage{Base: views.Base{Title: "Sign in", CSRF: CSRFToken(c)}, Username: name, Next: safeNext(c.FormValue("next"))}
	keys := []string{"ip:" + c.RealIP(), "user:" + name}
	if wait := h.limiter.blocked(keys...); wait > 0 {
		page.Error = fmt.Sprintf("Too many failed sign-ins. Try again in %d minutes.", int(math.Ceil(wait.Minutes())))
		return Render(c, http.StatusTooManyRequests, views.Login(page))
	}
	if err := h.check(c.Request().Context(), name, password); err != nil {
		h.limiter.fail(keys...)
		h.log.Info("sign-in failed", "user", name, "ip", c.RealIP())
		page.Error = "Wrong user name or password."
		return Render(c, http.StatusUnauthorized, views.Login(page))
	}
	h.limiter.succeed(keys...)
	if err := h.sessions.SignIn(c, name); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, page.Next)
}

func (h *Auth) check(ctx context.Context, name, password string) error {
	u, err := h.store.FindUser(ctx, name)
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

// safeNext keeps redirects after sign-in on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}
