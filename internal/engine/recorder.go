package engine

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/metrics"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// recordCap bounds the request and response bodies kept in a delivery record.
const recordCap = 64 << 10

// recorder is a RoundTripper that writes a delivery row for every attempt.
type recorder struct {
	next    http.RoundTripper
	st      *store.Store
	runID   string
	stepID  string
	itemKey string
	attempt int
	redact  *redactor
	onError func(error)
	latency *prometheus.HistogramVec // by outcome; nil observes nothing
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
	d := &store.Delivery{
		RunID: rc.runID, StepID: rc.stepID, ItemKey: rc.itemKey, Attempt: rc.attempt,
		Method: req.Method, URL: rc.redact.Text(redactURL(req.URL.String())),
		RequestHeaders: store.MustJSON(rc.redact.Value(redactHeaders(req.Header))),
		RequestBody:    rc.redact.Text(capText(reqBody)),
		CreatedAt:      time.Now().UTC(),
	}
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
		d.ResponseHeaders = store.MustJSON(rc.redact.Value(redactHeaders(resp.Header)))
		d.ResponseBody = rc.redact.Text(capText(body))
		if err != nil {
			resp = nil
		}
	}
	elapsed := time.Since(start)
	d.LatencyMS = elapsed.Milliseconds()
	if rc.latency != nil {
		rc.latency.WithLabelValues(metrics.StatusClass(d.Status)).Observe(elapsed.Seconds())
	}
	if err != nil {
		d.Error = rc.redact.Text(err.Error())
	}
	// Record even when the run's context is canceled: the attempt happened.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(req.Context()), 10*time.Second)
	defer cancel()
	if rerr := rc.st.CreateDelivery(ctx, d); rerr != nil && rc.onError != nil {
		rc.onError(rerr)
	}
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
// redactor hides a step's credential values (the SDK's Redactor).
type redactor = connectors.Redactor

func newRedactor(creds map[string]string) *redactor { return connectors.NewRedactor(creds) }
