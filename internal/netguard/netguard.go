// Package netguard is the one HTTP client for user-given URLs. It refuses
// internal addresses at dial time — after DNS resolution, so a public name that
// resolves (or rebinds) to a private address is refused too — caps response
// sizes and bounds every call with timeouts.
package netguard

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// ErrBlocked is returned (wrapped) when a destination is not allowed.
var ErrBlocked = errors.New("destination address is not allowed")

// ErrTooLarge is returned by a response body that passes the size cap.
var ErrTooLarge = errors.New("response body exceeds the size cap")

// deniedPrefixes are ranges no user-given URL may reach by default.
var deniedPrefixes = mustPrefixes(
	"0.0.0.0/8",       // "this" network
	"10.0.0.0/8",      // private
	"100.64.0.0/10",   // CGNAT
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local, cloud metadata
	"172.16.0.0/12",   // private
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // documentation
	"192.88.99.0/24",  // 6to4 relay anycast
	"192.168.0.0/16",  // private
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // documentation
	"203.0.113.0/24",  // documentation
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, broadcast
	"::/128",          // unspecified
	"::1/128",         // loopback
	"100::/64",        // discard
	"2001:db8::/32",   // documentation
	"fc00::/7",        // unique local
	"fe80::/10",       // link-local
	"fec0::/10",       // site-local (deprecated)
	"ff00::/8",        // multicast
)

// Prefixes that embed an IPv4 address; the embedded address is checked too.
var (
	nat64Prefix  = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour    = netip.MustParsePrefix("2002::/16")
	teredoPrefix = netip.MustParsePrefix("2001::/32")
)

func mustPrefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// Policy decides which addresses may be dialled.
type Policy struct {
	// Allow opens ranges or host names on purpose (an admin's private API, a
	// test's local receiver). Host names match exactly, case-insensitively.
	AllowPrefixes []netip.Prefix
	AllowHosts    []string
}

// ParseAllowList parses a comma-separated list of CIDRs, IPs and host names.
func ParseAllowList(s string) (Policy, error) {
	var p Policy
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if pfx, err := netip.ParsePrefix(item); err == nil {
			p.AllowPrefixes = append(p.AllowPrefixes, pfx.Masked())
			continue
		}
		if addr, err := netip.ParseAddr(item); err == nil {
			p.AllowPrefixes = append(p.AllowPrefixes, netip.PrefixFrom(addr, addr.BitLen()))
			continue
		}
		if strings.ContainsAny(item, "/: ") {
			return Policy{}, fmt.Errorf("allow list entry %q is neither a CIDR, an IP nor a host name", item)
		}
		p.AllowHosts = append(p.AllowHosts, strings.ToLower(item))
	}
	return p, nil
}

// IsDenied reports whether addr is in a range user-given URLs may not reach by
// default. IPv4-mapped and IPv4-embedding IPv6 forms are unwrapped first.
func IsDenied(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range deniedPrefixes {
		if p.Contains(addr) {
			return true
		}
	}
	if addr.Is6() {
		b := addr.As16()
		switch {
		case nat64Prefix.Contains(addr):
			return IsDenied(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
		case sixToFour.Contains(addr):
			return IsDenied(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		case teredoPrefix.Contains(addr):
			// Teredo hides the client address (inverted) in the last 32 bits.
			return IsDenied(netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]}))
		}
	}
	return false
}

// Allowed reports whether the policy lets addr be dialled.
func (p Policy) Allowed(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, pfx := range p.AllowPrefixes {
		if pfx.Contains(addr) {
			return true
		}
	}
	return !IsDenied(addr)
}

func (p Policy) hostAllowed(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, h := range p.AllowHosts {
		if h == host {
			return true
		}
	}
	return false
}

// Options configures a Client.
type Options struct {
	Policy         Policy
	ConnectTimeout time.Duration // default 10s
	Timeout        time.Duration // whole request, default 30s
	MaxBodyBytes   int64         // response cap, default 10 MiB
	MaxRedirects   int           // default 5
	// TLS, when set, is the client TLS configuration: a client certificate
	// (mutual TLS) and the CAs trusted for the server.
	TLS *tls.Config
}

type hostKey struct{}

// NewDialer returns a dial function that reaches only addresses the policy
// allows, checked on the resolved IP inside the dialer (so a name that
// resolves or rebinds to an internal address is refused too). Connectors
// that speak other protocols than HTTP (SMTP) dial through it.
func NewDialer(o Options) func(ctx context.Context, network, addr string) (net.Conn, error) {
	o = o.withDefaults()
	policy := o.Policy
	dialer := &net.Dialer{
		Timeout: o.ConnectTimeout,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: unparsable address %q", ErrBlocked, address)
			}
			if !policy.Allowed(ap.Addr()) {
				return fmt.Errorf("%w: %s is a private, loopback or internal address", ErrBlocked, ap.Addr())
			}
			return nil
		},
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		if policy.hostAllowed(host) {
			// An allowed host name may resolve anywhere, on purpose.
			return (&net.Dialer{Timeout: o.ConnectTimeout}).DialContext(ctx, network, addr)
		}
		return dialer.DialContext(ctx, network, addr)
	}
}

// NewTransport returns a transport that dials only addresses the policy
// allows, checked on the resolved IP inside the dialer.
func NewTransport(o Options) *http.Transport {
	o = o.withDefaults()
	return &http.Transport{
		Proxy:                 nil, // a proxy would hide the real destination from the check
		DialContext:           NewDialer(o),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   o.ConnectTimeout,
		TLSClientConfig:       o.TLS,
		ResponseHeaderTimeout: o.Timeout,
	}
}

func (o Options) withDefaults() Options {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 10 << 20
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = 5
	}
	return o
}

// NewClient returns the guarded client. Wrap lets a caller add a layer (such
// as delivery recording) between the client and the guarded transport.
func NewClient(o Options, wrap func(http.RoundTripper) http.RoundTripper) *http.Client {
	o = o.withDefaults()
	var rt http.RoundTripper = &capTransport{next: NewTransport(o), max: o.MaxBodyBytes}
	if wrap != nil {
		rt = wrap(rt)
	}
	return &http.Client{
		Transport: rt,
		Timeout:   o.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= o.MaxRedirects {
				return fmt.Errorf("stopped after %d redirects", len(via))
			}
			// The dialer checks the redirect target's address too; refusing
			// non-HTTP schemes here keeps redirects to file: or gopher: out.
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("%w: redirect to scheme %q", ErrBlocked, req.URL.Scheme)
			}
			return nil
		},
	}
}

// capTransport caps every response body.
type capTransport struct {
	next http.RoundTripper
	max  int64
}

func (t *capTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return nil, fmt.Errorf("%w: scheme %q", ErrBlocked, req.URL.Scheme)
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &capReader{rc: resp.Body, left: t.max}
	return resp, nil
}

type capReader struct {
	rc   io.ReadCloser
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// Probe one byte: a body of exactly the cap is fine.
		var one [1]byte
		n, err := c.rc.Read(one[:])
		if n > 0 {
			return 0, ErrTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.rc.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *capReader) Close() error { return c.rc.Close() }
