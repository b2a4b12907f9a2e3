package connectors

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryAfter reads a Retry-After header value: seconds (fractions allowed)
// or an HTTP date; 0 when absent or unreadable.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
		return Seconds(secs)
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// StatusKind is the kind of a non-2xx HTTP status by the retry rules (see
// ErrorKind); "" for statuses below 400.
func StatusKind(code int) ErrorKind {
	switch {
	case code < 400:
		return ""
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		return KindRateLimited
	case code == http.StatusRequestTimeout || code == http.StatusTooEarly || code >= 500:
		return KindRetryable
	default:
		return KindPermanent
	}
}

// TransportError classifies an error of http.Client.Do or of reading the
// body: an untrusted server certificate is permanent, anything else
// (refused, reset, timed out) retryable.
func TransportError(err error) error {
	if UntrustedCertificate(err) {
		return Permanent(err)
	}
	return Retryable(err)
}

// UntrustedCertificate reports a TLS server certificate that failed
// verification (unknown authority, wrong host name, expired).
func UntrustedCertificate(err error) bool {
	var verr *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &verr) || errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid)
}

// ParseBody decodes a JSON response (by Content-Type, or by its first byte
// when the type is missing) and returns any other body as text.
func ParseBody(contentType string, b []byte) any {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/json" || strings.HasSuffix(mt, "+json") || (mt == "" && len(b) > 0 && (b[0] == '{' || b[0] == '[')) {
		var v any
		if err := json.Unmarshal(b, &v); err == nil {
			return v
		}
	}
	return string(b)
}

// FlattenHeader joins repeated header values, for step outputs.
func FlattenHeader(h http.Header) map[string]any {
	out := make(map[string]any, len(h))
	for k, v := range h {
		out[k] = strings.Join(v, ", ")
	}
	return out
}
