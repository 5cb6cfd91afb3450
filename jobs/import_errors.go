package jobs

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"

	"easel/netguard"
)

// permanent marks an import failure that retrying cannot fix; its message
// is written for users.
type permanent struct{ msg string }

func (p permanent) Error() string { return p.msg }

// retryable is an import failure worth retrying whose message is written
// for users.
type retryable struct{ msg string }

func (r retryable) Error() string { return r.msg }

// sourceError is a failure talking to host, the host of the source URL or
// of the redirect hop that failed.
type sourceError struct {
	host string
	err  error
}

func (e sourceError) Error() string { return e.err.Error() }
func (e sourceError) Unwrap() error { return e.err }

// fromSource marks err, from fetching raw, as the source host's failure.
func fromSource(err error, raw string) error {
	host := hostOf(raw)
	var uerr *url.Error
	if errors.As(err, &uerr) {
		if h := hostOf(uerr.URL); h != "" {
			host = h
		}
	}
	return sourceError{host: host, err: err}
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// isPermanent reports whether retrying the import cannot help: the user's
// message says why, the policy refused the destination, it redirects
// without end or its name does not exist.
func isPermanent(err error) bool {
	var (
		perm permanent
		dns  *net.DNSError
	)
	return errors.As(err, &perm) || errors.Is(err, netguard.ErrBlocked) ||
		errors.Is(err, netguard.ErrTooManyRedirects) || (errors.As(err, &dns) && dns.IsNotFound)
}

// importMessage returns the sentence stored on a checkpoint whose import
// failed with err, the only text of an import failure users see. Network
// failures are described by the host the URL names, never by the Go error's
// text, which carries the addresses a name resolved to, our own address and
// the DNS server's: users must not learn those. The log has the whole error.
func importMessage(err error) string {
	var (
		perm    permanent
		retry   retryable
		blocked *netguard.BlockedError
		src     sourceError
	)
	switch {
	case errors.As(err, &perm):
		return perm.msg
	case errors.As(err, &retry):
		return retry.msg
	case errors.As(err, &blocked):
		return blocked.Error()
	case errors.As(err, &src):
		return src.message()
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("the download did not finish within %s", importTimeout)
	}
	return "the import failed because of an internal error; the server log has the details"
}

func (e sourceError) message() string {
	var (
		dns  *net.DNSError
		cert *tls.CertificateVerificationError
		uerr *url.Error
		nerr net.Error
	)
	switch {
	case errors.Is(e.err, netguard.ErrTooManyRedirects) && errors.As(e.err, &uerr):
		return uerr.Err.Error() // "too many redirects (limit N)"
	case errors.As(e.err, &dns) && dns.IsNotFound:
		return fmt.Sprintf("host %s could not be resolved", e.host)
	case errors.As(e.err, &dns):
		return fmt.Sprintf("host %s could not be resolved: the DNS lookup failed", e.host)
	case errors.As(e.err, &cert):
		return fmt.Sprintf("the TLS certificate of host %s could not be verified", e.host)
	case errors.As(e.err, &nerr) && nerr.Timeout():
		return fmt.Sprintf("the connection to host %s timed out", e.host)
	case errors.Is(e.err, syscall.ECONNREFUSED):
		return fmt.Sprintf("host %s refused the connection", e.host)
	case errors.Is(e.err, syscall.ECONNRESET), errors.Is(e.err, io.ErrUnexpectedEOF), errors.Is(e.err, io.EOF):
		return fmt.Sprintf("the connection to host %s broke off", e.host)
	}
	return fmt.Sprintf("the download from host %s failed", e.host)
}
