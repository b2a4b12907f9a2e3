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
	StartRunsClean(ctx context.Context, fn func(tx *engine.StartTx) error) error
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

// Receive handles one request for token. test marks the workflow's test URL:
// the request is checked the same way, then kept as sample data, not run.
//
// The checks run in this order, each refusing with the status the sender
// gets; every refusal after the lookup lands in the inbox.
func (r *Receiver) Receive(ctx context.Context, token string, req *http.Request, test bool) (*Reply, error) {
	q, err := r.lookup(ctx, token, req, test)
	if err != nil {
		return nil, err
	}
	for _, check := range []func() error{
		q.active,
		q.load,
		q.method,
		q.clientCert,
		q.allowIP,
		q.rateLimit,
		q.readBody,
		q.signature,
		q.parse,
	} {
		if err := check(); err != nil {
			return q.stop(err)
		}
	}
	if q.test {
		return q.capture()
	}
	ignored, err := q.filterEvent()
	if err != nil {
		return q.stop(err)
	}
	if ignored != nil {
		return ignored, nil
	}
	if err := q.dedupeKey(); err != nil {
		return q.stop(err)
	}
	duplicate, err := q.startRun()
	if err != nil {
		return q.stop(err)
	}
	if duplicate != nil {
		return duplicate, nil
	}
	return q.reply()
}

// request is one request on its way through the checks; each check fills
// in what the later ones read.
type request struct {
	r        *Receiver
	ctx      context.Context
	req      *http.Request
	test     bool
	w        *store.Workflow
	in       *store.InboundRequest
	redactor func(http.Header) map[string]any

	version *store.WorkflowVersion   // load
	wh      *workflow.WebhookTrigger // load
	ver     *webhooksig.Verifier     // load
	raw     []byte                   // readBody
	trigger map[string]any           // parse
	key     string                   // dedupeKey; "" when not deduplicated
	window  time.Duration            // dedupeKey
	run     *store.Run               // startRun
}

