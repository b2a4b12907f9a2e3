// Package form receives /forms/{token} requests: it shows a workflow's
// hosted form and checks each submission — lookup, rate, size, content
// type, honeypot, fields — before committing the inbox row, the run and its
// queue job together (engine.StartRuns). Every submission to a known form
// lands in its inbox. The definition, parsing and rendering are
// internal/formdef; the API only adapts the Response to gin.
package form

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/formdef"
	"github.com/switchboard-dev/switchboard/internal/ratelimit"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/webhooksig"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

// Engine is what hosted forms need from engine.Engine: the compiled
// current document, and runs started in the transaction of their inbox row.
type Engine interface {
	Compiled(ctx context.Context, versionID string) (*workflow.Compiled, error)
	StartRuns(ctx context.Context, fn func(tx *engine.StartTx) error) error
}

// Options tune the hosted forms.
type Options struct {
	// RatePerMinute caps submissions per client IP per form (default 10).
	RatePerMinute int
	// Limits holds the "form" limiter (shared through the database on
	// PostgreSQL); nil limits per process.
	Limits *ratelimit.Registry
	// TrustedProxies are peers whose X-Forwarded-For names the client.
	TrustedProxies []netip.Prefix
	Logger         *slog.Logger
	Now            func() time.Time
}

// Receiver serves hosted forms: the page, and submissions that start runs.
type Receiver struct {
	st  *store.Store
	eng Engine
	o   Options

	limit *ratelimit.Limiter // buckets by workflow id and client IP
}

