// Package netguard makes outbound HTTP requests to user-supplied URLs safe
// against server-side request forgery (SSRF).
//
// A Policy checks URLs up front (CheckURL) for fast, readable errors, and
// builds an http.Client (Client) whose dialer checks the IP address actually
// being connected to. Because the check happens at connect time, it covers
// hostnames, DNS rebinding and every redirect hop alike.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// AllowPrivateEnv names the environment variable that operators set to allow
// imports from private addresses. netguard does not read it; it only names it
// in error messages so users know how to opt in.
const AllowPrivateEnv = "EASEL_ALLOW_PRIVATE_URLS"

// DefaultMaxRedirects is the redirect limit used when Policy.MaxRedirects is 0.
const DefaultMaxRedirects = 5

// Timeouts applied by Policy.Client.
const (
	DialTimeout           = 10 * time.Second
	TLSHandshakeTimeout   = 10 * time.Second
	ResponseHeaderTimeout = 30 * time.Second
)

var (
	// ErrBlocked is matched (via errors.Is) by every error reporting that a
	// Policy refused a URL, scheme or address, as opposed to a network failure.
	ErrBlocked = errors.New("destination not allowed by network policy")

	// ErrTooManyRedirects is wrapped by the error returned when a request
	// exceeds the policy's redirect limit.
	ErrTooManyRedirects = errors.New("too many redirects")
)

// BlockedError is a policy refusal. Its message is a complete sentence meant
// for users, without the "Get ...: dial tcp ...:" prefixes net/http adds; use
// errors.As to extract it. errors.Is(err, ErrBlocked) matches it.
type BlockedError struct {
	Msg string
}

func (e *BlockedError) Error() string        { return e.Msg }
func (e *BlockedError) Is(target error) bool { return target == ErrBlocked }

func blocked(format string, args ...any) error {
	return &BlockedError{Msg: fmt.Sprintf(format, args...)}
}

// Policy decides which destinations outbound requests may reach.
// The zero value blocks non-public addresses and follows up to
// DefaultMaxRedirects redirects.
type Policy struct {
	// AllowPrivate disables the address checks, allowing loopback, private,
	// link-local and other non-public destinations. Scheme and redirect
	// checks still apply.
	AllowPrivate bool
	// MaxRedirects is the number of redirects followed. 0 means
	// DefaultMaxRedirects; a negative value follows none.
	MaxRedirects int
}

func (p Policy) maxRedirects() int {
	switch {
	case p.MaxRedirects == 0:
		return DefaultMaxRedirects
	case p.MaxRedirects < 0:
		return 0
	}
	return p.MaxRedirects
}

var (
	metadataV4   = netip.MustParseAddr("169.254.169.254")
	metadataV6   = netip.MustParseAddr("fd00:ec2::254")
	cgnat        = netip.MustParsePrefix("100.64.0.0/10")
	thisNetwork  = netip.MustParsePrefix("0.0.0.0/8")
	ietfProtocol = netip.MustParsePrefix("192.0.0.0/24")
	benchmarking = netip.MustParsePrefix("198.18.0.0/15")
	reservedV4   = netip.MustParsePrefix("240.0.0.0/4") // includes 255.255.255.255
	siteLocalV6  = netip.MustParsePrefix("fec0::/10")
	// IPv4-compatible (deprecated by RFC 4291; :: and ::1 are classified
	// first) and IPv4-translated (RFC 2765) addresses are never used by
	// real servers, and some stacks route them to the IPv4 address they
	// carry.
	v4Compatible  = netip.MustParsePrefix("::/96")
	v4Translated  = netip.MustParsePrefix("::ffff:0:0:0/96")
	nat64         = netip.MustParsePrefix("64:ff9b::/96")
	nat64LocalUse = netip.MustParsePrefix("64:ff9b:1::/48") // RFC 8215: a network's own translators
	sixToFour     = netip.MustParsePrefix("2002::/16")
	// Teredo (RFC 4380) addresses belong to clients tunnelling through NAT,
	// never to servers one downloads from, and carry two IPv4 addresses
	// (server and obfuscated client) a relay would reach: the whole prefix
	// is refused rather than decoded.
	teredo = netip.MustParsePrefix("2001::/32")
)

