package netguard_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"easel/netguard"
)

// TestCheckAddr only classifies literal addresses; nothing is dialed.
func TestCheckAddr(t *testing.T) {
	tests := []struct {
		addr   string
		reason string // substring of the error; "" means allowed
	}{
		// Loopback.
		{"127.0.0.1", "loopback"},
		{"127.255.1.2", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		// Private.
		{"10.0.0.5", "private network"},
		{"172.16.0.1", "private network"},
		{"172.31.255.255", "private network"},
		{"192.168.1.1", "private network"},
		{"fc00::1", "private network"},
		{"fd12:3456::1", "private network"},
		{"::ffff:10.0.0.5", "private network"},
		{"::ffff:192.168.0.1", "private network"},
		// Link-local and cloud metadata.
		{"169.254.1.1", "link-local"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"169.254.169.254", "cloud metadata"},
		{"::ffff:169.254.169.254", "cloud metadata"},
		{"fd00:ec2::254", "cloud metadata"},
		// Unspecified.
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"::ffff:0.0.0.0", "unspecified"},
		// Multicast.
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"ff02::1", "multicast"},
		{"::ffff:224.0.0.251", "multicast"},
		// CGNAT.
		{"100.64.1.1", "carrier-grade NAT"},
		{"100.127.255.254", "carrier-grade NAT"},
		{"::ffff:100.64.1.1", "carrier-grade NAT"},
		// Reserved.
		{"0.1.2.3", "reserved"},
		{"255.255.255.255", "reserved"},
		{"240.0.0.1", "reserved"},
		{"fec0::1", "reserved"},
		// Benchmarking (198.18.0.0/15) and IETF protocol assignments (192.0.0.0/24).
		{"198.18.0.1", "benchmarking"},
		{"198.19.255.254", "benchmarking"},
		{"::ffff:198.18.0.1", "benchmarking"},
		{"192.0.0.8", "reserved"},
		{"192.0.0.170", "reserved"},
		// IPv4-compatible (::/96) and IPv4-translated (::ffff:0:0:0/96): refused whole.
		{"::10.0.0.5", "IPv4-compatible"},
		{"::127.0.0.1", "IPv4-compatible"},
		{"::8.8.8.8", "IPv4-compatible"},
		{"::ffff:0:127.0.0.1", "IPv4-translated"},
		{"::ffff:0:8.8.8.8", "IPv4-translated"},
		// NAT64 embedding of a blocked IPv4 address in the last 32 bits.
		{"64:ff9b::a9fe:a9fe", "cloud metadata address (via NAT64)"},
		{"64:ff9b::7f00:1", "loopback"},
		{"64:ff9b::10.0.0.5", "private network address (via NAT64)"},
		{"64:ff9b::198.18.0.1", "benchmarking address (via NAT64)"},
		// Local-use NAT64 (RFC 8215): refused whole.
		{"64:ff9b:1::808:808", "local-use NAT64"},
		// 6to4 embedding of a blocked IPv4 address in bits 16-48.
		{"2002:7f00:1::1", "loopback address (via 6to4)"},
		{"2002:a00:5::", "private network address (via 6to4)"},
		{"2002:c0a8:101::1", "private network address (via 6to4)"},
		{"2002:a9fe:a9fe::1", "cloud metadata address (via 6to4)"},
		{"2002:6440:101::1", "carrier-grade NAT (shared) address (via 6to4)"},
		{"2002:c612:1::1", "benchmarking address (via 6to4)"},
		{"2002::1", "unspecified address (via 6to4)"},
		// Teredo (2001::/32): refused whole, whatever the IPv4 addresses it carries.
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"}, // RFC 4380's example: public server and client
		{"2001:0:a00:5::1", "Teredo"},                      // server 10.0.0.5
		{"2001:0:808:808:0:0:f5ff:fffa", "Teredo"},         // client 10.0.0.5 (obfuscated)
		// Public: allowed (only classified, never contacted).
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"172.32.0.1", ""},
		{"100.128.0.1", ""},
		{"169.253.255.255", ""},
		{"2001:4860:4860::8888", ""},
		{"2606:4700:4700::1111", ""},
		{"::ffff:8.8.8.8", ""},
		{"64:ff9b::808:808", ""},
		{"2002:808:808::1", ""},      // 6to4 of 8.8.8.8
		{"2002:101:101:1::1", ""},    // 6to4 of 1.1.1.1
		{"198.17.255.255", ""},       // just below 198.18.0.0/15
		{"198.20.0.1", ""},           // just above it
		{"192.0.1.1", ""},            // just above 192.0.0.0/24
		{"2001:200::1", ""},          // just above 2001::/32 (Teredo)
		{"2001:4860:4860::8844", ""}, // a public address sharing Teredo's first 16 bits
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			addr := netip.MustParseAddr(tt.addr)
			err := netguard.Policy{}.CheckAddr(addr)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("CheckAddr(%s) = %v, want allowed", tt.addr, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckAddr(%s) = nil, want refusal (%s)", tt.addr, tt.reason)
			}
			if !errors.Is(err, netguard.ErrBlocked) {
				t.Errorf("errors.Is(%v, ErrBlocked) = false", err)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.reason) || !strings.Contains(msg, netguard.AllowPrivateEnv+"=1") {
				t.Errorf("CheckAddr(%s) error %q, want it to mention %q and %s", tt.addr, msg, tt.reason, netguard.AllowPrivateEnv)
			}
			if err := (netguard.Policy{AllowPrivate: true}).CheckAddr(addr); err != nil {
				t.Errorf("AllowPrivate: CheckAddr(%s) = %v, want nil", tt.addr, err)
			}
		})
	}
}

