package webhooksig

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// IPAllowed finds the client's address and reports whether allow admits it.
// remoteAddr is the direct peer ("ip:port" or "ip"); xff is the
// X-Forwarded-For header (several header lines joined with commas).
//
// X-Forwarded-For counts only when the direct peer is one of
// trustedProxies: it is then walked from the right, skipping trusted
// proxies, and the first address that is not one is the client. From any
// other peer it is ignored, so a spoofed header changes nothing. An empty
// allow admits everyone (clientIP may then be invalid if it could not be
// determined); otherwise an address that cannot be determined is refused.
func IPAllowed(remoteAddr, xff string, allow, trustedProxies []netip.Prefix) (clientIP netip.Addr, ok bool) {
	clientIP = clientAddr(remoteAddr, xff, trustedProxies)
	if len(allow) == 0 {
		return clientIP, true
	}
	return clientIP, clientIP.IsValid() && contains(allow, clientIP)
}

func clientAddr(remoteAddr, xff string, trusted []netip.Prefix) netip.Addr {
	peer, ok := parseHost(remoteAddr)
	if !ok || !contains(trusted, peer) {
		return peer
	}
	client := peer
	for rest := xff; rest != ""; {
		var hop string
		if i := strings.LastIndexByte(rest, ','); i >= 0 {
			hop, rest = rest[i+1:], rest[:i]
		} else {
			hop, rest = rest, ""
		}
		hop = strings.TrimSpace(hop)
		if hop == "" {
			continue
		}
		a, ok := parseHost(hop)
		if !ok {
			return netip.Addr{} // a trusted proxy passed on garbage: the client is unknown
		}
		client = a
		if !contains(trusted, a) {
			break
		}
	}
	return client
}

// parseHost reads "1.2.3.4", "1.2.3.4:80", "::1", "[::1]:80" or "[::1]",
// unmapping IPv4-in-IPv6 and dropping zones so prefixes compare plainly.
func parseHost(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

func contains(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// AllowIP applies the configuration's allow_ips (see IPAllowed) and returns
// the client's address, or a 403 *Rejection naming it. With no allowlist
// every caller is admitted.
func (v *Verifier) AllowIP(remoteAddr, xff string, trustedProxies []netip.Prefix) (netip.Addr, error) {
	ip, ok := IPAllowed(remoteAddr, xff, v.allow, trustedProxies)
	switch {
	case ok:
		return ip, nil
	case !ip.IsValid():
		return ip, &Rejection{Status: http.StatusForbidden, Reason: "client IP could not be determined"}
	}
	return ip, &Rejection{Status: http.StatusForbidden, Reason: "client IP " + ip.String() + " is not allowed"}
}
