// Package webhooksig signs and verifies webhooks; it sits below the triggers,
// the connectors and Switchboard's own events, which all use it.
//
// It decides whether an inbound webhook request is authentic:
// a static token, HTTP Basic, or an HMAC signature in one of the common
// presets (Standard Webhooks, GitHub, Stripe, Slack, Shopify) or a generic
// form, with a timestamp tolerance and several secrets at once for rotation.
// It also checks the caller's IP against an allowlist and builds signatures
// for outbound deliveries.
//
// Everything here is a pure function of the configuration, the exact raw
// body, the headers, the query, the peer address and an injected clock: no
// database, no HTTP server.
package webhooksig

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/fielderr"
)

// Schemes.
const (
	SchemeNone             = "none"
	SchemeToken            = "token"
	SchemeBasic            = "basic"
	SchemeStandardWebhooks = "standard-webhooks"
	SchemeGitHub           = "github"
	SchemeStripe           = "stripe"
	SchemeSlack            = "slack"
	SchemeShopify          = "shopify"
	SchemeHMAC             = "hmac"
)

// Schemes lists every scheme name, in the order a form offers them.
func Schemes() []string {
	return []string{SchemeNone, SchemeToken, SchemeBasic, SchemeStandardWebhooks, SchemeGitHub,
		SchemeStripe, SchemeSlack, SchemeShopify, SchemeHMAC}
}

// DefaultTolerance is how far a signed timestamp may be from now, either way,
// when the configuration does not say.
const DefaultTolerance = 5 * time.Minute

// DefaultPath is where the configuration sits in a workflow document; it
// prefixes the paths in Validate's errors.
const DefaultPath = "trigger.webhook.verify"

// StandardWebhooksSecretPrefix starts every Standard Webhooks secret.
const StandardWebhooksSecretPrefix = "whsec_"

// Redacted replaces secret values in Redact's output.
const Redacted = "[redacted]"

// Config is how one webhook endpoint verifies its requests, as it appears in
// a workflow document under trigger.webhook.verify.
type Config struct {
	// Scheme is none, token, basic, standard-webhooks, github, stripe, slack,
	// shopify or hmac.
	Scheme string `json:"scheme"`
	// Secrets are the signing secrets, or for token the accepted tokens. A
	// request passes when any one matches, so a new secret can be added
	// before the old one is removed. Standard Webhooks secrets look like
	// whsec_<base64>; every other scheme uses the secret's bytes as given.
	Secrets []string `json:"secrets,omitempty"`
	// Connection names a stored connection holding the secrets. The caller
	// resolves it into Secrets (or Users for basic) before verifying.
	Connection string `json:"connection,omitempty"`
	// Tolerance bounds the age of a signed timestamp, in both directions, as
	// a Go duration such as "5m" (default). Used by standard-webhooks,
	// stripe, slack, and hmac with a timestamp_header.
	Tolerance string `json:"tolerance,omitempty"`
	// Users are the accepted HTTP Basic credentials (basic).
	Users []BasicUser `json:"users,omitempty"`
	// Header is the header carrying the token (token) or the signature
	// (hmac), e.g. X-Api-Key or X-Signature.
	Header string `json:"header,omitempty"`
	// Query is the query parameter carrying the token (token), instead of a
	// header.
	Query string `json:"query,omitempty"`
	// Prefix precedes the token or signature in Header, e.g. "Bearer " or
	// "sha256=". Compared without regard to ASCII case.
	Prefix string `json:"prefix,omitempty"`
	// Algorithm is sha256 (default) or sha512 (hmac).
	Algorithm string `json:"algorithm,omitempty"`
	// Encoding of the signature is hex (default) or base64 (hmac).
	Encoding string `json:"encoding,omitempty"`
	// Template is the signed content (hmac), built from {body}, {timestamp}
	// and {id} with literal text between them, e.g. "{timestamp}.{body}".
	// Default "{body}".
	Template string `json:"template,omitempty"`
	// TimestampHeader carries the signed timestamp (hmac); setting it turns
	// on the tolerance check, and Template must then use {timestamp}.
	TimestampHeader string `json:"timestamp_header,omitempty"`
	// TimestampUnit is s (Unix seconds, default) or ms (Unix milliseconds).
	TimestampUnit string `json:"timestamp_unit,omitempty"`
	// IDHeader carries the message id that {id} stands for (hmac).
	IDHeader string `json:"id_header,omitempty"`
	// AllowIPs, when not empty, limits callers to these addresses and CIDRs.
	AllowIPs []string `json:"allow_ips,omitempty"`
}

