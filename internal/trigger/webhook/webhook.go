// Package webhook receives /hooks/{token} requests. Every request is hostile
// until verified: the receiver finds the endpoint, checks method, rate, IP,
// size and signature, parses the body, drops duplicates and unwanted event
// types, and only then commits the inbound request, its run and the run's
// queue job in one transaction before answering. Every request to a known
// endpoint lands in its inbox with a verdict and a reason.
package webhook

import (
	"context"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/switchboard-dev/switchboard/internal/dbhealth"
	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/events"
	"github.com/switchboard-dev/switchboard/internal/expr"
	"github.com/switchboard-dev/switchboard/internal/ratelimit"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/tlsconf"
	"github.com/switchboard-dev/switchboard/internal/webhooksig"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

// Starter starts runs (engine.Engine): fn's rows and runs commit together.
type Starter interface {
	StartRuns(ctx context.Context, fn func(tx *engine.StartTx) error) error
}

// Compiler returns a version's compiled document (cached by the engine).
type Compiler interface {
	Compiled(ctx context.Context, versionID string) (*workflow.Compiled, error)
}

// SecretSource opens a named connection's fields.
type SecretSource interface {
	Fields(ctx context.Context, name string) (map[string]string, error)
}

// Options are the instance-wide webhook settings.
type Options struct {
	MaxBody       int64 // default body cap (a workflow may set its own, up to 25 MiB)
	RatePerMinute int   // default per-endpoint rate limit (0: DefaultRatePerMinute)
	// Limits holds the "webhook" limiter (shared through the database on
	// PostgreSQL); nil limits per process.
	Limits         *ratelimit.Registry
	TrustedProxies []netip.Prefix // peers whose X-Forwarded-For is believed
	DedupeWindow   time.Duration  // default 7 days
	// Secrets opens the connection a verify block names (may be nil).
	Secrets SecretSource
	// Health tells an unreachable database (503, retry) from any other
	// storage error (500); nil pings the store.
	Health *dbhealth.Monitor
	Logger *slog.Logger
	Now    func() time.Time
}

// Receiver handles webhook requests.
type Receiver struct {
	st       *store.Store
	queue    Starter
	compiler Compiler
	o        Options

	limit *ratelimit.Limiter // buckets by workflow id

	mu        sync.Mutex
	verifiers *lru.Cache[string, *webhooksig.Verifier] // by version id; least recently used goes first
}

// DefaultRatePerMinute is the default per-endpoint limit: 100 a second
// sustained, with bursts of Burst(6000) = 1000 at once, so a provider
// flushing its backlog is not refused.
const DefaultRatePerMinute = 6000

// Burst is an endpoint's burst for a rate: ten seconds' allowance, at least 10.
func Burst(perMinute int) int { return max(10, perMinute/6) }

// New returns a Receiver.
func New(st *store.Store, queue Starter, compiler Compiler, o Options) *Receiver {
	if o.RatePerMinute <= 0 {
		o.RatePerMinute = DefaultRatePerMinute
	}
	if o.Limits == nil {
		o.Limits = ratelimit.NewRegistry(nil)
	}
	if o.DedupeWindow <= 0 {
		o.DedupeWindow = 7 * 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Health == nil {
		o.Health = dbhealth.New(st.Ping, dbhealth.Options{Logger: o.Logger})
	}
	return &Receiver{st: st, queue: queue, compiler: compiler, o: o,
		limit:     o.Limits.Limiter("webhook", ratelimit.Limit{PerMinute: o.RatePerMinute, Burst: Burst(o.RatePerMinute)}),
		verifiers: verifierCache()}
}

// Error is a refusal with the HTTP status the sender gets.
type Error struct {
	Status     int
	Reason     string
	Allow      []string      // for 405
	RetryAfter time.Duration // for 429 and 503
}

func (e *Error) Error() string { return e.Reason }

// Reply is what the sender gets when the request is not refused.
type Reply struct {
	Status int
	Header http.Header
	Body   any // JSON
}

// inboundBodyCap bounds the body copy kept in the inbox.
const inboundBodyCap = 64 << 10

// autoDedupeHeaders identify a delivery when the workflow sets no dedupe.
var autoDedupeHeaders = []string{"Webhook-Id", "X-Github-Delivery", "Idempotency-Key"}

// request is one request on its way through the checks.
type request struct {
	r        *Receiver
	ctx      context.Context
	w        *store.Workflow
	in       *store.InboundRequest
	redactor func(http.Header) map[string]any
}

func (q *request) refuse(e *Error) (*Reply, error) {
	q.in.Verdict, q.in.Reason = store.VerdictRejected, e.Reason
	q.record()
	return nil, e
}

func (q *request) record() {
	// The inbox must not fail the answer: a refused request stays refused.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(q.ctx), 5*time.Second)
	defer cancel()
	err := q.r.st.InTx(ctx, func(tx *store.Store, _ *sql.Tx) error {
		if err := tx.CreateInbound(ctx, q.in); err != nil {
			return err
		}
		if q.in.Verdict != store.VerdictRejected {
			return nil
		}
		// The inbox row and its webhook.rejected event commit together.
		return events.Record(ctx, tx, events.WebhookRejected, q.w.ID, events.WebhookRejectedData{
			WorkflowID: q.w.ID, RequestID: q.in.ID, Method: q.in.Method, SourceIP: q.in.SourceIP,
			Reason: q.in.Reason, ReceivedAt: q.in.ReceivedAt.UTC()})
	})
	if err != nil {
		q.r.o.Logger.Warn("recording webhook in the inbox", "workflow_id", q.w.ID, "verdict", q.in.Verdict, "error", err)
	}
}

// Receive handles one request for token. test marks the workflow's test URL:
// the request is checked the same way, then kept as sample data, not run.
func (r *Receiver) Receive(ctx context.Context, token string, req *http.Request, test bool) (*Reply, error) {
	received := r.o.Now().UTC()
	if store.CleanText(token) != token {
		// No token has such bytes; PostgreSQL would refuse to compare them.
		return nil, &Error{Status: http.StatusNotFound, Reason: "no webhook endpoint has this URL"}
	}
	w, err := r.st.GetWorkflowByToken(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &Error{Status: http.StatusNotFound, Reason: "no webhook endpoint has this URL"}
	}
	if err != nil {
		return nil, r.unavailable(ctx, err)
	}
	if w.TriggerType != "webhook" {
		// Form and other tokens share the column; they open no webhook.
		return nil, &Error{Status: http.StatusNotFound, Reason: "no webhook endpoint has this URL"}
	}
	q := &request{r: r, ctx: ctx, w: w, redactor: redactHeaders(nil),
		in: &store.InboundRequest{WorkflowID: w.ID, ReceivedAt: received, Method: req.Method, Path: req.URL.Path,
			SourceIP: peerIP(req.RemoteAddr)}}
	q.in.Headers = store.MustJSON(q.redactor(req.Header))
	q.in.Query = store.MustJSON(flatten(req.URL.Query()))
	if !w.Active && !test {
		return q.refuse(&Error{Status: http.StatusNotFound, Reason: "the workflow behind this webhook is not active"})
	}
	version, err := r.st.GetCurrentVersion(ctx, w)
	if err != nil {
		return nil, r.unavailable(ctx, err)
	}
	c, err := r.compiler.Compiled(ctx, version.ID)
	if err != nil {
		return nil, r.unavailable(ctx, err)
	}
	wh := c.Doc.Trigger.Webhook
	if wh == nil {
		wh = &workflow.WebhookTrigger{}
	}
	ver, err := r.verifier(ctx, version.ID, wh)
	if err != nil {
		return q.refuse(&Error{Status: http.StatusInternalServerError, Reason: "this endpoint's verification is not configured correctly: " + err.Error()})
	}
	cfg := ver.Config()
	q.redactor = redactHeaders(cfg.CredentialHeaders())
	q.in.Headers = store.MustJSON(q.redactor(req.Header))
	q.in.Query = store.MustJSON(redactQuery(req.URL.Query(), cfg.CredentialQuery()))

	methods := []string{http.MethodPost}
	if len(wh.Methods) > 0 {
		methods = make([]string, len(wh.Methods))
		for i, m := range wh.Methods {
			methods[i] = strings.ToUpper(m)
		}
	}
	if !slices.Contains(methods, req.Method) {
		return q.refuse(&Error{Status: http.StatusMethodNotAllowed, Allow: methods,
			Reason: fmt.Sprintf("method %s is not accepted here (allowed: %s)", req.Method, strings.Join(methods, ", "))})
	}
	if cc := wh.ClientCert; cc != nil {
		var peer []*x509.Certificate
		if req.TLS != nil {
			peer = req.TLS.PeerCertificates
		}
		if err := tlsconf.CheckClient(peer, cc.CA, cc.Subjects, received); err != nil {
			reason := err.Error()
			if req.TLS == nil {
				reason = "client certificate required, but the request did not come over HTTPS (serve with --tls-cert/--tls-key)"
			}
			return q.refuse(&Error{Status: http.StatusUnauthorized, Reason: reason})
		}
	}
	if client, err := ver.AllowIP(req.RemoteAddr, strings.Join(req.Header.Values("X-Forwarded-For"), ","), r.o.TrustedProxies); err != nil {
		if client.IsValid() {
			q.in.SourceIP = client.String()
		}
		return q.refuse(&Error{Status: http.StatusForbidden, Reason: err.Error()})
	} else if client.IsValid() {
		q.in.SourceIP = client.String()
	}
	if wait, ok := r.allow(ctx, w.ID, wh.RateLimit, received); !ok {
		return q.refuse(&Error{Status: http.StatusTooManyRequests, RetryAfter: wait,
			Reason: "rate limit exceeded for this endpoint; retry later"})
	}
	maxBody := r.o.MaxBody
	if wh.MaxBody > 0 {
		maxBody = wh.MaxBody
	}
	raw, err := io.ReadAll(http.MaxBytesReader(nil, req.Body, maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		q.in.BodySize = int(maxBody) + 1
		return q.refuse(&Error{Status: http.StatusRequestEntityTooLarge,
			Reason: fmt.Sprintf("body is larger than the %d-byte limit", maxBody)})
	}
	if err != nil {
		return q.refuse(&Error{Status: http.StatusBadRequest, Reason: "reading body: " + err.Error()})
	}
	q.in.BodySize = len(raw)
	q.in.Body, q.in.BodyRaw = capString(raw), capBytes(raw)
	if err := ver.Verify(webhooksig.Request{Body: raw, Header: req.Header, Query: req.URL.Query()}, received); err != nil {
		var rej *webhooksig.Rejection
		if errors.As(err, &rej) {
			return q.refuse(&Error{Status: rej.Status, Reason: rej.Reason})
		}
		return q.refuse(&Error{Status: http.StatusUnauthorized, Reason: "verification failed"})
	}
	body, perr := parseBody(req.Header.Get("Content-Type"), raw)
	if perr != nil {
		return q.refuse(&Error{Status: http.StatusBadRequest, Reason: perr.Error()})
	}
	// Expressions see the same text on both databases: PostgreSQL's jsonb
	// cannot hold NUL, so NUL and invalid UTF-8 become U+FFFD everywhere.
	trigger := store.CleanValue(map[string]any{
		"body": body, "raw": rawText(raw), "headers": q.redactor(req.Header),
		"query":  redactQuery(req.URL.Query(), cfg.CredentialQuery()),
		"method": req.Method, "received_at": received.Format(time.RFC3339Nano),
	}).(map[string]any)
	if test {
		return r.capture(q, trigger)
	}
	if ev := wh.Events; ev != nil {
		typ, err := eventType(ev, req.Header, trigger)
		if err != nil {
			return q.refuse(&Error{Status: http.StatusBadRequest, Reason: "reading the event type: " + err.Error()})
		}
		if !slices.Contains(ev.Accept, typ) {
			q.in.Verdict, q.in.Reason = store.VerdictIgnored, fmt.Sprintf("event type %q is not one this workflow accepts", typ)
			q.record()
			return &Reply{Status: http.StatusAccepted, Body: map[string]any{"ignored": true, "reason": q.in.Reason}}, nil
		}
	}
	key, window, err := r.dedupeKey(wh.Dedupe, req.Header, trigger)
	if err != nil {
		return q.refuse(&Error{Status: http.StatusBadRequest, Reason: "reading the event id: " + err.Error()})
	}
	run := &store.Run{ID: store.NewID(), WorkflowID: w.ID, VersionID: version.ID, Version: version.Version,
		State: store.RunQueued, TriggerType: "webhook", Trigger: store.MustJSON(trigger), CreatedAt: received}
	duplicateOf := ""
	err = r.queue.StartRuns(ctx, func(tx *engine.StartTx) error {
		if key != "" {
			first, claimed, err := tx.Store().ClaimEvent(ctx, w.ID, key, run.ID, received, window)
			if err != nil {
				return err
			}
			if !claimed {
				duplicateOf = first
				return errDuplicate
			}
		}
		q.in.Verdict, q.in.RunID = store.VerdictAccepted, &run.ID
		if err := tx.Store().CreateInbound(ctx, q.in); err != nil {
			return err
		}
		return tx.Run(ctx, run)
	})
	if errors.Is(err, errDuplicate) {
		q.in.Verdict, q.in.Reason, q.in.RunID = store.VerdictDuplicate, "event "+key+" was already received", &duplicateOf
		q.record()
		return &Reply{Status: http.StatusOK, Body: map[string]any{"run_id": duplicateOf, "duplicate": true}}, nil
	}
	if err != nil {
		return nil, r.unavailable(ctx, err)
	}
	if wh.Respond == "sync" && wh.Response != nil {
		return r.waitForReply(ctx, run.ID, wh.Response)
	}
	return &Reply{Status: http.StatusAccepted, Body: map[string]any{"run_id": run.ID}}, nil
}

var errDuplicate = errors.New("duplicate event")

func (r *Receiver) capture(q *request, trigger map[string]any) (*Reply, error) {
	if err := r.st.SaveSample(q.ctx, q.w.ID, store.MustJSON(trigger), q.in.ReceivedAt); err != nil {
		return nil, r.unavailable(q.ctx, err)
	}
	q.in.Verdict, q.in.Reason = store.VerdictCaptured, "kept as the workflow's sample data (test URL)"
	q.record()
	return &Reply{Status: http.StatusOK, Body: map[string]any{"captured": true}}, nil
}

// verifier returns the version's verifier, built once; one whose secrets
// live in a connection is built per request, so a rotated secret applies at
// once.
func (r *Receiver) verifier(ctx context.Context, versionID string, wh *workflow.WebhookTrigger) (*webhooksig.Verifier, error) {
	if wh.Verify != nil && wh.Verify.Connection != "" {
		return r.connectionVerifier(ctx, *wh.Verify)
	}
	if v, ok := r.verifiers.Get(versionID); ok {
		return v, nil
	}
	cfg := webhooksig.Config{Scheme: webhooksig.SchemeNone}
	if wh.Verify != nil {
		cfg = *wh.Verify
	}
	v, err := webhooksig.New(cfg)
	if err != nil {
		return nil, err
	}
	r.verifiers.Add(versionID, v)
	return v, nil
}

func verifierCache() *lru.Cache[string, *webhooksig.Verifier] {
	c, err := lru.New[string, *webhooksig.Verifier](1000)
	if err != nil {
		panic(err) // only for a size <= 0
	}
	return c
}

func (r *Receiver) connectionVerifier(ctx context.Context, cfg webhooksig.Config) (*webhooksig.Verifier, error) {
	if r.o.Secrets == nil {
		return nil, fmt.Errorf("connection %q cannot be opened here", cfg.Connection)
	}
	fields, err := r.o.Secrets.Fields(ctx, cfg.Connection)
	if err != nil {
		return nil, fmt.Errorf("connection %q: %w", cfg.Connection, err)
	}
	if cfg.Scheme == webhooksig.SchemeBasic {
		cfg.Users = []webhooksig.BasicUser{{Username: fields["username"], Password: fields["password"]}}
	} else {
		for _, v := range strings.Split(fields["secrets"], ",") {
			if v = strings.TrimSpace(v); v != "" {
				cfg.Secrets = append(cfg.Secrets, v)
			}
		}
		if v := fields["secret"]; v != "" {
			cfg.Secrets = append([]string{v}, cfg.Secrets...)
		}
	}
	cfg.Connection = ""
	return webhooksig.New(cfg)
}

// allow takes a token from the endpoint's bucket and says how long to wait
// when it is empty. A limiter that cannot reach the database lets the
// request on: recording it needs the database anyway.
func (r *Receiver) allow(ctx context.Context, workflowID string, perMinute int, now time.Time) (time.Duration, bool) {
	if perMinute <= 0 {
		perMinute = r.o.RatePerMinute
	}
	d, err := r.limit.Allow(ctx, workflowID, ratelimit.Limit{PerMinute: perMinute, Burst: Burst(perMinute)}, now)
	if err != nil {
		r.o.Logger.Debug("webhook rate limit not checked", "error", err)
	}
	if d.Allowed {
		return 0, true
	}
	return max(d.RetryAfter, time.Second).Round(time.Second), false
}

func (r *Receiver) dedupeKey(d *workflow.Dedupe, h http.Header, trigger map[string]any) (string, time.Duration, error) {
	window := r.o.DedupeWindow
	if d != nil && d.Window != "" {
		if w, err := time.ParseDuration(d.Window); err == nil {
			window = w
		}
	}
	switch {
	case d != nil && d.Disabled:
		return "", 0, nil
	case d != nil && d.Header != "":
		if v := h.Get(d.Header); v != "" {
			return "h:" + v, window, nil
		}
		return "", 0, nil
	case d != nil && d.Expression != "":
		p, err := expr.Compile(d.Expression)
		if err != nil {
			return "", 0, err
		}
		v, err := p.Run(map[string]any{"trigger": trigger})
		if err != nil {
			return "", 0, err
		}
		if v == nil || v == "" {
			return "", 0, nil
		}
		return "e:" + expr.Stringify(v), window, nil
	}
	for _, name := range autoDedupeHeaders {
		if v := h.Get(name); v != "" {
			return "h:" + v, window, nil
		}
	}
	return "", 0, nil
}

func eventType(ev *workflow.EventFilter, h http.Header, trigger map[string]any) (string, error) {
	if ev.Header != "" {
		return h.Get(ev.Header), nil
	}
	p, err := expr.Compile(ev.Expression)
	if err != nil {
		return "", err
	}
	v, err := p.Run(map[string]any{"trigger": trigger})
	if err != nil {
		return "", err
	}
	return expr.Stringify(v), nil
}

// waitForReply waits (bounded) for a synchronous webhook's run and answers
// with the chosen step's output; on timeout the sender gets 202 and the run id.
func (r *Receiver) waitForReply(ctx context.Context, runID string, resp *workflow.SyncResponse) (*Reply, error) {
	timeout := 10 * time.Second
	if d, err := time.ParseDuration(resp.Timeout); err == nil && d > 0 {
		timeout = d
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-deadline.C:
			return &Reply{Status: http.StatusAccepted, Body: map[string]any{"run_id": runID, "state": "pending"}}, nil
		case <-tick.C:
		}
		run, err := r.st.GetRun(ctx, runID)
		if err != nil {
			return nil, r.unavailable(ctx, err)
		}
		if !store.RunFinal(run.State) {
			continue
		}
		h := http.Header{"X-Switchboard-Run-Id": {runID}}
		if run.State != store.RunSucceeded {
			return &Reply{Status: http.StatusBadGateway, Header: h,
				Body: map[string]any{"run_id": runID, "state": run.State, "error": run.Error}}, nil
		}
		steps, err := r.st.ListStepRuns(ctx, runID)
		if err != nil {
			return nil, r.unavailable(ctx, err)
		}
		for _, s := range steps {
			if s.StepID == resp.Step && s.ItemKey == "" {
				return syncReply(h, decode(s.Output)), nil
			}
		}
		return &Reply{Status: http.StatusOK, Header: h, Body: map[string]any{"run_id": runID, "state": run.State}}, nil
	}
}

// syncReply shapes a step output into a response: {status, headers, body}
// when the output has those keys, else the output is the JSON body.
func syncReply(h http.Header, out any) *Reply {
	m, ok := out.(map[string]any)
	if !ok || (m["status"] == nil && m["body"] == nil) {
		return &Reply{Status: http.StatusOK, Header: h, Body: out}
	}
	status := http.StatusOK
	if f, ok := m["status"].(float64); ok && f >= 200 && f <= 599 {
		status = int(f)
	}
	if hs, ok := m["headers"].(map[string]any); ok {
		for k, v := range hs {
			s, ok := v.(string)
			if !ok || !replyHeaderAllowed(k) {
				continue
			}
			if strings.EqualFold(k, "Content-Type") {
				s = safeContentType(s)
			}
			h.Set(k, s)
		}
	}
	return &Reply{Status: status, Header: h, Body: m["body"]}
}

// replyHeaders are the headers a step output may set on a sync reply. The
// reply comes from the app's own origin, so anything a browser acts on
// (cookies, redirects, CORS, CSP, refresh, links) is refused; X- headers are
// data for the caller and pass, except the security ones the API sets.
var replyHeaders = map[string]bool{"Content-Type": true, "Cache-Control": true, "Content-Language": true,
	"Etag": true, "Last-Modified": true, "Retry-After": true, "Expires": true}

func replyHeaderAllowed(name string) bool {
	k := http.CanonicalHeaderKey(name)
	if replyHeaders[k] {
		return true
	}
	switch k {
	case "X-Content-Type-Options", "X-Frame-Options", "X-Xss-Protection", "X-Switchboard-Run-Id", "X-Request-Id", "X-Permitted-Cross-Domain-Policies":
		return false
	}
	return strings.HasPrefix(k, "X-")
}

// safeContentTypes render as data in a browser, never as a page.
var safeContentTypes = map[string]bool{"application/json": true, "application/problem+json": true, "application/xml": true,
	"text/plain": true, "text/csv": true}

// safeContentType keeps a data type (with a UTF-8 charset) and turns
// anything a browser would render (HTML, SVG, XHTML) into text/plain.
func safeContentType(v string) string {
	mt, _, err := mime.ParseMediaType(v)
	if err != nil || !safeContentTypes[mt] {
		mt = "text/plain"
	}
	if mt == "application/json" || mt == "application/problem+json" {
		return mt
	}
	return mt + "; charset=utf-8"
}

// unavailable answers a storage failure. Only an unreachable database gets
// 503 with Retry-After (the monitor logs the outage once); any other error
// is this request's own and gets 500, so no input makes a sender retry
// forever.
func (r *Receiver) unavailable(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return &Error{Status: http.StatusServiceUnavailable, Reason: "the request ended before the event was recorded"}
	}
	if perr := r.o.Health.Check(ctx); perr != nil || store.IsUnavailable(err) {
		r.o.Logger.Debug("webhook not recorded: database unreachable", "error", err)
		return &Error{Status: http.StatusServiceUnavailable, RetryAfter: 5 * time.Second,
			Reason: "the database is unreachable; the event was not recorded; retry later"}
	}
	r.o.Logger.Error("webhook could not be recorded", "error", err)
	return &Error{Status: http.StatusInternalServerError, Reason: "the event could not be recorded (internal error)"}
}
