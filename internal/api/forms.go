package api

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

	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/ratelimit"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/trigger/form"
	"github.com/switchboard-dev/switchboard/internal/webhooksig"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

// FormQueue is what hosted forms need from the engine: the compiled current
// document, and the run's queue job inserted in the run's transaction.
type FormQueue interface {
	StartRuns(ctx context.Context, fn func(tx *engine.StartTx) error) error
	Compiled(ctx context.Context, versionID string) (*workflow.Compiled, error)
}

// FormOptions tune the hosted forms.
type FormOptions struct {
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

// Forms serves /forms/{token}: the page, and submissions that start runs.
type Forms struct {
	st *store.Store
	q  FormQueue
	o  FormOptions

	limit *ratelimit.Limiter // buckets by workflow id and client IP
}

// NewForms returns the hosted-form handlers' state.
func NewForms(st *store.Store, q FormQueue, o FormOptions) *Forms {
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
	return &Forms{st: st, q: q, o: o,
		limit: o.Limits.Limiter("form", ratelimit.Limit{PerMinute: o.RatePerMinute, Burst: o.RatePerMinute})}
}

// maxFormBody bounds a submission; 64 KiB is far more than any form needs.
const maxFormBody = 64 << 10

const (
	notFoundTitle   = "Form not found"
	notFoundMessage = "This form does not exist or is no longer accepting responses. Check the address, or ask the person who sent it to you."
)

// hostedForm is a form found by its token.
type hostedForm struct {
	w       *store.Workflow
	version *store.WorkflowVersion
	def     form.Definition
}

func (s *server) formPage(c *gin.Context) {
	hf, ok := s.findForm(c)
	if !ok {
		return
	}
	s.Forms.page(c, http.StatusOK, hf.def, func(w io.Writer) error {
		return form.Render(w, hf.def, form.Data{Values: form.Initial(hf.def, c.Request.URL.Query())})
	})
}

func (s *server) formSubmit(c *gin.Context) {
	hf, ok := s.findForm(c)
	if !ok {
		return
	}
	s.Forms.submit(c, hf)
}

// findForm loads the active form behind the token, or answers 404 or 503.
// An inactive workflow's form answers 404 like an unknown one.
func (s *server) findForm(c *gin.Context) (*hostedForm, bool) {
	f := s.Forms
	if f == nil {
		notice(c, http.StatusNotFound, notFoundTitle, notFoundMessage)
		return nil, false
	}
	ctx := c.Request.Context()
	w, err := f.st.GetWorkflowByToken(ctx, c.Param("token"))
	if errors.Is(err, store.ErrNotFound) {
		notice(c, http.StatusNotFound, notFoundTitle, notFoundMessage)
		return nil, false
	}
	if err != nil {
		f.unavailable(c, err)
		return nil, false
	}
	if w.TriggerType != "form" {
		notice(c, http.StatusNotFound, notFoundTitle, notFoundMessage)
		return nil, false
	}
	if !w.Active {
		if c.Request.Method == http.MethodPost {
			f.record(ctx, f.inbound(c, w, ""), store.VerdictRejected, "the workflow behind this form is not active")
		}
		notice(c, http.StatusNotFound, notFoundTitle, notFoundMessage)
		return nil, false
	}
	version, err := f.st.GetCurrentVersion(ctx, w)
	if err != nil {
		f.unavailable(c, err)
		return nil, false
	}
	compiled, err := f.q.Compiled(ctx, version.ID)
	if err != nil {
		f.unavailable(c, err)
		return nil, false
	}
	doc := compiled.Doc
	if doc.Trigger.Type != "form" || doc.Trigger.Form == nil {
		notice(c, http.StatusNotFound, notFoundTitle, notFoundMessage)
		return nil, false
	}
	def := *doc.Trigger.Form
	if strings.TrimSpace(def.Title) == "" {
		def.Title = doc.Name
	}
	return &hostedForm{w: w, version: version, def: def}, true
}

// submit checks one submission — rate, size, honeypot, fields — and starts
// a run with the typed values. Every submission lands in the inbox.
func (f *Forms) submit(c *gin.Context, hf *hostedForm) {
	ctx := c.Request.Context()
	received := f.o.Now().UTC()
	client, _ := webhooksig.IPAllowed(c.Request.RemoteAddr, strings.Join(c.Request.Header.Values("X-Forwarded-For"), ","),
		nil, f.o.TrustedProxies)
	ip := ""
	if client.IsValid() {
		ip = client.String()
	}
	in := f.inbound(c, hf.w, ip)
	in.ReceivedAt = received

	if wait, ok := f.allow(ctx, hf.w.ID, ip, received); !ok {
		f.record(ctx, in, store.VerdictRejected, "rate limit exceeded for this form")
		c.Header("Retry-After", strconv.Itoa(int(wait.Seconds())))
		notice(c, http.StatusTooManyRequests, "Too many submissions",
			fmt.Sprintf("This form has received too many submissions from your network. Wait %s and try again.", plainDuration(wait)))
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		in.BodySize = maxFormBody + 1
		f.record(ctx, in, store.VerdictRejected, fmt.Sprintf("body is larger than the %d-byte limit", maxFormBody))
		notice(c, http.StatusRequestEntityTooLarge, "Submission too large", "What you entered is too long to send. Shorten it and try again.")
		return
	}
	if err != nil {
		f.record(ctx, in, store.VerdictRejected, "reading body: "+err.Error())
		notice(c, http.StatusBadRequest, "Submission not received", "Your answers could not be read. Go back and try again.")
		return
	}
	in.BodySize, in.Body = len(raw), string(raw)
	if mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type")); mt != "application/x-www-form-urlencoded" {
		f.record(ctx, in, store.VerdictRejected, fmt.Sprintf("content type %q is not a form submission", mt))
		notice(c, http.StatusUnsupportedMediaType, "Submission not received",
			"This address takes form submissions (application/x-www-form-urlencoded) only.")
		return
	}
	posted, err := url.ParseQuery(string(raw))
	if err != nil {
		f.record(ctx, in, store.VerdictRejected, "the body is not valid form encoding")
		notice(c, http.StatusBadRequest, "Submission not received", "Your answers could not be read. Go back and try again.")
		return
	}
	if hf.def.HoneypotFilled(posted) {
		// A bot filled the trap field: it gets what a person would, and
		// nothing starts.
		f.record(ctx, in, store.VerdictRejected, "honeypot")
		f.succeeded(c, hf.def)
		return
	}
	values, fieldErrors := form.Parse(hf.def, posted)
	if len(fieldErrors) > 0 {
		f.record(ctx, in, store.VerdictRejected, "invalid fields: "+strings.Join(sortedKeys(fieldErrors), ", "))
		f.page(c, http.StatusUnprocessableEntity, hf.def, func(w io.Writer) error {
			return form.Render(w, hf.def, form.Data{Values: posted, Errors: fieldErrors})
		})
		return
	}

	trigger := map[string]any{"fields": values, "submitted_at": received.Format(time.RFC3339Nano), "ip": in.SourceIP}
	run := &store.Run{ID: store.NewID(), WorkflowID: hf.w.ID, VersionID: hf.version.ID, Version: hf.version.Version,
		State: store.RunQueued, TriggerType: "form", Trigger: store.MustJSON(trigger), CreatedAt: received}
	err = f.q.StartRuns(ctx, func(tx *engine.StartTx) error {
		in.Verdict, in.RunID = store.VerdictAccepted, &run.ID
		if err := tx.Store().CreateInbound(ctx, in); err != nil {
			return err
		}
		return tx.Run(ctx, run)
	})
	if err != nil {
		// Nothing was kept: show the form again with what was typed.
		f.o.Logger.Error("form submission could not be recorded", "workflow_id", hf.w.ID, "error", err)
		c.Header("Retry-After", "5")
		f.page(c, http.StatusServiceUnavailable, hf.def, func(w io.Writer) error {
			return form.Render(w, hf.def, form.Data{Values: posted,
				Problem: "Your response could not be saved just now. Nothing was sent; please submit it again in a moment."})
		})
		return
	}
	c.Header("X-Switchboard-Run-Id", run.ID)
	f.succeeded(c, hf.def)
}