// classify returns why addr is not a public unicast address (a noun phrase
// such as "a loopback address"), or "" if it is allowed.
func classify(addr netip.Addr) string {
	addr = addr.WithZone("").Unmap()
	switch {
	case !addr.IsValid():
		return "not a valid IP address"
	case addr == metadataV4 || addr == metadataV6:
		return "the cloud metadata address"
	case addr.IsUnspecified():
		return "an unspecified address"
	case addr.IsLoopback():
		return "a loopback address"
	case addr.IsPrivate():
		return "a private network address"
	case addr.IsLinkLocalUnicast():
		return "a link-local address"
	case addr.IsMulticast():
		return "a multicast address"
	case cgnat.Contains(addr):
		return "a carrier-grade NAT (shared) address"
	case thisNetwork.Contains(addr), ietfProtocol.Contains(addr), reservedV4.Contains(addr), siteLocalV6.Contains(addr):
		return "a reserved address"
	case benchmarking.Contains(addr):
		return "a benchmarking address"
	case v4Compatible.Contains(addr):
		return "an IPv4-compatible address"
	case v4Translated.Contains(addr):
		return "an IPv4-translated address"
	case nat64LocalUse.Contains(addr):
		return "a local-use NAT64 address"
	case teredo.Contains(addr):
		return "a Teredo tunnelling address"
	case nat64.Contains(addr):
		return embedded(addr, 12, "NAT64")
	case sixToFour.Contains(addr):
		return embedded(addr, 2, "6to4")
	}
	return ""
}

// embedded classifies the IPv4 address that a translation or tunnelling
// address carries at byte offset at.
func embedded(addr netip.Addr, at int, via string) string {
	b := addr.As16()
	if r := classify(netip.AddrFrom4([4]byte(b[at : at+4]))); r != "" {
		return r + " (via " + via + ")"
	}
	return ""
}

// CheckAddr reports whether the policy allows connecting to addr. IPv4-mapped,
// NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses are judged by the IPv4
// address they carry. The error, if any, matches ErrBlocked.
func (p Policy) CheckAddr(addr netip.Addr) error {
	if p.AllowPrivate {
		return nil
	}
	if reason := classify(addr); reason != "" {
		return blocked("address %s is %s; importing from it is not allowed (set %s=1 to allow)",
			addr, reason, AllowPrivateEnv)
	}
	return nil
}

// CheckURL parses raw and validates it without any network access: the scheme
// must be http or https, a host must be present, and a literal IP host must
// pass CheckAddr. Hostnames are checked later, when connecting. User info is
// accepted but never included in returned errors. Policy refusals match
// ErrBlocked.
func (p Policy) CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error repeats the raw URL, which may hold credentials.
		}
		return nil, fmt.Errorf("invalid URL: %v", err)
	}
	if err := p.checkURL(u); err != nil {
		return nil, err
	}
	return u, nil
}

func (p Policy) checkURL(u *url.URL) error {
	switch u.Scheme {
	case "http", "https":
	case "":
		return blocked("URL has no scheme: only http and https URLs can be imported")
	default:
		return blocked("unsupported URL scheme %q: only http and https URLs can be imported", u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return errors.New("invalid URL: it has no host")
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		return p.CheckAddr(addr)
	}
	return nil
}

// checkDial runs just before each connect(2) to host (as in the URL) with
// the resolved "ip:port". When host is a name, the refusal names the host
// but not the address it resolved to: users must not learn the addresses
// of internal names.
func (p Policy) checkDial(host, address string) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return blocked("the address of host %s cannot be checked", host)
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return p.CheckAddr(ap.Addr())
	}
	if reason := classify(ap.Addr()); reason != "" {
		return blocked("the address of host %s is %s; importing from it is not allowed (set %s=1 to allow)",
			host, reason, AllowPrivateEnv)
	}
	return nil
}

// checkRedirect limits the number of hops and checks each hop's URL.
func (p Policy) checkRedirect(req *http.Request, via []*http.Request) error {
	if n := p.maxRedirects(); len(via) > n {
		return fmt.Errorf("%w (limit %d)", ErrTooManyRedirects, n)
	}
	if err := p.checkURL(req.URL); err != nil {
		return fmt.Errorf("redirect refused: %w", err)
	}
	return nil
}

// Client returns an http.Client enforcing the policy on every connection and
// redirect. timeout bounds each whole request including reading the body;
// 0 means no overall limit, suitable for very large downloads (pass a
// context to cancel those). Dialing, TLS handshakes and waiting for response
// headers have their own fixed timeouts. Environment proxy settings are
// ignored, since a proxy would connect on our behalf unchecked.
func (p Policy) Client(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}
	dial := dialer.DialContext
	if !p.AllowPrivate {
		dial = func(ctx context.Context, network, address string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return nil, err
			}
			d := *dialer
			d.Control = func(_, resolved string, _ syscall.RawConn) error { return p.checkDial(host, resolved) }
			return d.DialContext(ctx, network, address)
		}
	}
	return &http.Client{
		Timeout:       timeout,
		CheckRedirect: p.checkRedirect,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dial,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   TLSHandshakeTimeout,
			ResponseHeaderTimeout: ResponseHeaderTimeout,
			ExpectContinueTimeout: 1 * time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConns:          10,
		},
	}
}
