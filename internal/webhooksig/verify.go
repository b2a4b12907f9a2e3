package webhooksig

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Header names the presets read.
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
	HeaderGitHubSignature  = "X-Hub-Signature-256"
	HeaderStripeSignature  = "Stripe-Signature"
	HeaderSlackSignature   = "X-Slack-Signature"
	HeaderSlackTimestamp   = "X-Slack-Request-Timestamp"
	HeaderShopifyHMAC      = "X-Shopify-Hmac-Sha256"
)

// Rejection is a refused request: Status is 401 for missing or wrong
// credentials, signatures and timestamps, 403 for a refused IP. Reason is
// short, safe to show the sender, and never holds a secret or an expected
// signature.
type Rejection struct {
	Status int
	Reason string
	// Challenge, when set, is the WWW-Authenticate value to send (basic).
	Challenge string
}

func (r *Rejection) Error() string { return r.Reason }

func unauthorized(format string, args ...any) *Rejection {
	return &Rejection{Status: http.StatusUnauthorized, Reason: fmt.Sprintf(format, args...)}
}

// Request is what verification reads from an inbound request.
type Request struct {
	// Body is the exact raw body, as received.
	Body []byte
	// Header holds the request headers with canonical keys, as net/http
	// gives them.
	Header http.Header
	// Query is the URL's query.
	Query url.Values
}

// Verifier checks requests against one configuration, with its secrets
// decoded once. It is safe for concurrent use.
type Verifier struct {
	cfg     Config
	tol     time.Duration
	keys    [][]byte   // HMAC keys, one per secret
	tokens  [][32]byte // SHA-256 of each accepted token
	users   []userDigest
	newHash func() hash.Hash
	tmpl    []segment
	allow   []netip.Prefix
}

type userDigest struct{ user, pass [32]byte }

// ErrUnresolved is returned by New when the configuration names a
// connection whose secrets the caller has not filled in.
var ErrUnresolved = errors.New("secrets not resolved")

var presetTemplates = map[string][]segment{
	SchemeStandardWebhooks: {{kind: segID}, {lit: "."}, {kind: segTimestamp}, {lit: "."}, {kind: segBody}},
	SchemeGitHub:           {{kind: segBody}},
	SchemeStripe:           {{kind: segTimestamp}, {lit: "."}, {kind: segBody}},
	SchemeSlack:            {{lit: "v0:"}, {kind: segTimestamp}, {lit: ":"}, {kind: segBody}},
	SchemeShopify:          {{kind: segBody}},
}

// New validates cfg (see Config.Validate) and prepares a Verifier. A
// connection must already be resolved into Secrets or Users.
func New(cfg Config) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	v := &Verifier{cfg: cfg, tol: cfg.ToleranceDuration(), newHash: sha256.New}
	v.allow, _ = cfg.AllowPrefixes() // checked by Validate
	switch cfg.Scheme {
	case SchemeNone:
		return v, nil
	case SchemeBasic:
		if len(cfg.Users) == 0 {
			return nil, fmt.Errorf("%s.users: connection %q: %w", DefaultPath, cfg.Connection, ErrUnresolved)
		}
		for _, u := range cfg.Users {
			v.users = append(v.users, userDigest{sha256.Sum256([]byte(u.Username)), sha256.Sum256([]byte(u.Password))})
		}
		return v, nil
	}
	if len(cfg.Secrets) == 0 {
		return nil, fmt.Errorf("%s.secrets: connection %q: %w", DefaultPath, cfg.Connection, ErrUnresolved)
	}
	for _, s := range cfg.Secrets {
		switch cfg.Scheme {
		case SchemeToken:
			v.tokens = append(v.tokens, sha256.Sum256([]byte(s)))
		case SchemeStandardWebhooks:
			key, _ := standardWebhooksKey(s) // checked by Validate
			v.keys = append(v.keys, key)
		default:
			v.keys = append(v.keys, []byte(s))
		}
	}
	v.tmpl = presetTemplates[cfg.Scheme]
	if cfg.Scheme == SchemeHMAC {
		v.tmpl, _ = parseTemplate(cfg.Template) // checked by Validate
		if cfg.Algorithm == "sha512" {
			v.newHash = sha512.New
		}
	}
	return v, nil
}

// Config returns the configuration the Verifier was built from.
func (v *Verifier) Config() Config { return v.cfg }

// Verify checks one request with a fresh Verifier; see Verifier.Verify. A
// configuration problem is returned as a plain error (the receiver's fault,
// not the sender's), never as a *Rejection.
func Verify(cfg Config, req Request, now time.Time) error {
	v, err := New(cfg)
	if err != nil {
		return err
	}
	return v.Verify(req, now)
}

// Verify returns nil when the request carries valid credentials or a valid
// signature over its exact raw body, with a timestamp within the tolerance
// of now where the scheme signs one; otherwise a *Rejection.
func (v *Verifier) Verify(req Request, now time.Time) error {
	if r := v.verify(req, now); r != nil {
		return r
	}
	return nil
}

