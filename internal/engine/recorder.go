package engine

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
)

// recordCap bounds the request and response bodies kept in a delivery record.
const recordCap = 64 << 10

// recorder is a RoundTripper that records every attempt: a "sending" row is
// committed (with the run's buffered step records and its lease) before the
// call, and the completed row is buffered for the run's next write.
type recorder struct {
	next    http.RoundTripper
	x       *execution
	runID   string
	stepID  string
	itemKey string
	attempt int
	redact  *redactor
}

func (rc *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil && req.GetBody != nil {
		if b, err := req.GetBody(); err == nil {
			reqBody, _ = io.ReadAll(io.LimitReader(b, recordCap+1))
			b.Close()
		}
	}
	rc.attempt++
	d := &store.Delivery{ID: store.NewID(), State: store.DeliverySending,
		RunID: rc.runID, StepID: rc.stepID, ItemKey: rc.itemKey, Attempt: rc.attempt,
		Method: req.Method, URL: rc.redact.text(redactURL(req.URL.String())),
		RequestHeaders: store.MustJSON(rc.redact.value(redactHeaders(req.Header))),
		RequestBody:    rc.redact.text(capText(reqBody)),
		CreatedAt:      time.Now().UTC(),
	}
	if err := rc.x.flush(req.Context(), nil, d); err != nil {
		rc.x.setAbort(err)
		return nil, fmt.Errorf("recording the attempt before sending it: %w", err)
	}
	done := *d // the sending row is written; the completed one goes out later
	d = &done
	d.State = store.DeliveryCompleted
	start := time.Now()
	resp, err := rc.next.RoundTrip(req)
	if err == nil {
		// Read the (already size-capped) body here so the record has it and
		// the connector still gets every byte.
		var body []byte
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		d.Status = resp.StatusCode
		d.ResponseHeaders = store.MustJSON(rc.redact.value(redactHeaders(resp.Header)))
		d.ResponseBody = rc.redact.text(capText(body))
		if err != nil {
			resp = nil
		}
	}
	d.LatencyMS = time.Since(start).Milliseconds()
	if err != nil {
		d.Error = rc.redact.text(err.Error())
	}
	rc.x.addDelivery(d)
	return resp, err
}

func capText(b []byte) string {
	if len(b) <= recordCap {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	// A rune cut in half at the cap is dropped, not shown as garbage.
	return strings.ToValidUTF8(string(b[:recordCap]), "") + "\n[truncated by Switchboard]"
}

// sensitive header names (lower case) or fragments whose values are hidden in
// records.
var sensitiveHeaderFragments = []string{"authorization", "cookie", "token", "secret", "signature", "api-key", "apikey", "password"}

func redactHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		v := strings.Join(vs, ", ")
		lk := strings.ToLower(k)
		for _, frag := range sensitiveHeaderFragments {
			if strings.Contains(lk, frag) {
				v = "[redacted]"
				break
			}
		}
		out[k] = v
	}
	return out
}

// redactURL hides userinfo passwords in URLs.
func redactURL(u string) string {
	scheme := strings.Index(u, "://")
	if scheme < 0 {
		return u
	}
	rest := u[scheme+3:]
	slash := strings.IndexAny(rest, "/?#")
	hostPart := rest
	if slash >= 0 {
		hostPart = rest[:slash]
	}
	at := strings.LastIndex(hostPart, "@")
	if at < 0 {
		return u
	}
	return u[:scheme+3] + "[redacted]@" + rest[at+1:]
}

// redactor hides a connection's secret values wherever they appear in what
// is recorded: URLs (a bot token in a path), headers, bodies, outputs.
type redactor struct{ secrets []string }

func newRedactor(creds map[string]string) *redactor {
	r := &redactor{}
	for _, v := range creds {
		if len(v) >= 4 { // shorter values would blank out ordinary text
			r.secrets = append(r.secrets, v)
		}
	}
	return r
}

func (r *redactor) text(s string) string {
	if r == nil {
		return s
	}
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, "[redacted]")
	}
	return s
}

func (r *redactor) value(v any) any {
	if r == nil || len(r.secrets) == 0 {
		return v
	}
	switch x := v.(type) {
	case string:
		return r.text(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, sub := range x {
			out[k] = r.value(sub)
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, sub := range x {
			out[k] = r.text(sub)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, sub := range x {
			out[i] = r.value(sub)
		}
		return out
	default:
		return v
	}
}

func (r *redactor) err(err error) error {
	if r == nil || len(r.secrets) == 0 || err == nil {
		return err
	}
	msg := err.Error()
	if red := r.text(msg); red != msg {
		return &redactedError{msg: red, err: err}
	}
	return err
}

// redactedError keeps the error chain (kinds, sentinels) with a safe message.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