func TestCheckAddrMessage(t *testing.T) {
	err := netguard.Policy{}.CheckAddr(netip.MustParseAddr("10.0.0.5"))
	want := "address 10.0.0.5 is a private network address; importing from it is not allowed (set EASEL_ALLOW_PRIVATE_URLS=1 to allow)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}

// TestCheckURL does no network access: hostnames are not resolved.
func TestCheckURL(t *testing.T) {
	bad := []struct{ url, want string }{
		{"ftp://example.com/model.safetensors", "only http and https"},
		{"file:///etc/passwd", "only http and https"},
		{"gopher://example.com/", "only http and https"},
		{"javascript:alert(1)", "only http and https"},
		{"example.com/model.safetensors", "no scheme"},
		{"http://169.254.169.254/latest/meta-data", "cloud metadata"},
		{"http://[::1]/", "loopback"},
		{"http://[::ffff:127.0.0.1]:8080/", "loopback"},
		{"http://0.0.0.0/", "unspecified"},
		{"http://10.1.2.3:9000/bucket/x", "private network"},
		{"https://100.64.1.1/", "carrier-grade NAT"},
		{"http://[fe80::1%25eth0]/", "link-local"},
	}
	for _, tt := range bad {
		_, err := netguard.Policy{}.CheckURL(tt.url)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CheckURL(%q) = %v, want error containing %q", tt.url, err, tt.want)
		} else if !errors.Is(err, netguard.ErrBlocked) {
			t.Errorf("CheckURL(%q): errors.Is(%v, ErrBlocked) = false", tt.url, err)
		}
	}

	for _, raw := range []string{"http:///path", "http:opaque", "http://[::1", "http://host:port/"} {
		if _, err := (netguard.Policy{}).CheckURL(raw); err == nil {
			t.Errorf("CheckURL(%q) = nil error, want invalid URL", raw)
		}
	}

	good := []string{
		"https://example.com/model.safetensors",
		"HTTPS://Example.COM:8443/a/b.ckpt?x=1",
		"http://8.8.8.8/model.ckpt",
		"http://[2001:4860:4860::8888]:81/x",
		"https://user:secret@example.com/model.safetensors",
		"http://localhost/x", // hostnames are checked at dial time
	}
	for _, raw := range good {
		u, err := netguard.Policy{}.CheckURL(raw)
		if err != nil || u == nil {
			t.Errorf("CheckURL(%q) = %v, %v; want accepted", raw, u, err)
		}
	}

	// Private literals pass when allowed; schemes never do.
	p := netguard.Policy{AllowPrivate: true}
	if _, err := p.CheckURL("http://127.0.0.1:8080/x"); err != nil {
		t.Errorf("AllowPrivate: CheckURL loopback = %v", err)
	}
	if _, err := p.CheckURL("file:///etc/passwd"); err == nil {
		t.Error("AllowPrivate: CheckURL file:// accepted")
	}
}

func TestCheckURLHidesCredentials(t *testing.T) {
	for _, raw := range []string{
		"ftp://alice:hunter2@example.com/x",
		"http://alice:hunter2@169.254.169.254/",
		"http://alice:hunter2@example.com:port/",
	} {
		_, err := netguard.Policy{}.CheckURL(raw)
		if err == nil {
			t.Fatalf("CheckURL(%q) accepted", raw)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("CheckURL(%q) error leaks password: %v", raw, err)
		}
	}
}
