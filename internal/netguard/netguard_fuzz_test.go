package netguard

import (
	"net/netip"
	"testing"
)

// Allow lists parse or fail; a denied address is never allowed by an
// empty policy, in any of its IPv6 disguises.
func FuzzAddresses(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe", "2002:c0a8:0101::", "2001:0:4136:e378:8000:63bf:3fff:fdd2",
		"fe80::1%eth0", "0.0.0.0", "169.254.169.254", "example.com,10.0.0.0/8", "[::1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParseAllowList(s)
		addr, err := netip.ParseAddr(s)
		if err != nil {
			return
		}
		if IsDenied(addr) && (Policy{}).Allowed(addr) {
			t.Fatalf("%s is denied yet allowed by an empty policy", addr)
		}
		if IsDenied(addr.Unmap()) != IsDenied(addr) {
			t.Fatalf("%s and its unmapped form disagree", addr)
		}
	})
}
