// Package webhook receives /hooks/{token} requests: it finds the endpoint,
// checks method and size, parses the body, and commits the inbound request,
// its run and the run's queue job in one transaction before answering.
package webhook

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

// Enqueuer inserts a run's job inside a transaction.
type Enqueuer interface {
	Enqueue(ctx context.Context, tx *sql.Tx, runID string) error
}

// Compiler returns a version's compiled document (cached by the engine).
type Compiler interface {
	Compiled(ctx context.Context, versionID string) (*workflow.Compiled, error)
}

// Receiver handles webhook requests.
type Receiver struct {
	st       *store.Store
	queue    Enqueuer
	compiler Compiler
	maxBody  int64
	log      *slog.Logger
	now      func() time.Time
}

// New returns a Receiver.
func New(st *store.Store, queue Enqueuer, compiler Compiler, maxBody int64, log *slog.Logger) *Receiver {
	return &Receiver{st: st, queue: queue, compiler: compiler, maxBody: maxBody, log: log, now: time.Now}
}

// Error is a refusal with the HTTP status the sender gets.
type Error struct {
	Status int
	Reason string
	Allow  []string // for 405
}

func (e *Error) Error() string { return e.Reason }

// Accepted is a committed event.
type Accepted struct {
	RunID string `json:"run_id"`
}

// inboundBodyCap bounds the body copy kept in the inbox.
const inboundBodyCap = 64 << 10

// Receive handles one request for token.
func (r *Receiver) Receive(ctx context.Context, token string, req *http.Request) (*Accepted, error) {
	received := r.now().UTC()
	w, err := r.st.GetWorkflowByToken(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &Error{Status: http.StatusNotFound, Reason: "no webhook endpoint has this URL"}
	}
	if err != nil {
		return nil, r.unavailable(err)
	}
	in := &store.InboundRequest{WorkflowID: w.ID, ReceivedAt: received, Method: req.Method,
		Path: req.URL.Path, Headers: store.MustJSON(redactedHeaders(req.Header)),
		Query: store.MustJSON(flatten(req.URL.Query())), SourceIP: sourceIP(req)}
	reject := func(e *Error) (*Accepted, error) {
		in.Verdict, in.Reason = store.VerdictRejected, e.Reason
		if rerr := r.st.CreateInbound(ctx, in); rerr != nil {
			r.log.Warn("recording rejected webhook", "workflow_id", w.ID, "error", rerr)
		}
		return nil, e
	}
	if !w.Active {
		return reject(&Error{Status: http.StatusNotFound, Reason: "the workflow behind this webhook is not active"})
	}
	version, err := r.st.GetCurrentVersion(ctx, w)
	if err != nil {
		return nil, r.unavailable(err)
	}
	c, err := r.compiler.Compiled(ctx, version.ID)
	if err != nil {
		return nil, r.unavailable(err)
	}
	methods := []string{http.MethodPost}
	if wh := c.Doc.Trigger.Webhook; wh != nil && len(wh.Methods) > 0 {
		methods = make([]string, len(wh.Methods))
		for i, m := range wh.Methods {
			methods[i] = strings.ToUpper(m)
		}
	}
	if !slices.Contains(methods, req.Method) {
		return reject(&Error{Status: http.StatusMethodNotAllowed, Allow: methods,
			Reason: fmt.Sprintf("method %s is not accepted here (allowed: %s)", req.Method, strings.Join(methods, ", "))})
	}
	raw, err := io.ReadAll(http.MaxBytesReader(nil, req.Body, r.maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		in.BodySize = int(tooBig.Limit)
		return reject(&Error{Status: http.StatusRequestEntityTooLarge,
			Reason: fmt.Sprintf("body is larger than the %d-byte limit", r.maxBody)})
	}
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Reason: "reading body: " + err.Error()}
	}
	in.BodySize = len(raw)
	in.Body = capString(raw)
	body, perr := parseBody(req.Header.Get("Content-Type"), raw)
	if perr != nil {
		return reject(&Error{Status: http.StatusBadRequest, Reason: perr.Error()})
	}
	trigger := map[string]any{
		"body": body, "headers": flatten(req.Header), "query": flatten(req.URL.Query()),
		"method": req.Method, "received_at": received.Format(time.RFC3339Nano),
	}
	run := &store.Run{ID: store.NewID(), WorkflowID: w.ID, VersionID: version.ID, Version: version.Version,
		State: store.RunQueued, TriggerType: "webhook", Trigger: store.MustJSON(trigger), CreatedAt: received}
	in.Verdict = store.VerdictAccepted
	in.RunID = &run.ID
	err = r.st.InTx(ctx, func(tx *store.Store, sqlTx *sql.Tx) error {
		if err := tx.CreateInbound(ctx, in); err != nil {
			return err
		}
		if err := tx.CreateRun(ctx, run); err != nil {
			return err
		}
		return r.queue.Enqueue(ctx, sqlTx, run.ID)
	})
	if err != nil {
		return nil, r.unavailable(err)
	}
	return &Accepted{RunID: run.ID}, nil
}

// unavailable turns a storage failure into 503: the event is not durable,
// so the sender must retry.
func (r *Receiver) unavailable(err error) error {
	r.log.Error("webhook could not be recorded", "error", err)
	return &Error{Status: http.StatusServiceUnavailable, Reason: "the event could not be recorded; retry later"}
}

func parseBody(contentType string, raw []byte) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("body is not valid JSON although Content-Type says %s: %v", mt, err)
		}
		return v, nil
	case mt == "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(raw))
		if err != nil {
			return nil, fmt.Errorf("body is not valid form data: %v", err)
		}
		return flatten(vals), nil
	default:
		return string(raw), nil
	}
}

// flatten maps single values to strings and repeated ones to lists; header
// names are lower-cased so expressions need not guess the case.
func flatten[M ~map[string][]string](m M) map[string]any {
	out := make(map[string]any, len(m))
	_, isHeader := any(m).(http.Header)
	for k, vs := range m {
		if isHeader {
			k = strings.ToLower(k)
		}
		if len(vs) == 1 {
			out[k] = vs[0]
		} else {
			l := make([]any, len(vs))
			for i, v := range vs {
				l[i] = v
			}
			out[k] = l
		}
	}
	return out
}

var secretHeaders = []string{"authorization", "cookie", "proxy-authorization", "x-api-key"}

func redactedHeaders(h http.Header) map[string]any {
	out := flatten(h)
	for k := range out {
		if slices.Contains(secretHeaders, k) || strings.Contains(k, "token") || strings.Contains(k, "secret") {
			out[k] = "[redacted]"
		}
	}
	return out
}

func sourceIP(req *http.Request) string {
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		return req.RemoteAddr
	}
	return host
}

func capString(b []byte) string {
	if len(b) > inboundBodyCap {
		b = b[:inboundBodyCap]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
