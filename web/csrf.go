package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"
)

// csrfCookie holds the CSRF token of a visitor who has not signed in (the
// login form); a signed-in session keeps its token server-side.
const csrfCookie = "easel_csrf"

var errCSRF = echo.NewHTTPError(http.StatusForbidden,
	"This form has expired or was sent from another site. Reload the page and try again.")

// csrf checks the token on every unsafe console request (forms send
// _csrf, htmx and upload.js send X-CSRF-Token) and exposes it to templates
// as "csrf". The token is the session's, so one session's token is
// worthless in another, and a sign-in replaces it.
func (s *Server) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		want, err := s.csrfToken(c)
		if err != nil {
			return err
		}
		c.Set("csrf", want)
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
			return next(c)
		}
		// A browser says when another site sent the request: no token
		// makes that right.
		if c.Request().Header.Get("Sec-Fetch-Site") == "cross-site" {
			return errCSRF
		}
		got, err := sentCSRFToken(c.Request())
		if err != nil {
			return err
		}
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			return errCSRF
		}
		return next(c)
	}
}

// csrfToken returns the request's token: the session's when signed in,
// else the csrfCookie's (set when missing).
func (s *Server) csrfToken(c echo.Context) (string, error) {
	sess, err := s.sessions.Get(c.Request(), sessionCookie)
	if err != nil {
		return "", err
	}
	if !sess.IsNew {
		if token, _ := sess.Values[sessionCSRF].(string); token != "" {
			return token, nil
		}
		// A session from before tokens lived in sessions gets one now.
		token, err := newCSRFToken()
		if err != nil {
			return "", err
		}
		sess.Values[sessionCSRF] = token
		sess.Options.Secure = c.Scheme() == "https"
		return token, s.sessions.Save(c.Request(), c.Response(), sess)
	}
	if cookie, err := c.Cookie(csrfCookie); err == nil && len(cookie.Value) == csrfTokenLen {
		return cookie.Value, nil
	}
	token, err := newCSRFToken()
	if err != nil {
		return "", err
	}
	c.SetCookie(&http.Cookie{Name: csrfCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: c.Scheme() == "https", SameSite: http.SameSiteStrictMode})
	return token, nil
}

// csrfTokenLen is the length of an encoded token (32 random bytes).
var csrfTokenLen = base64.RawURLEncoding.EncodedLen(32)

func newCSRFToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("csrf token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// sentCSRFToken returns the token a request carries: the X-CSRF-Token
// header, else the _csrf field of a form body. A form body is parsed here
// either way, so one over the limit is refused (413) before any handler
// sees part of it; it is already bounded (limitConsoleBody), so parsing
// reads at most that much and spools nothing to disk.
func sentCSRFToken(r *http.Request) (string, error) {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	switch mediaType {
	case "application/x-www-form-urlencoded":
		err = r.ParseForm()
	case "multipart/form-data":
		err = r.ParseMultipartForm(consoleBodyLimit)
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return "", errBodyTooLarge
	case err != nil:
		return "", echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	if token := r.Header.Get("X-CSRF-Token"); token != "" {
		return token, nil
	}
	if r.PostForm == nil {
		return "", nil
	}
	return r.PostForm.Get("_csrf"), nil
}
