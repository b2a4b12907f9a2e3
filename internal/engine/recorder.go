package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/metrics"
	"github.com/switchboard-dev/switchboard/internal/netguard"
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
	latency *prometheus.HistogramVec // by outcome; nil observes nothing
	// refused is the last 401 or 403 answer: the service refused the
	// connection's credentials.
	refused int
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
		Method: req.Method, URL: rc.redact.Text(redactURL(req.URL.String())),
		RequestHeaders: store.MustJSON(rc.redact.Value(redactHeaders(req.Header))),
		RequestBody:    rc.redact.Text(capText(reqBody)),
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
		if d.Status == http.StatusUnauthorized || d.Status == http.StatusForbidden {
			rc.refused = d.Status
		}
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
		msg := err.Error()
		if timedOut(req.Context(), err) {
			// The client's deadline shows as "request canceled" or
			// "context deadline exceeded" depending on where it struck.
			msg = fmt.Sprintf("timed out after %s: %s", elapsed.Round(time.Millisecond), msg)
		}
		d.Error = rc.redact.Text(msg)
	}
	d.ErrorKind = string(deliveryKind(d.Status, err))
	rc.x.addDelivery(d)
	return resp, err
}

// timedOut reports an attempt stopped by a deadline (the client's timeout
// or the step's), not by a cancellation.
func timedOut(ctx context.Context, err error) bool {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return true
	}
	// http.Client's own timer stops a request at its deadline through
	// Request.Cancel ("request canceled"), a moment before the context's
	// copy of that deadline fires: a failure past the deadline is a timeout.
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// deliveryKind classifies one attempt by the SDK's retry rules (the same
// actionFailed applies to the step): transport failures by cause, answers
// by status.
func deliveryKind(status int, err error) connectors.ErrorKind {
	switch {
	case err == nil:
		return connectors.StatusKind(status)
	case errors.Is(err, netguard.ErrBlocked), errors.Is(err, netguard.ErrTooLarge), connectors.UntrustedCertificate(err):
		return connectors.KindPermanent
	default:
		return connectors.KindRetryable
	}
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