// stop ends the request: a refusal (*Error) is recorded in the inbox; any
// other error is a storage failure, answered without an inbox row.
func (q *request) stop(err error) (*Reply, error) {
	var e *Error
	if errors.As(err, &e) {
		return q.refuse(e)
	}
	return nil, q.r.unavailable(q.ctx, err)
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

// lookup finds the token's webhook workflow. An unknown token gets 404 and
// no inbox row: there is no inbox to put it in.
func (r *Receiver) lookup(ctx context.Context, token string, req *http.Request, test bool) (*request, error) {
	received := r.o.Now().UTC()
	notFound := &Error{Status: http.StatusNotFound, Reason: "no webhook endpoint has this URL"}
	if store.CleanText(token) != token {
		// No token has such bytes; PostgreSQL would refuse to compare them.
		return nil, notFound
	}
	w, err := r.st.GetWorkflowByToken(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, r.unavailable(ctx, err)
	}
	if w.TriggerType != "webhook" {
		// Form and other tokens share the column; they open no webhook.
		return nil, notFound
	}
	q := &request{r: r, ctx: ctx, req: req, test: test, w: w, redactor: redactHeaders(nil),
		in: &store.InboundRequest{WorkflowID: w.ID, ReceivedAt: received, Method: req.Method, Path: req.URL.Path,
			SourceIP: peerIP(req.RemoteAddr)}}
	q.in.Headers = store.MustJSON(q.redactor(req.Header))
	q.in.Query = store.MustJSON(flatten(req.URL.Query()))
	return q, nil
}

// active refuses a paused workflow; its test URL still answers.
func (q *request) active() error {
	if !q.w.Active && !q.test {
		return &Error{Status: http.StatusNotFound, Reason: "the workflow behind this webhook is not active"}
	}
	return nil
}

// load reads the current version's webhook trigger and its verifier, and
// redacts the credentials that verifier reads from the inbox copy.
func (q *request) load() error {
	version, err := q.r.st.GetCurrentVersion(q.ctx, q.w)
	if err != nil {
		return err
	}
	c, err := q.r.compiler.Compiled(q.ctx, version.ID)
	if err != nil {
		return err
	}
	q.version, q.wh = version, c.Doc.Trigger.Webhook
	if q.wh == nil {
		q.wh = &workflow.WebhookTrigger{}
	}
	q.ver, err = q.r.verifier(q.ctx, version.ID, q.wh)
	if err != nil {
		return &Error{Status: http.StatusInternalServerError, Reason: "this endpoint's verification is not configured correctly: " + err.Error()}
	}
	cfg := q.ver.Config()
	q.redactor = redactHeaders(cfg.CredentialHeaders())
	q.in.Headers = store.MustJSON(q.redactor(q.req.Header))
	q.in.Query = store.MustJSON(q.query())
	return nil
}

// query is the request's query with the verifier's credentials redacted.
func (q *request) query() map[string]any {
	return redactQuery(q.req.URL.Query(), q.ver.Config().CredentialQuery())
}

func (q *request) method() error {
	methods := []string{http.MethodPost}
	if len(q.wh.Methods) > 0 {
		methods = make([]string, len(q.wh.Methods))
		for i, m := range q.wh.Methods {
			methods[i] = strings.ToUpper(m)
		}
	}
	if !slices.Contains(methods, q.req.Method) {
		return &Error{Status: http.StatusMethodNotAllowed, Allow: methods,
			Reason: fmt.Sprintf("method %s is not accepted here (allowed: %s)", q.req.Method, strings.Join(methods, ", "))}
	}
	return nil
}

// clientCert checks the TLS client certificate when the trigger asks for one.
func (q *request) clientCert() error {
	cc := q.wh.ClientCert
	if cc == nil {
		return nil
	}
	var peer []*x509.Certificate
	if q.req.TLS != nil {
		peer = q.req.TLS.PeerCertificates
	}
	if err := tlsconf.CheckClient(peer, cc.CA, cc.Subjects, q.in.ReceivedAt); err != nil {
		reason := err.Error()
		if q.req.TLS == nil {
			reason = "client certificate required, but the request did not come over HTTPS (serve with --tls-cert/--tls-key)"
		}
		return &Error{Status: http.StatusUnauthorized, Reason: reason}
	}
	return nil
}

// allowIP checks the client address (through trusted proxies) against the
// allowlist, and records that address either way.
func (q *request) allowIP() error {
	client, err := q.ver.AllowIP(q.req.RemoteAddr, strings.Join(q.req.Header.Values("X-Forwarded-For"), ","), q.r.o.TrustedProxies)
	if client.IsValid() {
		q.in.SourceIP = client.String()
	}
	if err != nil {
		return &Error{Status: http.StatusForbidden, Reason: err.Error()}
	}
	return nil
}

func (q *request) rateLimit() error {
	if wait, ok := q.r.allow(q.ctx, q.w.ID, q.wh.RateLimit, q.in.ReceivedAt); !ok {
		return &Error{Status: http.StatusTooManyRequests, RetryAfter: wait,
			Reason: "rate limit exceeded for this endpoint; retry later"}
	}
	return nil
}

// readBody reads the body up to the endpoint's cap and keeps a capped copy
// for the inbox.
func (q *request) readBody() error {
	maxBody := q.r.o.MaxBody
	if q.wh.MaxBody > 0 {
		maxBody = q.wh.MaxBody
	}
	raw, err := io.ReadAll(http.MaxBytesReader(nil, q.req.Body, maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		q.in.BodySize = int(maxBody) + 1
		return &Error{Status: http.StatusRequestEntityTooLarge,
			Reason: fmt.Sprintf("body is larger than the %d-byte limit", maxBody)}
	}
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Reason: "reading body: " + err.Error()}
	}
	q.raw = raw
	q.in.BodySize = len(raw)
	q.in.Body, q.in.BodyRaw = capString(raw), capBytes(raw)
	return nil
}

// signature verifies the request with the endpoint's scheme.
func (q *request) signature() error {
	err := q.ver.Verify(webhooksig.Request{Body: q.raw, Header: q.req.Header, Query: q.req.URL.Query()}, q.in.ReceivedAt)
	if err == nil {
		return nil
	}
	var rej *webhooksig.Rejection
	if errors.As(err, &rej) {
		return &Error{Status: rej.Status, Reason: rej.Reason}
	}
	return &Error{Status: http.StatusUnauthorized, Reason: "verification failed"}
}

