package webhooksig

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// vectorFile mirrors testdata/signature-vectors.json, a copy of the shared
// published vectors kept here so a clean clone can run the tests.
type vectorFile struct {
	About   string `json:"about"`
	Vectors []struct {
		Scheme    string            `json:"scheme"`
		Source    string            `json:"source"`
		Secret    string            `json:"secret"`
		Headers   map[string]string `json:"headers"`
		Body      string            `json:"body"`
		Timestamp int64             `json:"timestamp"`
		Valid     bool              `json:"valid"`
	} `json:"vectors"`
}

const swSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

var testNow = time.Unix(1700000000, 0)

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func asRejection(t *testing.T, err error) *Rejection {
	t.Helper()
	var r *Rejection
	if !errors.As(err, &r) {
		t.Fatalf("want a *Rejection, got %T: %v", err, err)
	}
	return r
}

func mustNew(t testing.TB, cfg Config) *Verifier {
	t.Helper()
	v, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg.Redact(), err)
	}
	return v
}

func mustSign(t testing.TB, cfg Config, secret string, body []byte, now time.Time, id string) http.Header {
	t.Helper()
	h, err := Sign(cfg, secret, body, now, id)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return h
}

func TestPublishedVectors(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "signature-vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f vectorFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	for i, vec := range f.Vectors {
		t.Run(strconv.Itoa(i)+"_"+vec.Scheme+"_"+vec.Source, func(t *testing.T) {
			t.Parallel()
			if !slices.Contains(Schemes(), vec.Scheme) {
				t.Fatalf("unknown scheme %q", vec.Scheme)
			}
			h := http.Header{}
			for k, v := range vec.Headers {
				h.Set(k, v)
			}
			now := testNow
			if vec.Timestamp != 0 {
				now = time.Unix(vec.Timestamp, 0)
			}
			cfg := Config{Scheme: vec.Scheme, Secrets: []string{vec.Secret}}
			err := Verify(cfg, Request{Body: []byte(vec.Body), Header: h}, now)
			if vec.Valid {
				if err != nil {
					t.Fatalf("valid vector rejected: %v", err)
				}
				return
			}
			r := asRejection(t, err)
			// Every invalid vector is signed at its own timestamp with all
			// headers present, so the signature itself must be what fails.
			if r.Status != http.StatusUnauthorized || r.Reason != "signature does not match" {
				t.Errorf("got %d %q, want 401 %q", r.Status, r.Reason, "signature does not match")
			}
			if strings.Contains(r.Reason, vec.Secret) {
				t.Errorf("reason %q leaks the secret", r.Reason)
			}
		})
	}
}