// New returns a Receiver.
func New(st *store.Store, eng Engine, o Options) *Receiver {
	if o.RatePerMinute <= 0 {
		o.RatePerMinute = 10
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Limits == nil {
		o.Limits = ratelimit.NewRegistry(nil)
	}
	return &Receiver{st: st, eng: eng, o: o,
		limit: o.Limits.Limiter("form", ratelimit.Limit{PerMinute: o.RatePerMinute, Burst: o.RatePerMinute})}
}

// Response is what the browser gets: an HTML page, or a 303 to Redirect.
type Response struct {
	Status   int
	Header   http.Header // includes Content-Type when there is a body
	Body     []byte
	Redirect string // set for a redirect after a valid submission
}

// maxFormBody bounds a submission; 64 KiB is far more than any form needs.
const maxFormBody = 64 << 10

const (
	notFoundTitle   = "Form not found"
	notFoundMessage = "This form does not exist or is no longer accepting responses. Check the address, or ask the person who sent it to you."
)

// NotFound is the page for an unknown or closed form.
func NotFound() *Response { return notice(http.StatusNotFound, notFoundTitle, notFoundMessage) }

// hostedForm is a form found by its token.
type hostedForm struct {
	w       *store.Workflow
	version *store.WorkflowVersion
	def     formdef.Definition
}

// Page answers GET: the form, with prefilled values from the query.
func (r *Receiver) Page(ctx context.Context, token string, req *http.Request) *Response {
	hf, stop := r.find(ctx, token, req)
	if stop != nil {
		return stop
	}
	return r.page(http.StatusOK, hf.def, func(w io.Writer) error {
		return formdef.Render(w, hf.def, formdef.Data{Values: formdef.Initial(hf.def, req.URL.Query())})
	})
}

// Submit answers POST: it checks one submission — rate, size, content
// type, honeypot, fields — and starts a run with the typed values. Every
// submission to a known form lands in the inbox.
func (r *Receiver) Submit(ctx context.Context, token string, req *http.Request) *Response {
	hf, stop := r.find(ctx, token, req)
	if stop != nil {
		return stop
	}
	s := &submission{r: r, ctx: ctx, req: req, hf: hf}
	s.received = r.o.Now().UTC()
	client, _ := webhooksig.IPAllowed(req.RemoteAddr, strings.Join(req.Header.Values("X-Forwarded-For"), ","),
		nil, r.o.TrustedProxies)
	ip := ""
	if client.IsValid() {
		ip = client.String()
	}
	s.ip = ip
	s.in = r.inbound(token, req, hf.w, ip)
	s.in.ReceivedAt = s.received
	for _, check := range []func() *Response{
		s.rateLimit,
		s.readBody,
		s.contentType,
		s.decode,
		s.honeypot,
		s.fields,
	} {
		if resp := check(); resp != nil {
			return resp
		}
	}
	return s.startRun()
}

// find loads the active form behind the token, or returns the 404 or 503
// page. An inactive workflow's form answers 404 like an unknown one (a
// submission to it is recorded).
func (r *Receiver) find(ctx context.Context, token string, req *http.Request) (*hostedForm, *Response) {
	w, err := r.st.GetWorkflowByToken(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound()
	}
	if err != nil {
		return nil, r.unavailable(err)
	}
	if w.TriggerType != "form" {
		return nil, NotFound()
	}
	if !w.Active {
		if req.Method == http.MethodPost {
			r.record(ctx, r.inbound(token, req, w, ""), store.VerdictRejected, "the workflow behind this form is not active")
		}
		return nil, NotFound()
	}
	version, err := r.st.GetCurrentVersion(ctx, w)
	if err != nil {
		return nil, r.unavailable(err)
	}
	compiled, err := r.eng.Compiled(ctx, version.ID)
	if err != nil {
		return nil, r.unavailable(err)
	}
	doc := compiled.Doc
	if doc.Trigger.Type != "form" || doc.Trigger.Form == nil {
		return nil, NotFound()
	}
	def := *doc.Trigger.Form
	if strings.TrimSpace(def.Title) == "" {
		def.Title = doc.Name
	}
	return &hostedForm{w: w, version: version, def: def}, nil
}

// submission is one POST on its way through the checks; each check returns
// the page that ends it, or nil to go on.
type submission struct {
	r        *Receiver
	ctx      context.Context
	req      *http.Request
	hf       *hostedForm
	received time.Time
	ip       string // the client behind trusted proxies; "" when unknown
	in       *store.InboundRequest

	raw    []byte         // readBody
	posted url.Values     // decode
	values map[string]any // fields
}

func (s *submission) reject(reason string) { s.r.record(s.ctx, s.in, store.VerdictRejected, reason) }

func (s *submission) rateLimit() *Response {
	wait, ok := s.r.allow(s.ctx, s.hf.w.ID, s.ip, s.received)
	if ok {
		return nil
	}
	s.reject("rate limit exceeded for this form")
	resp := notice(http.StatusTooManyRequests, "Too many submissions",
		fmt.Sprintf("This form has received too many submissions from your network. Wait %s and try again.", plainDuration(wait)))
	resp.Header.Set("Retry-After", strconv.Itoa(int(wait.Seconds())))
	return resp
}

func (s *submission) readBody() *Response {
	raw, err := io.ReadAll(http.MaxBytesReader(nil, s.req.Body, maxFormBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		s.in.BodySize = maxFormBody + 1
		s.reject(fmt.Sprintf("body is larger than the %d-byte limit", maxFormBody))
		return notice(http.StatusRequestEntityTooLarge, "Submission too large", "What you entered is too long to send. Shorten it and try again.")
	}
	if err != nil {
		s.reject("reading body: " + err.Error())
		return notice(http.StatusBadRequest, "Submission not received", "Your answers could not be read. Go back and try again.")
	}
	s.raw = raw
	s.in.BodySize, s.in.Body = len(raw), string(raw)
	return nil
}

func (s *submission) contentType() *Response {
	if mt, _, _ := mime.ParseMediaType(s.req.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		s.reject(fmt.Sprintf("content type %q is not a form submission", mt))
		return notice(http.StatusUnsupportedMediaType, "Submission not received",
			"This address takes form submissions (application/x-www-form-urlencoded) only.")
	}
	return nil
}

func (s *submission) decode() *Response {
	posted, err := url.ParseQuery(string(s.raw))
	if err != nil {
		s.reject("the body is not valid form encoding")
		return notice(http.StatusBadRequest, "Submission not received", "Your answers could not be read. Go back and try again.")
	}
	s.posted = posted
	return nil
}

// honeypot: a bot that filled the trap field gets what a person would, and
// nothing starts.
func (s *submission) honeypot() *Response {
	if !s.hf.def.HoneypotFilled(s.posted) {
		return nil
	}
	s.reject("honeypot")
	return s.r.succeeded(s.hf.def)
}

// fields parses the values; invalid ones show the form again with messages.
func (s *submission) fields() *Response {
	values, fieldErrors := formdef.Parse(s.hf.def, s.posted)
	if len(fieldErrors) == 0 {
		s.values = values
		return nil
	}
	s.reject("invalid fields: " + strings.Join(sortedKeys(fieldErrors), ", "))
	return s.r.page(http.StatusUnprocessableEntity, s.hf.def, func(w io.Writer) error {
		return formdef.Render(w, s.hf.def, formdef.Data{Values: s.posted, Errors: fieldErrors})
	})
}

// startRun commits the inbox row, the run and its job together and answers
// with the success page; when nothing could be kept the form comes back
// with what was typed.
func (s *submission) startRun() *Response {
	hf, in := s.hf, s.in
	trigger := map[string]any{"fields": s.values, "submitted_at": s.received.Format(time.RFC3339Nano), "ip": in.SourceIP}
	run := &store.Run{ID: store.NewID(), WorkflowID: hf.w.ID, VersionID: hf.version.ID, Version: hf.version.Version,
		State: store.RunQueued, TriggerType: "form", Trigger: store.MustJSON(trigger), CreatedAt: s.received}
	err := s.r.eng.StartRuns(s.ctx, func(tx *engine.StartTx) error {
		in.Verdict, in.RunID = store.VerdictAccepted, &run.ID
		if err := tx.Store().CreateInbound(s.ctx, in); err != nil {
			return err
		}
		return tx.Run(s.ctx, run)
	})
	if err != nil {
		s.r.o.Logger.Error("form submission could not be recorded", "workflow_id", hf.w.ID, "error", err)
		resp := s.r.page(http.StatusServiceUnavailable, hf.def, func(w io.Writer) error {
			return formdef.Render(w, hf.def, formdef.Data{Values: s.posted,
				Problem: "Your response could not be saved just now. Nothing was sent; please submit it again in a moment."})
		})
		resp.Header.Set("Retry-After", "5")
		return resp
	}
	resp := s.r.succeeded(hf.def)
	resp.Header.Set("X-Switchboard-Run-Id", run.ID)
	return resp
}

// succeeded answers a valid submission: the success page, or a 303 redirect.
func (r *Receiver) succeeded(def formdef.Definition) *Response {
	if to := def.Redirect(); to != "" {
		return &Response{Status: http.StatusSeeOther, Header: http.Header{}, Redirect: to}
	}
	return r.page(http.StatusOK, def, func(w io.Writer) error { return formdef.RenderSuccess(w, def) })
}

// inbound starts an inbox entry for a submission. The path keeps only the
// start of the token, which is the form's secret.
func (r *Receiver) inbound(token string, req *http.Request, w *store.Workflow, clientIP string) *store.InboundRequest {
	tok := token
	if len(tok) > 4 {
		tok = tok[:4] + "…"
	}
	if clientIP == "" {
		if a, ok := webhooksig.IPAllowed(req.RemoteAddr, "", nil, nil); ok && a.IsValid() {
			clientIP = a.String()
		}
	}
	headers := map[string]any{}
	for k, vs := range req.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Cookie", "Authorization", "Proxy-Authorization", "X-Api-Key":
			headers[k] = "[redacted]"
		default:
			headers[k] = strings.Join(vs, ", ")
		}
	}
	query := map[string]any{}
	for k, vs := range req.URL.Query() {
		query[k] = strings.Join(vs, ",")
	}
	return &store.InboundRequest{WorkflowID: w.ID, ReceivedAt: r.o.Now().UTC(), Method: req.Method,
		Path: "/forms/" + tok, Headers: store.MustJSON(headers), Query: store.MustJSON(query), SourceIP: clientIP}
}