// parse decodes the body and builds the run's trigger data.
func (q *request) parse() error {
	body, err := parseBody(q.req.Header.Get("Content-Type"), q.raw)
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Reason: err.Error()}
	}
	// Expressions see the same text on both databases: PostgreSQL's jsonb
	// cannot hold NUL, so NUL and invalid UTF-8 become U+FFFD everywhere.
	q.trigger = store.CleanValue(map[string]any{
		"body": body, "raw": rawText(q.raw), "headers": q.redactor(q.req.Header),
		"query":  q.query(),
		"method": q.req.Method, "received_at": q.in.ReceivedAt.Format(time.RFC3339Nano),
	}).(map[string]any)
	return nil
}

// capture keeps a test-URL request as the workflow's sample data.
func (q *request) capture() (*Reply, error) {
	if err := q.r.st.SaveSample(q.ctx, q.w.ID, store.MustJSON(q.trigger), q.in.ReceivedAt); err != nil {
		return nil, q.r.unavailable(q.ctx, err)
	}
	q.in.Verdict, q.in.Reason = store.VerdictCaptured, "kept as the workflow's sample data (test URL)"
	q.record()
	return &Reply{Status: http.StatusOK, Body: map[string]any{"captured": true}}, nil
}

// filterEvent answers 202 "ignored" for an event type the workflow does
// not accept; nil, nil lets the request on.
func (q *request) filterEvent() (*Reply, error) {
	ev := q.wh.Events
	if ev == nil {
		return nil, nil
	}
	typ, err := eventType(ev, q.req.Header, q.trigger)
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Reason: "reading the event type: " + err.Error()}
	}
	if slices.Contains(ev.Accept, typ) {
		return nil, nil
	}
	q.in.Verdict, q.in.Reason = store.VerdictIgnored, fmt.Sprintf("event type %q is not one this workflow accepts", typ)
	q.record()
	return &Reply{Status: http.StatusAccepted, Body: map[string]any{"ignored": true, "reason": q.in.Reason}}, nil
}

func (q *request) dedupeKey() error {
	key, window, err := q.r.dedupeKey(q.wh.Dedupe, q.req.Header, q.trigger)
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Reason: "reading the event id: " + err.Error()}
	}
	q.key, q.window = key, window
	return nil
}

// startRun claims the dedupe key and commits the inbox row, the run and its
// job together. A key already claimed answers 200 with the first run's id;
// nil, nil means the run started.
func (q *request) startRun() (*Reply, error) {
	v := q.version
	q.run = &store.Run{ID: store.NewID(), WorkflowID: q.w.ID, VersionID: v.ID, Version: v.Version,
		State: store.RunQueued, TriggerType: "webhook", Trigger: store.MustJSON(q.trigger), CreatedAt: q.in.ReceivedAt}
	duplicateOf := ""
	// The accept is clean: a duplicate is found before anything is written,
	// and running it again (its shared commit failed) redoes the same rows.
	err := q.r.queue.StartRunsClean(q.ctx, func(tx *engine.StartTx) error {
		if q.key != "" {
			first, claimed, err := tx.Store().ClaimEvent(q.ctx, q.w.ID, q.key, q.run.ID, q.in.ReceivedAt, q.window)
			if err != nil {
				return err
			}
			if !claimed {
				duplicateOf = first
				return errDuplicate
			}
		}
		q.in.Verdict, q.in.RunID = store.VerdictAccepted, &q.run.ID
		if err := tx.Store().CreateInbound(q.ctx, q.in); err != nil {
			return err
		}
		return tx.Run(q.ctx, q.run)
	})
	if errors.Is(err, errDuplicate) {
		q.in.Verdict, q.in.Reason, q.in.RunID = store.VerdictDuplicate, "event "+q.key+" was already received", &duplicateOf
		q.record()
		return &Reply{Status: http.StatusOK, Body: map[string]any{"run_id": duplicateOf, "duplicate": true}}, nil
	}
	return nil, err
}

// reply answers a started run: 202 with its id, or for a synchronous
// webhook the chosen step's output.
func (q *request) reply() (*Reply, error) {
	if q.wh.Respond == "sync" && q.wh.Response != nil {
		return q.r.waitForReply(q.ctx, q.run.ID, q.wh.Response)
	}
	return &Reply{Status: http.StatusAccepted, Body: map[string]any{"run_id": q.run.ID}}, nil
}

var errDuplicate = fmt.Errorf("duplicate event: %w", engine.ErrNoWrites)

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
				return syncReply(h, s.Output.Decoded()), nil
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