func (v *Verifier) verify(req Request, now time.Time) *Rejection {
	h := req.Header
	switch v.cfg.Scheme {
	case SchemeNone:
		return nil
	case SchemeToken:
		return v.verifyToken(req)
	case SchemeBasic:
		return v.verifyBasic(h)
	case SchemeStandardWebhooks:
		return v.verifyStandardWebhooks(req, now)
	case SchemeGitHub:
		hv, r := required(h, HeaderGitHubSignature)
		if r != nil {
			return r
		}
		sig, r := prefixedHex(hv[0], "sha256=", HeaderGitHubSignature)
		if r != nil {
			return r
		}
		return v.match(req.Body, "", "", sig)
	case SchemeStripe:
		return v.verifyStripe(req, now)
	case SchemeSlack:
		hv, r := required(h, HeaderSlackTimestamp, HeaderSlackSignature)
		if r != nil {
			return r
		}
		ts := hv[0]
		if r := v.checkTimestamp(HeaderSlackTimestamp, ts, false, now); r != nil {
			return r
		}
		sig, r := prefixedHex(hv[1], "v0=", HeaderSlackSignature)
		if r != nil {
			return r
		}
		return v.match(req.Body, ts, "", sig)
	case SchemeShopify:
		hv, r := required(h, HeaderShopifyHMAC)
		if r != nil {
			return r
		}
		sig, err := decodeBase64(hv[0])
		if err != nil {
			return malformed(HeaderShopifyHMAC)
		}
		return v.match(req.Body, "", "", sig)
	case SchemeHMAC:
		return v.verifyHMAC(req, now)
	}
	return unauthorized("unknown verification scheme") // unreachable after New
}

func missing(header string) *Rejection { return unauthorized("missing %s header", header) }

// required reads the named headers, in order; the first one absent is the
// rejection.
func required(h http.Header, names ...string) ([]string, *Rejection) {
	vals := make([]string, len(names))
	for i, name := range names {
		if vals[i] = h.Get(name); vals[i] == "" {
			return nil, missing(name)
		}
	}
	return vals, nil
}

// prefixedHex reads a "<prefix><hex>" signature (sha256=…, v0=…).
func prefixedHex(raw, prefix, header string) ([]byte, *Rejection) {
	hexSig, ok := cutPrefixFold(raw, prefix)
	if !ok {
		return nil, unauthorized("%s must start with %s", header, prefix)
	}
	sig, err := hex.DecodeString(hexSig)
	if err != nil {
		return nil, malformed(header)
	}
	return sig, nil
}

func malformed(header string) *Rejection { return unauthorized("malformed %s header", header) }

// match accepts when any signature equals the HMAC of the signed content
// under any key. Every pair is compared, in constant time.
func (v *Verifier) match(body []byte, timestamp, id string, sigs ...[]byte) *Rejection {
	ok := 0
	var sum [sha512.Size]byte
	for _, key := range v.keys {
		m := hmac.New(v.newHash, key)
		writeSigned(m, v.tmpl, body, timestamp, id)
		mac := m.Sum(sum[:0])
		for _, s := range sigs {
			if hmac.Equal(mac, s) {
				ok = 1
			}
		}
	}
	if ok == 0 {
		return unauthorized("signature does not match")
	}
	return nil
}

func (v *Verifier) verifyStandardWebhooks(req Request, now time.Time) *Rejection {
	hv, r := required(req.Header, HeaderWebhookID, HeaderWebhookTimestamp, HeaderWebhookSignature)
	if r != nil {
		return r
	}
	id, ts, raw := hv[0], hv[1], hv[2]
	if r := v.checkTimestamp(HeaderWebhookTimestamp, ts, false, now); r != nil {
		return r
	}
	var sigs [][]byte
	seen := false
	for _, part := range strings.Fields(raw) {
		version, b64, ok := strings.Cut(part, ",")
		if !ok || version != "v1" {
			continue // another version, such as v1a (asymmetric): not ours to check
		}
		seen = true
		if sig, err := base64.StdEncoding.DecodeString(b64); err == nil {
			sigs = append(sigs, sig)
		}
	}
	if !seen {
		return unauthorized("%s has no v1 signature", HeaderWebhookSignature)
	}
	return v.match(req.Body, ts, id, sigs...)
}