// record writes a refused submission to the inbox; a failure is logged,
// never shown: the refusal stands.
func (r *Receiver) record(ctx context.Context, in *store.InboundRequest, verdict, reason string) {
	in.Verdict, in.Reason = verdict, reason
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := r.st.CreateInbound(ctx, in); err != nil {
		r.o.Logger.Warn("recording form submission in the inbox", "workflow_id", in.WorkflowID, "verdict", verdict, "error", err)
	}
}

// allow takes a token from the bucket of this form and client (burst: a
// minute's allowance) and says how long to wait when it is empty.
func (r *Receiver) allow(ctx context.Context, workflowID, client string, now time.Time) (time.Duration, bool) {
	d, err := r.limit.Allow(ctx, workflowID+"|"+client, ratelimit.Limit{}, now)
	if err != nil {
		r.o.Logger.Debug("form rate limit not checked", "error", err)
	}
	if d.Allowed {
		return 0, true
	}
	return max(d.RetryAfter, time.Second).Round(time.Second), false
}

// page renders an HTML page with fn and the headers every form page
// carries.
func (r *Receiver) page(status int, def formdef.Definition, fn func(io.Writer) error) *Response {
	var buf bytes.Buffer
	if err := fn(&buf); err != nil {
		r.o.Logger.Error("rendering form page", "error", err)
		return notice(http.StatusInternalServerError, "Something went wrong", "This form could not be shown. Try again later.")
	}
	formAction := "'self'"
	if u, err := url.Parse(def.Redirect()); err == nil && u.Host != "" {
		// Browsers apply form-action to the redirect after the post too.
		formAction += " " + u.Scheme + "://" + u.Host
	}
	return &Response{Status: status, Header: htmlHeaders(formAction, def.FrameAncestors()), Body: buf.Bytes()}
}

func (r *Receiver) unavailable(err error) *Response {
	r.o.Logger.Error("form could not be loaded", "error", err)
	resp := notice(http.StatusServiceUnavailable, "Form unavailable", "This form cannot be used just now. Try again in a moment.")
	resp.Header.Set("Retry-After", "5")
	return resp
}

// notice is a plain HTML page.
func notice(status int, heading, message string) *Response {
	var buf bytes.Buffer
	if err := formdef.RenderNotice(&buf, heading, message); err != nil {
		return &Response{Status: status, Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}},
			Body: []byte(heading + "\n\n" + message + "\n")}
	}
	return &Response{Status: status, Header: htmlHeaders("'none'", "'none'"), Body: buf.Bytes()}
}

// htmlHeaders lock a form page down: no scripts, no other origins, no
// caching, no referrer (the URL holds the form's token).
func htmlHeaders(formAction, frameAncestors string) http.Header {
	h := http.Header{}
	// default-src 'none' already forbids every script. No sandbox: a
	// sandboxed page loses autofocus, which moves a no-JS visitor to the
	// error summary after a failed submission.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action "+
		formAction+"; frame-ancestors "+frameAncestors)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/html; charset=utf-8")
	return h
}

func plainDuration(d time.Duration) string {
	if s := int(d.Round(time.Second).Seconds()); s < 60 {
		if s == 1 {
			return "a second"
		}
		return strconv.Itoa(s) + " seconds"
	}
	return "a minute"
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