// BasicUser is one accepted HTTP Basic credential.
type BasicUser struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// FieldError is one problem in a configuration, at a path such as
// "trigger.webhook.verify.secrets[0]".
type FieldError = fielderr.Error

// ValidationError lists every problem Validate found.
type ValidationError = fielderr.List

// Validate checks the configuration as written in a workflow document (a
// connection in place of secrets is fine) and returns a *ValidationError
// whose paths start with DefaultPath.
func (c Config) Validate() error { return c.ValidateAt(DefaultPath) }

// ValidateAt is Validate with another path prefix.
func (c Config) ValidateAt(path string) error {
	v := &checker{path: path}
	c.check(v)
	return v.err()
}

type checker struct {
	path string
	errs []*FieldError
}

func (v *checker) add(field, format string, args ...any) {
	p := v.path
	if field != "" {
		if p != "" {
			p += "."
		}
		p += field
	}
	v.errs = append(v.errs, &FieldError{Path: p, Message: fmt.Sprintf(format, args...)})
}

func (v *checker) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	return &ValidationError{Errors: v.errs}
}

// fields each scheme reads; any other field set is a mistake worth naming.
var schemeFields = map[string][]string{
	SchemeNone:             {"allow_ips"},
	SchemeToken:            {"secrets", "connection", "header", "query", "prefix", "allow_ips"},
	SchemeBasic:            {"users", "connection", "allow_ips"},
	SchemeStandardWebhooks: {"secrets", "connection", "tolerance", "allow_ips"},
	SchemeGitHub:           {"secrets", "connection", "allow_ips"},
	SchemeStripe:           {"secrets", "connection", "tolerance", "allow_ips"},
	SchemeSlack:            {"secrets", "connection", "tolerance", "allow_ips"},
	SchemeShopify:          {"secrets", "connection", "allow_ips"},
	SchemeHMAC: {"secrets", "connection", "tolerance", "header", "prefix", "algorithm", "encoding",
		"template", "timestamp_header", "timestamp_unit", "id_header", "allow_ips"},
}

func (c Config) setFields() []string {
	var out []string
	add := func(name string, set bool) {
		if set {
			out = append(out, name)
		}
	}
	add("secrets", len(c.Secrets) > 0)
	add("connection", c.Connection != "")
	add("tolerance", c.Tolerance != "")
	add("users", len(c.Users) > 0)
	add("header", c.Header != "")
	add("query", c.Query != "")
	add("prefix", c.Prefix != "")
	add("algorithm", c.Algorithm != "")
	add("encoding", c.Encoding != "")
	add("template", c.Template != "")
	add("timestamp_header", c.TimestampHeader != "")
	add("timestamp_unit", c.TimestampUnit != "")
	add("id_header", c.IDHeader != "")
	add("allow_ips", len(c.AllowIPs) > 0)
	return out
}

