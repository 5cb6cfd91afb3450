package web

import (
	"net"

	"github.com/labstack/echo/v4"
)

// clientExtractors decide a request's client address and scheme, so the
// sign-in throttle, the logs and the Secure cookie flag agree. With no
// trusted proxies the peer is the client: anyone can write X-Forwarded-For,
// and echo's default scheme rule stands. Otherwise X-Forwarded-For and
// X-Forwarded-Proto are believed exactly from those networks.
func clientExtractors(trusted []*net.IPNet) (echo.IPExtractor, echo.SchemeExtractor) {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect(), nil
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...), echo.ExtractSchemeFromHeaders(opts...)
}