// TestKnownAnswers checks the presets the published file does not cover
// against signatures computed independently, with Python's hmac module.
func TestKnownAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cfg    Config
		header http.Header
		body   string
		now    time.Time
	}{
		{
			name: "stripe",
			cfg:  Config{Scheme: SchemeStripe, Secrets: []string{"whsec_test_secret_for_stripe_vectors"}},
			header: header(HeaderStripeSignature,
				"t=1700000000,v1=d33b863a2999660a857d9c190aa6306a818ffe3c94a3ca6abf463c83f4d5e30c,v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"),
			body: `{"id":"evt_1","object":"event","type":"payment_intent.succeeded"}`,
			now:  time.Unix(1700000000, 0),
		},
		{
			name:   "shopify",
			cfg:    Config{Scheme: SchemeShopify, Secrets: []string{"shpss_0123456789abcdef0123456789abcdef"}},
			header: header(HeaderShopifyHMAC, "8++5uqaSbZMvfZWESSDj93PLZ220nqZIKaoc0fiVLe4="),
			body:   `{"id":820982911946154508,"email":"jon@example.com"}`,
			now:    testNow,
		},
		{
			name: "hmac sha512 base64 prefix template ms",
			cfg: Config{Scheme: SchemeHMAC, Secrets: []string{"generic-secret-value"}, Header: "X-Signature",
				Prefix: "sha512=", Algorithm: "sha512", Encoding: "base64", Template: "{id}:{timestamp}:{body}",
				TimestampHeader: "X-Timestamp", TimestampUnit: "ms", IDHeader: "X-Event-Id"},
			header: header("X-Signature", "sha512=FzJYZfa+TvtwRNpOaaGb/9cvnVJjqYInGbMtbxqn6Yq5+0TRnhEnpI7TiD8+jghCLH6368z8UUlnhVcrDblhkw==",
				"X-Timestamp", "1700000000123", "X-Event-Id", "evt_42"),
			body: `{"event":"order.created","total":120.5}`,
			now:  time.UnixMilli(1700000000123),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := Verify(tt.cfg, Request{Body: []byte(tt.body), Header: tt.header}, tt.now); err != nil {
				t.Fatalf("known answer rejected: %v", err)
			}
			err := Verify(tt.cfg, Request{Body: []byte(tt.body + " "), Header: tt.header}, tt.now)
			if r := asRejection(t, err); r.Reason != "signature does not match" {
				t.Errorf("tampered body: reason %q", r.Reason)
			}
			// Sign must produce the same signature for the same inputs.
			signed := mustSign(t, tt.cfg, "", []byte(tt.body), tt.now, tt.header.Get("X-Event-Id"))
			for k := range signed {
				if got, want := signed.Get(k), tt.header.Get(k); !strings.HasPrefix(want, got) {
					t.Errorf("Sign %s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// signingConfigs covers every scheme that signs the body.
func signingConfigs() map[string]Config {
	return map[string]Config{
		SchemeStandardWebhooks: {Scheme: SchemeStandardWebhooks, Secrets: []string{swSecret}},
		SchemeGitHub:           {Scheme: SchemeGitHub, Secrets: []string{"gh-secret"}},
		SchemeStripe:           {Scheme: SchemeStripe, Secrets: []string{"whsec_stripe"}},
		SchemeSlack:            {Scheme: SchemeSlack, Secrets: []string{"slack-signing-secret"}},
		SchemeShopify:          {Scheme: SchemeShopify, Secrets: []string{"shopify-secret"}},
		"hmac-default":         {Scheme: SchemeHMAC, Secrets: []string{"s3cret"}, Header: "X-Signature"},
		"hmac-sha512-base64-prefix": {Scheme: SchemeHMAC, Secrets: []string{"s3cret"}, Header: "X-Sig",
			Algorithm: "sha512", Encoding: "base64", Prefix: "sha512="},
		"hmac-template-seconds": {Scheme: SchemeHMAC, Secrets: []string{"s3cret"}, Header: "X-Sig",
			Template: "{timestamp}.{body}", TimestampHeader: "X-Ts"},
		"hmac-template-ms-id": {Scheme: SchemeHMAC, Secrets: []string{"s3cret"}, Header: "X-Sig",
			Algorithm: "sha512", Encoding: "base64", Prefix: "v1=", Template: "v1:{id}:{timestamp}:{body}",
			TimestampHeader: "X-Ts", TimestampUnit: "ms", IDHeader: "X-Id", Tolerance: "2m"},
	}
}

func TestSignedRequestsVerifyAndTamperedBodiesDoNot(t *testing.T) {
	t.Parallel()
	body := []byte(`{"order":{"id":1001,"total":250.00}}` + "\n")
	for name, cfg := range signingConfigs() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := mustSign(t, cfg, "", body, testNow, "msg_1")
			v := mustNew(t, cfg)
			if err := v.Verify(Request{Body: body, Header: h}, testNow); err != nil {
				t.Fatalf("signed request rejected: %v", err)
			}
			tampered := slices.Clone(body)
			tampered[10] ^= 1
			for _, b := range [][]byte{tampered, body[:len(body)-1], append(slices.Clone(body), ' '), nil} {
				r := asRejection(t, v.Verify(Request{Body: b, Header: h}, testNow))
				if r.Status != http.StatusUnauthorized || r.Reason != "signature does not match" {
					t.Errorf("tampered body: %d %q", r.Status, r.Reason)
				}
				for _, val := range h {
					if sig := val[0]; len(sig) > 8 && strings.Contains(r.Reason, sig) {
						t.Errorf("reason %q contains a header value", r.Reason)
					}
				}
			}
		})
	}
}

func TestSignatureHeaderMissingOrMalformed(t *testing.T) {
	t.Parallel()
	body := []byte("{}")
	tests := []struct {
		name   string
		cfg    Config
		header http.Header
		reason string
	}{
		{"sw no headers", signingConfigs()[SchemeStandardWebhooks], header(), "missing webhook-id header"},
		{"sw no signature", signingConfigs()[SchemeStandardWebhooks], header(HeaderWebhookID, "m", HeaderWebhookTimestamp, "1700000000"), "missing webhook-signature header"},
		{"sw bad timestamp", signingConfigs()[SchemeStandardWebhooks], header(HeaderWebhookID, "m", HeaderWebhookTimestamp, "soon", HeaderWebhookSignature, "v1,AAAA"), "invalid webhook-timestamp: not a Unix timestamp"},
		{"sw only v1a", signingConfigs()[SchemeStandardWebhooks], header(HeaderWebhookID, "m", HeaderWebhookTimestamp, "1700000000", HeaderWebhookSignature, "v1a,AAAA"), "webhook-signature has no v1 signature"},
		{"github missing", signingConfigs()[SchemeGitHub], header(), "missing X-Hub-Signature-256 header"},
		{"github sha1", signingConfigs()[SchemeGitHub], header(HeaderGitHubSignature, "sha1=abcd"), "X-Hub-Signature-256 must start with sha256="},
		{"github not hex", signingConfigs()[SchemeGitHub], header(HeaderGitHubSignature, "sha256=zz"), "malformed X-Hub-Signature-256 header"},
		{"stripe no t", signingConfigs()[SchemeStripe], header(HeaderStripeSignature, "v1=abcd"), "Stripe-Signature has no timestamp (t=)"},
		{"stripe no v1", signingConfigs()[SchemeStripe], header(HeaderStripeSignature, "t=1700000000,v0=abcd"), "Stripe-Signature has no v1 signature"},
		{"slack no ts", signingConfigs()[SchemeSlack], header(HeaderSlackSignature, "v0=ab"), "missing X-Slack-Request-Timestamp header"},
		{"slack wrong version", signingConfigs()[SchemeSlack], header(HeaderSlackSignature, "v1=ab", HeaderSlackTimestamp, "1700000000"), "X-Slack-Signature must start with v0="},
		{"shopify not base64", signingConfigs()[SchemeShopify], header(HeaderShopifyHMAC, "!!"), "malformed X-Shopify-Hmac-Sha256 header"},
		{"hmac wrong prefix", signingConfigs()["hmac-sha512-base64-prefix"], header("X-Sig", "sha256=AAAA"), `X-Sig must start with "sha512="`},
		{"hmac missing ts", signingConfigs()["hmac-template-seconds"], header("X-Sig", "abcd"), "missing X-Ts header"},
		{"hmac missing id", signingConfigs()["hmac-template-ms-id"], header("X-Sig", "v1=AAAA", "X-Ts", "1700000000000"), "missing X-Id header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := asRejection(t, Verify(tt.cfg, Request{Body: body, Header: tt.header}, testNow))
			if r.Status != http.StatusUnauthorized || r.Reason != tt.reason {
				t.Errorf("got %d %q, want 401 %q", r.Status, r.Reason, tt.reason)
			}
		})
	}
}

func TestStaleAndFutureTimestampsAreRejected(t *testing.T) {
	t.Parallel()
	body := []byte(`{"ping":true}`)
	tests := []struct {
		skew   time.Duration // signed at testNow+skew
		reason string        // empty: accepted
	}{
		{0, ""},
		{-5 * time.Minute, ""},
		{5 * time.Minute, ""},
		{-10 * time.Minute, "timestamp is 10m0s old; tolerance 5m0s"},
		{10 * time.Minute, "timestamp is 10m0s in the future; tolerance 5m0s"},
		{-5*time.Minute - time.Second, "timestamp is 5m1s old; tolerance 5m0s"},
		{-400 * 24 * time.Hour, "timestamp is 9600h0m0s old; tolerance 5m0s"},
	}
	for name, cfg := range signingConfigs() {
		if cfg.Scheme == SchemeGitHub || cfg.Scheme == SchemeShopify || (cfg.Scheme == SchemeHMAC && cfg.TimestampHeader == "") {
			continue
		}
		if cfg.Tolerance != "" {
			continue // covered below
		}
		for _, tt := range tests {
			t.Run(name+"/"+tt.skew.String(), func(t *testing.T) {
				t.Parallel()
				h := mustSign(t, cfg, "", body, testNow.Add(tt.skew), "msg_1")
				err := Verify(cfg, Request{Body: body, Header: h}, testNow)
				if tt.reason == "" {
					if err != nil {
						t.Fatalf("rejected: %v", err)
					}
					return
				}
				r := asRejection(t, err)
				if r.Status != http.StatusUnauthorized || r.Reason != tt.reason {
					t.Errorf("got %d %q, want 401 %q", r.Status, r.Reason, tt.reason)
				}
			})
		}
	}
	t.Run("custom tolerance in ms", func(t *testing.T) {
		t.Parallel()
		cfg := signingConfigs()["hmac-template-ms-id"] // tolerance 2m, milliseconds
		h := mustSign(t, cfg, "", body, testNow.Add(-2*time.Minute-1500*time.Millisecond), "id")
		r := asRejection(t, Verify(cfg, Request{Body: body, Header: h}, testNow))
		if want := "timestamp is 2m2s old; tolerance 2m0s"; r.Reason != want {
			t.Errorf("reason %q, want %q", r.Reason, want)
		}
		h = mustSign(t, cfg, "", body, testNow.Add(2*time.Minute+1*time.Millisecond), "id")
		r = asRejection(t, Verify(cfg, Request{Body: body, Header: h}, testNow))
		if want := "timestamp is 2m0.001s in the future; tolerance 2m0s"; r.Reason != want {
			t.Errorf("reason %q, want %q", r.Reason, want)
		}
		h = mustSign(t, cfg, "", body, testNow.Add(-119*time.Second), "id")
		if err := Verify(cfg, Request{Body: body, Header: h}, testNow); err != nil {
			t.Errorf("within tolerance: %v", err)
		}
	})
	t.Run("extreme timestamps", func(t *testing.T) {
		t.Parallel()
		cfg := signingConfigs()[SchemeStandardWebhooks]
		for _, ts := range []string{"9223372036854775807", "-9223372036854775808", "0"} {
			h := header(HeaderWebhookID, "m", HeaderWebhookTimestamp, ts, HeaderWebhookSignature, "v1,AAAA")
			r := asRejection(t, Verify(cfg, Request{Header: h}, testNow))
			if !strings.HasPrefix(r.Reason, "timestamp is ") {
				t.Errorf("%s: reason %q", ts, r.Reason)
			}
		}
	})
}

func TestRotatedSecretsAreBothAccepted(t *testing.T) {
	t.Parallel()
	body := []byte(`{"rotate":true}`)
	secretsFor := func(scheme string) (old, cur, other string) {
		if scheme == SchemeStandardWebhooks {
			return swSecret, "whsec_" + "c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24=", "whsec_" + "dGhpcmQtc2VjcmV0LW5vdC1jb25maWd1cmVk"
		}
		return "old-secret", "new-secret", "unknown-secret"
	}
	cfgs := signingConfigs()
	cfgs["token"] = Config{Scheme: SchemeToken, Header: "X-Api-Key"}
	for name, cfg := range cfgs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			old, cur, other := secretsFor(cfg.Scheme)
			cfg.Secrets = []string{old, cur}
			v := mustNew(t, cfg)
			for _, s := range []string{old, cur} {
				h := mustSign(t, cfg, s, body, testNow, "msg_1")
				if err := v.Verify(Request{Body: body, Header: h}, testNow); err != nil {
					t.Errorf("signed with a configured secret, rejected: %v", err)
				}
			}
			h := mustSign(t, Config{Scheme: cfg.Scheme, Header: cfg.Header, Prefix: cfg.Prefix, Algorithm: cfg.Algorithm,
				Encoding: cfg.Encoding, Template: cfg.Template, TimestampHeader: cfg.TimestampHeader,
				TimestampUnit: cfg.TimestampUnit, IDHeader: cfg.IDHeader}, other, body, testNow, "msg_1")
			r := asRejection(t, v.Verify(Request{Body: body, Header: h}, testNow))
			if r.Status != http.StatusUnauthorized {
				t.Errorf("status %d", r.Status)
			}
			for _, s := range []string{old, cur, other} {
				if strings.Contains(r.Reason, s) {
					t.Errorf("reason %q leaks a secret", r.Reason)
				}
			}
		})
	}
}