func (v *Verifier) verifyStripe(req Request, now time.Time) *Rejection {
	raw := req.Header.Get(HeaderStripeSignature)
	if raw == "" {
		return missing(HeaderStripeSignature)
	}
	var ts string
	var sigs [][]byte
	seen := false
	for _, part := range strings.Split(raw, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			if ts == "" {
				ts = val
			}
		case "v1":
			seen = true
			if sig, err := hex.DecodeString(val); err == nil {
				sigs = append(sigs, sig)
			}
		}
	}
	if ts == "" {
		return unauthorized("%s has no timestamp (t=)", HeaderStripeSignature)
	}
	if !seen {
		return unauthorized("%s has no v1 signature", HeaderStripeSignature)
	}
	if r := v.checkTimestamp(HeaderStripeSignature+" t", ts, false, now); r != nil {
		return r
	}
	return v.match(req.Body, ts, "", sigs...)
}

func (v *Verifier) verifyHMAC(req Request, now time.Time) *Rejection {
	h, c := req.Header, v.cfg
	raw := h.Get(c.Header)
	if raw == "" {
		return missing(c.Header)
	}
	var ts, id string
	if c.TimestampHeader != "" {
		if ts = h.Get(c.TimestampHeader); ts == "" {
			return missing(c.TimestampHeader)
		}
		if r := v.checkTimestamp(c.TimestampHeader, ts, c.TimestampUnit == "ms", now); r != nil {
			return r
		}
	}
	if c.IDHeader != "" {
		if id = h.Get(c.IDHeader); id == "" {
			return missing(c.IDHeader)
		}
	}
	enc, ok := cutPrefixFold(raw, c.Prefix)
	if !ok {
		return unauthorized("%s must start with %q", c.Header, c.Prefix)
	}
	var sig []byte
	var err error
	if c.Encoding == "base64" {
		sig, err = decodeBase64(enc)
	} else {
		sig, err = hex.DecodeString(enc)
	}
	if err != nil {
		return malformed(c.Header)
	}
	return v.match(req.Body, ts, id, sig)
}

func (v *Verifier) verifyToken(req Request) *Rejection {
	c := v.cfg
	var got string
	if c.Query != "" {
		if got = req.Query.Get(c.Query); got == "" {
			return unauthorized("missing %s query parameter", c.Query)
		}
	} else {
		raw := req.Header.Get(c.Header)
		if raw == "" {
			return missing(c.Header)
		}
		var ok bool
		if got, ok = cutPrefixFold(raw, c.Prefix); !ok {
			return unauthorized("%s must start with %q", c.Header, c.Prefix)
		}
	}
	digest := sha256.Sum256([]byte(got))
	ok := 0
	for _, t := range v.tokens {
		if hmac.Equal(digest[:], t[:]) {
			ok = 1
		}
	}
	if ok == 0 {
		return unauthorized("wrong token")
	}
	return nil
}

const basicChallenge = `Basic realm="switchboard", charset="UTF-8"`

func (v *Verifier) verifyBasic(h http.Header) *Rejection {
	refuse := func(reason string) *Rejection {
		return &Rejection{Status: http.StatusUnauthorized, Reason: reason, Challenge: basicChallenge}
	}
	raw := h.Get("Authorization")
	if raw == "" {
		return refuse("missing Authorization header")
	}
	enc, ok := cutPrefixFold(raw, "Basic ")
	if !ok {
		return refuse("Authorization is not Basic")
	}
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		return refuse("malformed Basic credentials")
	}
	user, pass, ok := strings.Cut(string(dec), ":")
	if !ok {
		return refuse("malformed Basic credentials")
	}
	u, p := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
	match := 0
	for _, d := range v.users {
		match |= hmacEqualInt(u[:], d.user[:]) & hmacEqualInt(p[:], d.pass[:])
	}
	if match == 0 {
		return refuse("wrong username or password")
	}
	return nil
}

func hmacEqualInt(a, b []byte) int {
	if hmac.Equal(a, b) {
		return 1
	}
	return 0
}

// checkTimestamp parses a Unix timestamp (seconds, or milliseconds when ms)
// and refuses it when it is further than the tolerance from now, either way.
func (v *Verifier) checkTimestamp(name, raw string, ms bool, now time.Time) *Rejection {
	n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	if err != nil {
		return unauthorized("invalid %s: not a Unix timestamp", name)
	}
	t := time.Unix(n, 0)
	if ms {
		t = time.UnixMilli(n)
	}
	d := now.Sub(t) // saturates rather than overflows
	switch {
	case d > v.tol:
		return unauthorized("timestamp is %s old; tolerance %s", describeSkew(d, v.tol), v.tol)
	case d < -v.tol:
		return unauthorized("timestamp is %s in the future; tolerance %s", describeSkew(-d, v.tol), v.tol)
	}
	return nil
}

// describeSkew renders how far off a timestamp is: whole seconds, unless
// rounding would make it look within the tolerance.
func describeSkew(d, tol time.Duration) string {
	if d < 0 { // -d of the minimum duration stays negative
		d = math.MaxInt64
	}
	if r := d.Round(time.Second); r > tol {
		return r.String()
	}
	return d.Round(time.Millisecond).String()
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// decodeBase64 accepts standard or URL-safe base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}
