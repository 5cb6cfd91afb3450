package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"easel/blob"
)

// consoleHeaders sends the console's security headers on every page,
// partial and static file; the API keeps ESD's headers.
func (s *Server) consoleHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !s.isAPI(c.Request().URL.Path) {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", s.csp)
			h.Set("X-Frame-Options", "DENY")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "same-origin")
		}
		return next(c)
	}
}

// contentSecurityPolicy allows scripts and styles from this site only (no
// inline script, style or handler), and images and uploads from the object
// store too: the gallery shows presigned image URLs and upload.js PUTs
// model parts to presigned URLs. When no URL can be signed, the store is
// left out and only this site is allowed.
func contentSecurityPolicy(b *blob.Client, log *slog.Logger) string {
	store := ""
	if b != nil {
		signed, err := b.PresignGet(context.Background(), "csp-probe", time.Minute)
		u, perr := url.Parse(signed)
		switch {
		case err != nil:
			log.Warn("content security policy: cannot sign a store URL; store images are blocked", "error", err)
		case perr != nil || u.Host == "":
			log.Warn("content security policy: unexpected store URL", "url", signed)
		default:
			store = " " + u.Scheme + "://" + u.Host
		}
	}
	return fmt.Sprintf("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:%s; "+
		"connect-src 'self'%s; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'", store, store)
}
