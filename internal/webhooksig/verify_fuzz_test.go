package webhooksig

import (
	"net/http"
	"net/netip"
	"net/url"
	"testing"
	"time"
)

// Every scheme's header parsing takes any header value without panicking,
// and no fuzzed signature header verifies (an HMAC cannot be guessed).
func FuzzVerifyHeaders(f *testing.F) {
	f.Add("standard-webhooks", "msg_1", "1700000000", "v1,Zm9v v1a,bar", []byte(`{}`))
	f.Add("stripe", "", "", "t=1700000000,v1=deadbeef,v0=x", []byte(`{}`))
	f.Add("github", "", "", "sha256=00ff", []byte(`x`))
	f.Add("slack", "", "1700000000", "v0=abc", []byte(`token=x`))
	f.Add("shopify", "", "", "bm90IGEgc2ln", []byte(``))
	f.Add("hmac", "", "", "sha256=\xff", []byte(`{}`))
	f.Add("basic", "", "", "Basic dXNlcjpwYXNz", []byte(``))
	f.Add("token", "", "", "Bearer x", []byte(``))
	now := time.Unix(1700000000, 0)
	f.Fuzz(func(t *testing.T, scheme, id, ts, sig string, body []byte) {
		cfg := Config{Scheme: scheme, Secrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, Header: "X-Signature",
			Users: []BasicUser{{Username: "user", Password: "a password"}}}
		if cfg.Validate() != nil {
			cfg.Secrets = []string{"a-long-enough-shared-secret"}
			if cfg.Validate() != nil {
				return
			}
		}
		h := http.Header{}
		for _, k := range []string{"Webhook-Id", "Webhook-Timestamp", "Webhook-Signature", "Stripe-Signature",
			"X-Hub-Signature-256", "X-Slack-Request-Timestamp", "X-Slack-Signature", "X-Shopify-Hmac-Sha256",
			"X-Signature", "Authorization"} {
			h.Set(k, sig)
		}
		h.Set("Webhook-Id", id)
		h.Set("Webhook-Timestamp", ts)
		h.Set("X-Slack-Request-Timestamp", ts)
		err := Verify(cfg, Request{Body: body, Header: h, Query: url.Values{"token": {sig}}}, now)
		switch scheme {
		case SchemeNone, SchemeToken, SchemeBasic:
			return // the fuzzer may type the token or password; signatures it cannot forge
		}
		if err == nil {
			t.Fatalf("scheme %q accepted a forged signature %q", scheme, sig)
		}
	})
}

// The IP allow list and the forwarded-for walk take any input.
func FuzzIPAllowed(f *testing.F) {
	f.Add("10.0.0.1:443", "203.0.113.7, 10.0.0.2", "203.0.113.0/24")
	f.Add("[::1]:80", "::ffff:1.2.3.4", "::/0")
	f.Add("garbage", ",,,", "300.1.1.1/40")
	f.Fuzz(func(t *testing.T, remote, xff, allow string) {
		var prefixes []netip.Prefix
		if p, err := parsePrefix(allow); err == nil {
			prefixes = append(prefixes, p)
		}
		trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		ip, ok := IPAllowed(remote, xff, prefixes, trusted)
		if ok && len(prefixes) > 0 && !prefixes[0].Contains(ip.Unmap()) && !prefixes[0].Contains(ip) {
			t.Fatalf("%s allowed by %s", ip, allow)
		}
	})
}