func TestStandardWebhooksSignatureListWithOtherVersions(t *testing.T) {
	t.Parallel()
	cfg := signingConfigs()[SchemeStandardWebhooks]
	body := []byte("hello")
	h := mustSign(t, cfg, "", body, testNow, "msg_x")
	good := h.Get(HeaderWebhookSignature)
	h.Set(HeaderWebhookSignature, "v1a,bm90LWNoZWNrZWQ= v2,AAAA v1,!!notbase64 "+good+" v1,AAAA")
	if err := Verify(cfg, Request{Body: body, Header: h}, testNow); err != nil {
		t.Fatalf("list with one valid v1 rejected: %v", err)
	}
	// The id is signed: another id with the same signature fails.
	h.Set(HeaderWebhookID, "msg_y")
	if err := Verify(cfg, Request{Body: body, Header: h}, testNow); err == nil {
		t.Fatal("changed webhook-id accepted")
	}
}

func TestTokenScheme(t *testing.T) {
	t.Parallel()
	bearer := Config{Scheme: SchemeToken, Header: "Authorization", Prefix: "Bearer ", Secrets: []string{"tok-old", "tok-new"}}
	apiKey := Config{Scheme: SchemeToken, Header: "X-Api-Key", Secrets: []string{"k1"}}
	query := Config{Scheme: SchemeToken, Query: "token", Secrets: []string{"q-secret"}}
	tests := []struct {
		name   string
		cfg    Config
		header http.Header
		query  url.Values
		reason string
	}{
		{"bearer new", bearer, header("Authorization", "Bearer tok-new"), nil, ""},
		{"bearer old", bearer, header("Authorization", "Bearer tok-old"), nil, ""},
		{"bearer lower-case scheme", bearer, header("Authorization", "bearer tok-new"), nil, ""},
		{"bearer wrong", bearer, header("Authorization", "Bearer tok-wrong"), nil, "wrong token"},
		{"bearer prefix of a token", bearer, header("Authorization", "Bearer tok-ne"), nil, "wrong token"},
		{"bearer without prefix", bearer, header("Authorization", "tok-new"), nil, `Authorization must start with "Bearer "`},
		{"bearer missing", bearer, header(), nil, "missing Authorization header"},
		{"api key", apiKey, header("X-Api-Key", "k1"), nil, ""},
		{"api key wrong", apiKey, header("X-Api-Key", "k2"), nil, "wrong token"},
		{"api key in query ignored", apiKey, header(), url.Values{"X-Api-Key": {"k1"}}, "missing X-Api-Key header"},
		{"query", query, header(), url.Values{"token": {"q-secret"}}, ""},
		{"query wrong", query, header(), url.Values{"token": {"nope"}}, "wrong token"},
		{"query missing", query, header("Token", "q-secret"), nil, "missing token query parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Verify(tt.cfg, Request{Header: tt.header, Query: tt.query}, testNow)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			r := asRejection(t, err)
			if r.Status != http.StatusUnauthorized || r.Reason != tt.reason {
				t.Errorf("got %d %q, want 401 %q", r.Status, r.Reason, tt.reason)
			}
		})
	}
	if _, err := Sign(query, "", nil, testNow, ""); err == nil {
		t.Error("Sign of a query token should fail")
	}
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	cfg := Config{Scheme: SchemeBasic, Users: []BasicUser{{"shop", "pa:ss word"}, {"ci", "tok"}}}
	basic := func(s string) http.Header { return header("Authorization", s) }
	tests := []struct {
		name   string
		header http.Header
		reason string
	}{
		{"first user", mustSign(t, cfg, "", nil, testNow, ""), ""},
		{"second user", mustSign(t, cfg, "ci:tok", nil, testNow, ""), ""},
		{"wrong password", mustSign(t, cfg, "shop:pa:ss", nil, testNow, ""), "wrong username or password"},
		{"password of another user", mustSign(t, cfg, "ci:pa:ss word", nil, testNow, ""), "wrong username or password"},
		{"missing", header(), "missing Authorization header"},
		{"bearer", basic("Bearer abc"), "Authorization is not Basic"},
		{"not base64", basic("Basic %%%"), "malformed Basic credentials"},
		{"no colon", basic("Basic c2hvcA=="), "malformed Basic credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Verify(cfg, Request{Header: tt.header}, testNow)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			r := asRejection(t, err)
			if r.Status != http.StatusUnauthorized || r.Reason != tt.reason || !strings.HasPrefix(r.Challenge, "Basic ") {
				t.Errorf("got %d %q %q, want 401 %q with a challenge", r.Status, r.Reason, r.Challenge, tt.reason)
			}
		})
	}
}