func (c Config) check(v *checker) {
	allowed, ok := schemeFields[c.Scheme]
	switch {
	case c.Scheme == "":
		v.add("scheme", "required (one of %s)", strings.Join(Schemes(), ", "))
		return
	case !ok:
		v.add("scheme", "unknown scheme %q (one of %s)", c.Scheme, strings.Join(Schemes(), ", "))
		return
	}
	for _, f := range c.setFields() {
		if !slices.Contains(allowed, f) {
			v.add(f, "not used by scheme %s", c.Scheme)
		}
	}
	if c.Tolerance != "" && slices.Contains(allowed, "tolerance") {
		if d, err := time.ParseDuration(c.Tolerance); err != nil {
			v.add("tolerance", "%q is not a duration such as 5m", c.Tolerance)
		} else if d <= 0 {
			v.add("tolerance", "must be positive")
		}
	}
	for i, s := range c.AllowIPs {
		if _, err := parsePrefix(s); err != nil {
			v.add(fmt.Sprintf("allow_ips[%d]", i), "%q is not an IP address or CIDR", s)
		}
	}
	switch c.Scheme {
	case SchemeNone:
	case SchemeToken:
		c.checkSecrets(v)
		switch {
		case c.Header == "" && c.Query == "":
			v.add("header", "name the header (or the query parameter, in query) that carries the token")
		case c.Header != "" && c.Query != "":
			v.add("query", "set header or query, not both")
		case c.Header != "":
			checkHeaderName(v, "header", c.Header)
		}
		if c.Prefix != "" && c.Header == "" {
			v.add("prefix", "only applies to a token in a header")
		}
	case SchemeBasic:
		if len(c.Users) == 0 && c.Connection == "" {
			v.add("users", "at least one username and password is required (or name a connection)")
		}
		for i, u := range c.Users {
			p := fmt.Sprintf("users[%d]", i)
			switch {
			case u.Username == "":
				v.add(p+".username", "required")
			case strings.Contains(u.Username, ":"):
				v.add(p+".username", "must not contain a colon")
			}
			if u.Password == "" {
				v.add(p+".password", "required")
			}
		}
	case SchemeHMAC:
		c.checkSecrets(v)
		if c.Header == "" {
			v.add("header", "name the header that carries the signature")
		} else {
			checkHeaderName(v, "header", c.Header)
		}
		if c.Algorithm != "" && c.Algorithm != "sha256" && c.Algorithm != "sha512" {
			v.add("algorithm", "must be sha256 or sha512")
		}
		if c.Encoding != "" && c.Encoding != "hex" && c.Encoding != "base64" {
			v.add("encoding", "must be hex or base64")
		}
		if c.TimestampUnit != "" && c.TimestampUnit != "s" && c.TimestampUnit != "ms" {
			v.add("timestamp_unit", "must be s (Unix seconds) or ms (Unix milliseconds)")
		}
		if c.TimestampHeader != "" {
			checkHeaderName(v, "timestamp_header", c.TimestampHeader)
		}
		if c.IDHeader != "" {
			checkHeaderName(v, "id_header", c.IDHeader)
		}
		tmpl, err := parseTemplate(c.Template)
		if err != nil {
			v.add("template", "%s", err.Error())
			break
		}
		uses := func(k segKind) bool {
			return slices.ContainsFunc(tmpl, func(s segment) bool { return s.kind == k })
		}
		switch {
		case uses(segTimestamp) && c.TimestampHeader == "":
			v.add("timestamp_header", "required when the template uses {timestamp}")
		case !uses(segTimestamp) && c.TimestampHeader != "":
			v.add("template", "must use {timestamp} when timestamp_header is set, or the timestamp is not signed")
		}
		if c.TimestampHeader == "" {
			if c.Tolerance != "" {
				v.add("tolerance", "needs a timestamp_header")
			}
			if c.TimestampUnit != "" {
				v.add("timestamp_unit", "needs a timestamp_header")
			}
		}
		switch {
		case uses(segID) && c.IDHeader == "":
			v.add("id_header", "required when the template uses {id}")
		case !uses(segID) && c.IDHeader != "":
			v.add("template", "must use {id} when id_header is set, or the id is not signed")
		}
	default: // the HMAC presets
		c.checkSecrets(v)
	}
}