// succeeded answers a valid submission: the success page, or a 303 redirect.
func (f *Forms) succeeded(c *gin.Context, def form.Definition) {
	if to := def.Redirect(); to != "" {
		c.Redirect(http.StatusSeeOther, to)
		return
	}
	f.page(c, http.StatusOK, def, func(w io.Writer) error { return form.RenderSuccess(w, def) })
}

// inbound starts an inbox entry for a submission. The path keeps only the
// start of the token, which is the form's secret.
func (f *Forms) inbound(c *gin.Context, w *store.Workflow, clientIP string) *store.InboundRequest {
	tok := c.Param("token")
	if len(tok) > 4 {
		tok = tok[:4] + "…"
	}
	if clientIP == "" {
		if a, ok := webhooksig.IPAllowed(c.Request.RemoteAddr, "", nil, nil); ok && a.IsValid() {
			clientIP = a.String()
		}
	}
	headers := map[string]any{}
	for k, vs := range c.Request.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Cookie", "Authorization", "Proxy-Authorization", "X-Api-Key":
			headers[k] = "[redacted]"
		default:
			headers[k] = strings.Join(vs, ", ")
		}
	}
	query := map[string]any{}
	for k, vs := range c.Request.URL.Query() {
		query[k] = strings.Join(vs, ",")
	}
	return &store.InboundRequest{WorkflowID: w.ID, ReceivedAt: f.o.Now().UTC(), Method: c.Request.Method,
		Path: "/forms/" + tok, Headers: store.MustJSON(headers), Query: store.MustJSON(query), SourceIP: clientIP}
}