func TestNoneAcceptsEverything(t *testing.T) {
	t.Parallel()
	if err := Verify(Config{Scheme: SchemeNone}, Request{}, testNow); err != nil {
		t.Fatal(err)
	}
}

func TestIPAllowed(t *testing.T) {
	t.Parallel()
	pfx := func(ss ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, s := range ss {
			p, err := parsePrefix(s)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, p)
		}
		return out
	}
	allow := pfx("203.0.113.0/24", "2001:db8::/32", "198.51.100.7")
	proxies := pfx("10.0.0.0/8", "fd00::/8")
	tests := []struct {
		name    string
		remote  string
		xff     string
		allow   []netip.Prefix
		proxies []netip.Prefix
		wantIP  string
		wantOK  bool
	}{
		{"direct allowed", "203.0.113.9:4711", "", allow, nil, "203.0.113.9", true},
		{"direct single host", "198.51.100.7:1", "", allow, nil, "198.51.100.7", true},
		{"direct refused", "192.0.2.1:4711", "", allow, nil, "192.0.2.1", false},
		{"direct ipv6", "[2001:db8::1]:443", "", allow, nil, "2001:db8::1", true},
		{"ipv4-mapped ipv6 peer", "[::ffff:203.0.113.5]:80", "", allow, nil, "203.0.113.5", true},
		{"bare address", "203.0.113.9", "", allow, nil, "203.0.113.9", true},
		{"spoofed xff from untrusted peer", "192.0.2.1:4711", "203.0.113.9", allow, proxies, "192.0.2.1", false},
		{"spoofed xff with no trusted proxies", "192.0.2.1:4711", "203.0.113.9", allow, nil, "192.0.2.1", false},
		{"xff via trusted proxy", "10.1.2.3:5555", "203.0.113.9", allow, proxies, "203.0.113.9", true},
		{"xff via trusted proxy refused", "10.1.2.3:5555", "192.0.2.1", allow, proxies, "192.0.2.1", false},
		{"client-forged left entry ignored", "10.1.2.3:5555", "203.0.113.9, 192.0.2.1", allow, proxies, "192.0.2.1", false},
		{"proxy chain walked from the right", "10.0.0.1:80", "192.0.2.50, 203.0.113.9, 10.9.9.9 , 10.0.0.2", allow, proxies, "203.0.113.9", true},
		{"xff with port and ipv6", "[fd00::1]:80", "[2001:db8::5]:1234", allow, proxies, "2001:db8::5", true},
		{"only proxies", "10.0.0.1:80", "10.0.0.2", allow, proxies, "10.0.0.2", false},
		{"garbage hop behind proxy", "10.0.0.1:80", "unknown", allow, proxies, "invalid IP", false},
		{"empty xff via proxy", "10.0.0.1:80", "", allow, proxies, "10.0.0.1", false},
		{"unparseable peer", "@", "", allow, proxies, "invalid IP", false},
		{"no allowlist admits all", "192.0.2.1:4711", "", nil, nil, "192.0.2.1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ip, ok := IPAllowed(tt.remote, tt.xff, tt.allow, tt.proxies)
			if ip.String() != tt.wantIP || ok != tt.wantOK {
				t.Errorf("got %s %v, want %s %v", ip, ok, tt.wantIP, tt.wantOK)
			}
		})
	}
}