func (c Config) checkSecrets(v *checker) {
	if len(c.Secrets) == 0 && c.Connection == "" {
		v.add("secrets", "at least one secret is required (or name a connection)")
	}
	for i, s := range c.Secrets {
		p := fmt.Sprintf("secrets[%d]", i)
		switch {
		case s == "":
			v.add(p, "must not be empty")
		case strings.TrimSpace(s) != s:
			v.add(p, "must not start or end with white space")
		case c.Scheme == SchemeStandardWebhooks:
			if _, err := standardWebhooksKey(s); err != nil {
				v.add(p, "%s", err.Error())
			}
		}
	}
}

// standardWebhooksKey decodes whsec_<base64> into the HMAC key.
func standardWebhooksKey(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, StandardWebhooksSecretPrefix)
	if !ok {
		return nil, fmt.Errorf("must start with %s", StandardWebhooksSecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(rest)
	}
	switch {
	case err != nil:
		return nil, fmt.Errorf("the part after %s is not valid base64", StandardWebhooksSecretPrefix)
	case len(key) < 16:
		return nil, fmt.Errorf("key is %d bytes; at least 16 are needed", len(key))
	}
	return key, nil
}

func checkHeaderName(v *checker, field, name string) {
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			v.add(field, "%q is not a valid header name", name)
			return
		}
	}
}

// isTokenChar reports whether b may appear in an HTTP header name (RFC 9110 tchar).
func isTokenChar(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}

// parsePrefix reads "203.0.113.0/24" or a single address "198.51.100.7".
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// AllowPrefixes parses AllowIPs (bare addresses become single-host prefixes).
func (c Config) AllowPrefixes() ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(c.AllowIPs))
	for i, s := range c.AllowIPs {
		p, err := parsePrefix(s)
		if err != nil {
			return nil, &FieldError{Path: fmt.Sprintf("allow_ips[%d]", i), Message: fmt.Sprintf("%q is not an IP address or CIDR", s)}
		}
		out = append(out, p)
	}
	return out, nil
}

// ToleranceDuration is the configured tolerance, or DefaultTolerance.
func (c Config) ToleranceDuration() time.Duration {
	if d, err := time.ParseDuration(c.Tolerance); err == nil && d > 0 {
		return d
	}
	return DefaultTolerance
}

// Redact returns a copy with every secret and password replaced by
// Redacted, fit for logs, the API and exported documents.
func (c Config) Redact() Config {
	out := c
	if c.Secrets != nil {
		out.Secrets = make([]string, len(c.Secrets))
		for i := range out.Secrets {
			out.Secrets[i] = Redacted
		}
	}
	if c.Users != nil {
		out.Users = make([]BasicUser, len(c.Users))
		for i, u := range c.Users {
			out.Users[i] = BasicUser{Username: u.Username, Password: Redacted}
		}
	}
	out.AllowIPs = slices.Clone(c.AllowIPs)
	return out
}

// SecretValues lists every secret in the configuration (secrets, tokens,
// passwords), so a caller can scrub them from anything it records.
func (c Config) SecretValues() []string {
	out := slices.Clone(c.Secrets)
	for _, u := range c.Users {
		out = append(out, u.Password)
	}
	return out
}

// CredentialHeaders names the request headers that carry a credential under
// this configuration (a token or Basic authorization, never a signature), so
// a caller can redact them before recording a request.
func (c Config) CredentialHeaders() []string {
	switch c.Scheme {
	case SchemeToken:
		if c.Header != "" {
			return []string{c.Header}
		}
	case SchemeBasic:
		return []string{"Authorization"}
	}
	return nil
}

// CredentialQuery names the query parameters that carry a credential.
func (c Config) CredentialQuery() []string {
	if c.Scheme == SchemeToken && c.Query != "" {
		return []string{c.Query}
	}
	return nil
}
