package connectors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// UserAgent is what every built-in connector sends.
const UserAgent = "Switchboard/1"

// maxAnswerBytes caps what Exchange reads of an answer when the client does
// not (the engine's guarded client has its own cap).
const maxAnswerBytes = 16 << 20

// NewRequest builds an outbound request: body (nil for none) with its
// Content-Type (when contentType is set) and Switchboard's User-Agent. The
// error is BadInput and never quotes the URL, which may hold a token.
func NewRequest(ctx context.Context, method, rawURL string, body []byte, contentType string) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hreq, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, BadInput(fmt.Errorf("the request URL is not usable: %w", ue.Err))
		}
		return nil, BadInput(err)
	}
	if body != nil && contentType != "" {
		hreq.Header.Set("Content-Type", contentType)
	}
	hreq.Header.Set("User-Agent", UserAgent)
	return hreq, nil
}

// Exchange sends hreq with client (nil: http.DefaultClient) and reads the
// whole answer. Both failures are classified by TransportError (retryable,
// except an untrusted server certificate) and name the call by what
// ("the Discord webhook", "HubSpot GET /crm/v3/…"), which must hold no
// secret; the URL a *url.Error quotes is dropped, since a token may travel
// in it.
func Exchange(client *http.Client, hreq *http.Request, what string) (*http.Response, []byte, error) {
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(hreq)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, nil, TransportError(fmt.Errorf("calling %s: %w", what, err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return nil, nil, TransportError(fmt.Errorf("reading the answer of %s: %w", what, err))
	}
	return resp, body, nil
}

// StatusError gives err the kind an HTTP status calls for (StatusKind, the
// retry rules of ErrorKind): 429 and 503 are rate limits to retry after
// wait, 408, 425 and other 5xx can pass on a retry, any other status cannot.
// Statuses below 400 return nil.
func StatusError(status int, wait time.Duration, err error) error {
	switch StatusKind(status) {
	case KindRateLimited:
		return RateLimited(wait, err)
	case KindRetryable:
		return Retryable(err)
	case KindPermanent:
		return Permanent(err)
	}
	return nil
}

// HTTPURL parses raw as an absolute http:// or https:// address with a host.
// It reports only whether raw is one, so a caller's error need not quote a
// URL that may be a credential.
func HTTPURL(raw string) (*url.URL, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, false
	}
	return u, true
}

// BaseURL is a connection's API base URL: the credential trimmed of spaces
// and trailing slashes, def when empty; ok is false when it is not an
// http(s) address.
func BaseURL(credential, def string) (base *url.URL, ok bool) {
	raw := strings.TrimRight(strings.TrimSpace(credential), "/")
	if raw == "" {
		raw = def
	}
	return HTTPURL(raw)
}

// Seconds converts a delay a service gives in (fractional) seconds, rounded
// to the millisecond; zero or less is no delay.
func Seconds(secs float64) time.Duration {
	if secs <= 0 || math.IsInf(secs, 0) || math.IsNaN(secs) {
		return 0
	}
	return time.Duration(math.Round(secs*1000)) * time.Millisecond
}

// Clip shortens a service's error text to limit characters, so an answer
// quoted into an error stays readable.
func Clip(s string, limit int) string {
	if r := []rune(s); len(r) > limit {
		return string(r[:limit]) + "…"
	}
	return s
}