func TestRefusedIPIs403(t *testing.T) {
	t.Parallel()
	v := mustNew(t, Config{Scheme: SchemeNone, AllowIPs: []string{"203.0.113.0/24"}})
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	if ip, err := v.AllowIP("10.0.0.1:80", "203.0.113.4", trusted); err != nil || ip.String() != "203.0.113.4" {
		t.Fatalf("allowed client: %s %v", ip, err)
	}
	_, err := v.AllowIP("192.0.2.1:80", "203.0.113.4", trusted)
	r := asRejection(t, err)
	if r.Status != http.StatusForbidden || r.Reason != "client IP 192.0.2.1 is not allowed" {
		t.Errorf("got %d %q", r.Status, r.Reason)
	}
	_, err = v.AllowIP("garbage", "", trusted)
	if r := asRejection(t, err); r.Status != http.StatusForbidden {
		t.Errorf("unknown client: %d", r.Status)
	}
}

func TestConfigValidateNamesTheField(t *testing.T) {
	t.Parallel()
	p := DefaultPath + "."
	tests := []struct {
		name string
		cfg  Config
		want []string // empty: valid
	}{
		{"none", Config{Scheme: SchemeNone}, nil},
		{"sw by connection", Config{Scheme: SchemeStandardWebhooks, Connection: "shop-secret", Tolerance: "5m"}, nil},
		{"missing scheme", Config{}, []string{p + "scheme: required (one of none, token, basic, standard-webhooks, github, stripe, slack, shopify, hmac)"}},
		{"unknown scheme", Config{Scheme: "hmac-sha1"}, []string{p + `scheme: unknown scheme "hmac-sha1" (one of none, token, basic, standard-webhooks, github, stripe, slack, shopify, hmac)`}},
		{"sw prefix", Config{Scheme: SchemeStandardWebhooks, Secrets: []string{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}, []string{p + "secrets[0]: must start with whsec_"}},
		{"sw base64", Config{Scheme: SchemeStandardWebhooks, Secrets: []string{swSecret, "whsec_***"}}, []string{p + "secrets[1]: the part after whsec_ is not valid base64"}},
		{"sw short key", Config{Scheme: SchemeStandardWebhooks, Secrets: []string{"whsec_c2hvcnQ="}}, []string{p + "secrets[0]: key is 5 bytes; at least 16 are needed"}},
		{"no secrets", Config{Scheme: SchemeGitHub}, []string{p + "secrets: at least one secret is required (or name a connection)"}},
		{"empty and padded secret", Config{Scheme: SchemeSlack, Secrets: []string{"", " abc\n"}}, []string{p + "secrets[0]: must not be empty", p + "secrets[1]: must not start or end with white space"}},
		{"bad tolerance", Config{Scheme: SchemeStripe, Secrets: []string{"x"}, Tolerance: "5 minutes"}, []string{p + `tolerance: "5 minutes" is not a duration such as 5m`}},
		{"negative tolerance", Config{Scheme: SchemeStripe, Secrets: []string{"x"}, Tolerance: "-1m"}, []string{p + "tolerance: must be positive"}},
		{"field of another scheme", Config{Scheme: SchemeGitHub, Secrets: []string{"x"}, Tolerance: "1m", Header: "X-Sig"}, []string{p + "tolerance: not used by scheme github", p + "header: not used by scheme github"}},
		{"token without place", Config{Scheme: SchemeToken, Secrets: []string{"x"}}, []string{p + "header: name the header (or the query parameter, in query) that carries the token"}},
		{"token both places", Config{Scheme: SchemeToken, Secrets: []string{"x"}, Header: "X-Key", Query: "key"}, []string{p + "query: set header or query, not both"}},
		{"token bad header", Config{Scheme: SchemeToken, Secrets: []string{"x"}, Header: "X Key"}, []string{p + `header: "X Key" is not a valid header name`}},
		{"token query prefix", Config{Scheme: SchemeToken, Secrets: []string{"x"}, Query: "key", Prefix: "Bearer "}, []string{p + "prefix: only applies to a token in a header"}},
		{"basic users", Config{Scheme: SchemeBasic, Users: []BasicUser{{"a:b", "p"}, {"", ""}}}, []string{p + "users[0].username: must not contain a colon", p + "users[1].username: required", p + "users[1].password: required"}},
		{"basic none", Config{Scheme: SchemeBasic}, []string{p + "users: at least one username and password is required (or name a connection)"}},
		{"hmac ok", signingConfigs()["hmac-template-ms-id"], nil},
		{"hmac needs header", Config{Scheme: SchemeHMAC, Secrets: []string{"x"}}, []string{p + "header: name the header that carries the signature"}},
		{"hmac enums", Config{Scheme: SchemeHMAC, Secrets: []string{"x"}, Header: "X-Sig", Algorithm: "md5", Encoding: "base32"}, []string{p + "algorithm: must be sha256 or sha512", p + "encoding: must be hex or base64"}},
		{"hmac unknown placeholder", Config{Scheme: SchemeHMAC, Secrets: []string{"x"}, Header: "X-Sig", Template: "{ts}.{body}"}, []string{p + "template: unknown placeholder {ts}; use {body}, {timestamp} or {id}"}},
		{"hmac template without body", Config{Scheme: SchemeHMAC, Secrets: []string{"x"}, Header: "X-Sig", Template: "{timestamp}", TimestampHeader: "X-Ts"}, []string{p + "template: must use {body}, or the body is not signed"}},
		{"hmac timestamp unsigned", Config{Scheme: SchemeHMAC, Secrets: []string{"x"}, Header: "X-Sig", TimestampHeader: "X-Ts"}, []string{p + "template: must use {timestamp} when timestamp_header is set, or the timestamp is not signed"}},
		{"hmac timestamp header missing", Config{Scheme: SchemeHMAC, Secrets: []string{"x"}, Header: "X-Sig", Template: "{timestamp}.{body}", Tolerance: "1m", TimestampUnit: "us"}, []string{p + "timestamp_unit: must be s (Unix seconds) or ms (Unix milliseconds)", p + "timestamp_header: required when the template uses {timestamp}", p + "tolerance: needs a timestamp_header", p + "timestamp_unit: needs a timestamp_header"}},
		{"hmac id header missing", Config{Scheme: SchemeHMAC, Secrets: []string{"x"}, Header: "X-Sig", Template: "{id}{body}"}, []string{p + "id_header: required when the template uses {id}"}},
		{"hmac literal braces", Config{Scheme: SchemeHMAC, Secrets: []string{"x"}, Header: "X-Sig", Template: "{\"v\":1}{body}{}"}, nil},
		{"allow ips", Config{Scheme: SchemeNone, AllowIPs: []string{"203.0.113.0/24", "2001:db8::1", "10.0.0.0/33", "example.com"}}, []string{p + `allow_ips[2]: "10.0.0.0/33" is not an IP address or CIDR`, p + `allow_ips[3]: "example.com" is not an IP address or CIDR`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want *ValidationError, got %v", err)
			}
			var got []string
			for _, fe := range ve.Errors {
				got = append(got, fe.Error())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got\n  %q\nwant\n  %q", got, tt.want)
			}
		})
	}
	if err := (Config{Scheme: "x"}).ValidateAt("verify"); err == nil || !strings.HasPrefix(err.Error(), "verify.scheme: ") {
		t.Errorf("ValidateAt prefix: %v", err)
	}
}

