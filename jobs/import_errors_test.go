package jobs

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"easel/netguard"
)

// TestImportMessage checks the stored import error names the host of the
// URL but never the addresses in Go's network errors: the resolved
// address, our own, the DNS server's.
func TestImportMessage(t *testing.T) {
	const src = "https://models.example.com/a.safetensors"
	get := func(err error) error {
		return fmt.Errorf("download: %w", fromSource(&url.Error{Op: "Get", URL: src, Err: err}, src))
	}
	internal := &net.TCPAddr{IP: net.ParseIP("10.0.0.5"), Port: 80}
	local := &net.TCPAddr{IP: net.ParseIP("10.9.8.7"), Port: 41234}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"unknown host", get(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{
			Err: "no such host", Name: "models.example.com", Server: "10.255.255.53:53", IsNotFound: true}}),
			"host models.example.com could not be resolved"},
		{"dns failure", get(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{
			Err: "server misbehaving", Name: "models.example.com", Server: "127.0.0.53:53", IsTemporary: true}}),
			"host models.example.com could not be resolved: the DNS lookup failed"},
		{"refused", get(&net.OpError{Op: "dial", Net: "tcp", Addr: internal,
			Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}),
			"host models.example.com refused the connection"},
		{"dial timeout", get(&net.OpError{Op: "dial", Net: "tcp", Addr: internal, Err: timeoutError{}}),
			"the connection to host models.example.com timed out"},
		{"reset mid-body", fmt.Errorf("upload x: read: %w", fromSource(&net.OpError{Op: "read", Net: "tcp",
			Source: local, Addr: internal, Err: os.NewSyscallError("read", syscall.ECONNRESET)}, src)),
			"the connection to host models.example.com broke off"},
		{"redirect hop", fromSource(&url.Error{Op: "Get", URL: "http://cdn.example.net/x", Err: &net.OpError{
			Op: "dial", Net: "tcp", Addr: internal, Err: errors.New("connect: no route to host")}}, src),
			"the download from host cdn.example.net failed"},
		{"blocked name", get(&net.OpError{Op: "dial", Net: "tcp", Addr: internal,
			Err: &netguard.BlockedError{Msg: "the address of host intranet is a private network address"}}),
			"the address of host intranet is a private network address"},
		{"storage", fmt.Errorf("upload x: %w", &net.OpError{Op: "dial", Net: "tcp", Addr: internal,
			Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}),
			"the import failed because of an internal error; the server log has the details"},
		{"server error", retryable{"the server answered 503 Service Unavailable"}, "the server answered 503 Service Unavailable"},
		{"unexpected EOF", fmt.Errorf("upload x: read: %w", fromSource(io.ErrUnexpectedEOF, src)),
			"the connection to host models.example.com broke off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := importMessage(tt.err)
			if got != tt.want {
				t.Errorf("importMessage(%q) = %q, want %q", tt.err, got, tt.want)
			}
			for _, addr := range []string{"10.0.0.5", "10.9.8.7", "10.255.255.53", "127.0.0.53", ":53"} {
				if strings.Contains(got, addr) {
					t.Errorf("importMessage(%q) = %q, shows %s", tt.err, got, addr)
				}
			}
		})
	}
}

func TestIsPermanent(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"unknown host", fromSource(&net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}, "http://x/"), true},
		{"dns failure", fromSource(&net.DNSError{Err: "timeout", Name: "x", IsTimeout: true}, "http://x/"), false},
		{"blocked", fromSource(&netguard.BlockedError{Msg: "no"}, "http://x/"), true},
		{"redirects", fromSource(fmt.Errorf("%w (limit 5)", netguard.ErrTooManyRedirects), "http://x/"), true},
		{"404", permanent{"the server answered 404 Not Found"}, true},
		{"503", retryable{"the server answered 503 Service Unavailable"}, false},
		{"reset", fromSource(syscall.ECONNRESET, "http://x/"), false},
	} {
		if got := isPermanent(tt.err); got != tt.want {
			t.Errorf("%s: isPermanent(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
