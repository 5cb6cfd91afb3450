package web

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"easel/policy"
	"easel/store"
)

// addPage registers a console route: session → CSRF → sign-in → guard
// (the body limit and the security headers apply to every console route).
func (s *Server) addPage(r pageRoute) {
	s.guards[r.method+" "+r.path] = r.guard
	chain := []echo.MiddlewareFunc{s.loadSession, s.csrf}
	if !r.guard.IsPublic() {
		chain = append(chain, requireSignIn, s.guard(r.guard))
	}
	s.Echo.Add(r.method, r.path, r.handler, chain...)
}

// loadSession puts the signed-in user, if any, on the request context.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, err := s.sessions.Get(c.Request(), sessionCookie)
		if err != nil {
			return err
		}
		name, _ := sess.Values[sessionUser].(string)
		if name != "" && s.deps.Policy.UserExists(name) {
			c.SetRequest(c.Request().WithContext(policy.NewContext(c.Request().Context(), policy.User(name))))
			c.Set("user", name)
			c.Set("session_id", sess.ID)
		}
		return next(c)
	}
}

// requireSignIn sends visitors without a session to the login page.
func requireSignIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, ok := policy.FromContext(c.Request().Context()); !ok {
			return errSignIn
		}
		return next(c)
	}
}

var errSignIn = store.Errorf(store.EUnauthorized, "Please sign in.")

func loginURL(c echo.Context) string {
	next := c.Request().URL.RequestURI()
	if c.Request().Method != http.MethodGet || c.Request().Header.Get("HX-Request") == "true" {
		next = "/"
	}
	return "/login?next=" + url.QueryEscape(next)
}