func TestUnresolvedConnectionIsAConfigErrorNotARejection(t *testing.T) {
	t.Parallel()
	err := Verify(Config{Scheme: SchemeStandardWebhooks, Connection: "shop-secret"}, Request{}, testNow)
	var r *Rejection
	if !errors.Is(err, ErrUnresolved) || errors.As(err, &r) {
		t.Fatalf("got %v", err)
	}
	err = Verify(Config{Scheme: "nope"}, Request{}, testNow)
	if err == nil || errors.As(err, &r) {
		t.Fatalf("invalid config: got %v", err)
	}
}

func TestConfigJSONAndRedaction(t *testing.T) {
	t.Parallel()
	doc := `{"scheme": "standard-webhooks", "secrets": ["` + swSecret + `", "whsec_c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24="], "tolerance": "5m", "allow_ips": ["203.0.113.0/24"]}`
	var cfg Config
	if err := json.Unmarshal([]byte(doc), &cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.ToleranceDuration() != 5*time.Minute || (Config{}).ToleranceDuration() != DefaultTolerance {
		t.Error("tolerance")
	}
	red, err := json.Marshal(cfg.Redact())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cfg.SecretValues() {
		if strings.Contains(string(red), s) {
			t.Errorf("redacted JSON %s holds a secret", red)
		}
	}
	if cfg.Secrets[0] != swSecret {
		t.Error("Redact changed the original")
	}
	if want := `{"scheme":"standard-webhooks","secrets":["[redacted]","[redacted]"],"tolerance":"5m","allow_ips":["203.0.113.0/24"]}`; string(red) != want {
		t.Errorf("redacted:\n %s\nwant\n %s", red, want)
	}

	basic := Config{Scheme: SchemeBasic, Users: []BasicUser{{"u", "hunter2"}}}
	if got := basic.Redact().Users[0]; got.Username != "u" || got.Password != Redacted {
		t.Errorf("basic redaction: %+v", got)
	}
	if !slices.Equal(basic.SecretValues(), []string{"hunter2"}) || !slices.Equal(basic.CredentialHeaders(), []string{"Authorization"}) {
		t.Error("basic secret awareness")
	}
	tok := Config{Scheme: SchemeToken, Query: "key", Secrets: []string{"t"}}
	if !slices.Equal(tok.CredentialQuery(), []string{"key"}) || tok.CredentialHeaders() != nil {
		t.Error("token secret awareness")
	}
	if (Config{Scheme: SchemeGitHub}).CredentialHeaders() != nil {
		t.Error("a signature is not a credential")
	}
}

func FuzzStandardWebhooks(f *testing.F) {
	f.Add("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", []byte(`{"test": 2432232314}`))
	f.Add("", "", "", []byte{})
	f.Add("id", "-9223372036854775808", "v1, v1,,, v1a,x v2", []byte{0xff, 0})
	f.Add("id", "9223372036854775807", "v1,====", []byte("x"))
	f.Add("\x00", " 1614265330 ", "\tv1,AAAA\n", []byte(nil))
	v := mustNew(f, Config{Scheme: SchemeStandardWebhooks, Secrets: []string{swSecret}})
	now := time.Unix(1614265330, 0)
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		h := http.Header{}
		h[http.CanonicalHeaderKey(HeaderWebhookID)] = []string{id}
		h[http.CanonicalHeaderKey(HeaderWebhookTimestamp)] = []string{ts}
		h[http.CanonicalHeaderKey(HeaderWebhookSignature)] = []string{sig}
		if err := v.Verify(Request{Body: body, Header: h}, now); err != nil {
			r := asRejection(t, err)
			if r.Status != http.StatusUnauthorized || r.Reason == "" || strings.Contains(r.Reason, swSecret) {
				t.Fatalf("bad rejection %d %q", r.Status, r.Reason)
			}
		}
		// What we sign, we accept.
		if id == "" {
			return
		}
		signed, err := Sign(v.Config(), "", body, now, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Verify(Request{Body: body, Header: signed}, now); err != nil {
			t.Fatalf("own signature rejected: %v", err)
		}
	})
}

func BenchmarkStandardWebhooksVerify(b *testing.B) {
	cfg := Config{Scheme: SchemeStandardWebhooks, Secrets: []string{swSecret}}
	v := mustNew(b, cfg)
	body := []byte(strings.Repeat(`{"order":1001,"total":250.5}`, 36)) // about 1 KiB
	h := mustSign(b, cfg, "", body, testNow, "msg_2Lq3v0b1c")
	req := Request{Body: body, Header: h}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(req, testNow); err != nil {
			b.Fatal(err)
		}
	}
}