// record writes a refused submission to the inbox; a failure is logged,
// never shown: the refusal stands.
func (f *Forms) record(ctx context.Context, in *store.InboundRequest, verdict, reason string) {
	in.Verdict, in.Reason = verdict, reason
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := f.st.CreateInbound(ctx, in); err != nil {
		f.o.Logger.Warn("recording form submission in the inbox", "workflow_id", in.WorkflowID, "verdict", verdict, "error", err)
	}
}

// allow takes a token from the bucket of this form and client (burst: a
// minute's allowance) and says how long to wait when it is empty.
func (f *Forms) allow(ctx context.Context, workflowID, client string, now time.Time) (time.Duration, bool) {
	d, err := f.limit.Allow(ctx, workflowID+"|"+client, ratelimit.Limit{}, now)
	if err != nil {
		f.o.Logger.Debug("form rate limit not checked", "error", err)
	}
	if d.Allowed {
		return 0, true
	}
	return max(d.RetryAfter, time.Second).Round(time.Second), false
}

// page writes an HTML page rendered by fn with the headers every form page
// carries.
func (f *Forms) page(c *gin.Context, status int, def form.Definition, fn func(io.Writer) error) {
	var buf bytes.Buffer
	if err := fn(&buf); err != nil {
		f.o.Logger.Error("rendering form page", "error", err)
		notice(c, http.StatusInternalServerError, "Something went wrong", "This form could not be shown. Try again later.")
		return
	}
	formAction := "'self'"
	if u, err := url.Parse(def.Redirect()); err == nil && u.Host != "" {
		// Browsers apply form-action to the redirect after the post too.
		formAction += " " + u.Scheme + "://" + u.Host
	}
	htmlHeaders(c, formAction, def.FrameAncestors())
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

func (f *Forms) unavailable(c *gin.Context, err error) {
	f.o.Logger.Error("form could not be loaded", "error", err)
	c.Header("Retry-After", "5")
	notice(c, http.StatusServiceUnavailable, "Form unavailable", "This form cannot be used just now. Try again in a moment.")
}

// notice answers with a plain HTML page.
func notice(c *gin.Context, status int, heading, message string) {
	var buf bytes.Buffer
	if err := form.RenderNotice(&buf, heading, message); err != nil {
		c.String(status, "%s\n\n%s\n", heading, message)
		return
	}
	htmlHeaders(c, "'none'", "'none'")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
	c.Abort()
}

// htmlHeaders lock a form page down: no scripts, no other origins, no
// caching, no referrer (the URL holds the form's token).
func htmlHeaders(c *gin.Context, formAction, frameAncestors string) {
	// default-src 'none' already forbids every script. No sandbox: a
	// sandboxed page loses autofocus, which moves a no-JS visitor to the
	// error summary after a failed submission.
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action "+
		formAction+"; frame-ancestors "+frameAncestors)
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Referrer-Policy", "no-referrer")
	c.Header("Cache-Control", "no-store")
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
