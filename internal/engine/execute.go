package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/expr"
	"github.com/switchboard-dev/switchboard/internal/netguard"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/tlsconf"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

type outKind int

const (
	outDone     outKind = iota // continue with the next step
	outFiltered                // a filter stopped this branch
	outFailed                  // the run fails
	outWait                    // snooze until `until`
	outCanceled                // the run was canceled
	outInfra                   // the database failed: let River retry
	outLost                    // another process holds the run (until: its lease)
)

type outcome struct {
	kind  outKind
	err   string
	until time.Time
	cause error
}

// execution is one slice of a run's execution (one job attempt).
type execution struct {
	e        *Engine
	run      *store.Run
	c        *workflow.Compiled
	log      *slog.Logger
	trigger  any
	records  map[string]*store.StepRun // by step id + "\x00" + item key
	recMu    sync.Mutex
	seq      int
	root     *scope
	canceled bool

	// local: started in this process (it manages the run's job); fresh: a
	// new run's first slice, with no records to load.
	local, fresh bool
	claimed      bool // this slice holds the run's lease
	jobRetired   bool
	flushMu      sync.Mutex
	pendingSteps []*store.StepRun
	pendingDels  []*store.Delivery
	abortMu      sync.Mutex
	abort        error // a write before a call failed: the call was not made
}

// scope is what expressions see at one point of the tree.
type scope struct {
	itemKey string
	steps   map[string]any
	item    any
	index   any
	mu      *sync.Mutex // guards steps
}

func (e *Engine) newExecution(ctx context.Context, run *store.Run, c *workflow.Compiled, log *slog.Logger, fresh bool) (*execution, error) {
	var recs []store.StepRun
	if !fresh {
		var err error
		if recs, err = e.st.ListStepRuns(ctx, run.ID); err != nil {
			return nil, err
		}
	}
	x := &execution{e: e, run: run, c: c, log: log, trigger: run.Trigger.Decoded(), records: map[string]*store.StepRun{}, fresh: fresh}
	for i := range recs {
		r := &recs[i]
		x.records[r.StepID+"\x00"+r.ItemKey] = r
		if r.Seq > x.seq {
			x.seq = r.Seq
		}
	}
	x.root = &scope{steps: map[string]any{}, mu: &sync.Mutex{}}
	return x, nil
}

func (x *execution) env(sc *scope) map[string]any {
	sc.mu.Lock()
	steps := maps.Clone(sc.steps)
	sc.mu.Unlock()
	vars := x.c.Doc.Vars
	if vars == nil {
		vars = map[string]any{}
	}
	return map[string]any{
		"trigger": x.trigger,
		"steps":   steps,
		"vars":    vars,
		"run":     map[string]any{"id": x.run.ID, "attempt": x.run.Attempt, "workflow_id": x.run.WorkflowID},
		"item":    sc.item,
		"index":   sc.index,
		// One work budget for every expression of this step (its fields,
		// its input), so many cheap templates cannot add up to minutes.
		expr.BudgetName: expr.NewBudget(expr.StepBudget),
	}
}

func (x *execution) record(key string) *store.StepRun {
	x.recMu.Lock()
	defer x.recMu.Unlock()
	return x.records[key]
}

// save buffers a step record, capping payloads; the next flush writes it.
func (x *execution) save(_ context.Context, sr *store.StepRun) error {
	sr.RunID = x.run.ID
	sr.Input = capJSON(sr.Input, x.e.maxRecord)
	sr.Output = capJSON(sr.Output, x.e.maxRecord)
	x.addStep(sr)
	return nil
}

func (x *execution) setAbort(err error) {
	x.abortMu.Lock()
	if x.abort == nil {
		x.abort = err
	}
	x.abortMu.Unlock()
}

func (x *execution) aborted() error {
	x.abortMu.Lock()
	defer x.abortMu.Unlock()
	return x.abort
}

// capJSON replaces an oversized payload with a marker holding its size and a
// preview, so one huge response cannot bloat the database.
func capJSON(b store.JSON, max int) store.JSON {
	if len(b) <= max {
		return b
	}
	preview := string(b[:min(len(b), 1024)])
	return store.MustJSON(map[string]any{"_truncated": true, "original_size": len(b), "preview": preview})
}

func (x *execution) checkCanceled(ctx context.Context) (bool, error) {
	if x.canceled {
		return true, nil
	}
	r, err := x.e.st.GetRun(ctx, x.run.ID)
	if err != nil {
		return false, err
	}
	x.canceled = r.State == store.RunCanceled
	return x.canceled, nil
}

// runSteps runs a list of steps in order within a scope.
func (x *execution) runSteps(ctx context.Context, steps []*workflow.CompiledStep, sc *scope) outcome {
	for _, s := range steps {
		out := x.runStep(ctx, s, sc)
		if out.kind != outDone {
			return out
		}
	}
	return outcome{kind: outDone}
}

func (x *execution) setOutput(sc *scope, id string, v any) {
	sc.mu.Lock()
	sc.steps[id] = v
	sc.mu.Unlock()
}

func (x *execution) runStep(ctx context.Context, s *workflow.CompiledStep, sc *scope) outcome {
	key := s.ID + "\x00" + sc.itemKey
	prev := x.record(key)
	if prev != nil {
		switch prev.State {
		case store.StepSucceeded:
			x.setOutput(sc, s.ID, prev.Output.Decoded())
			if s.Type != workflow.StepPaths {
				return outcome{kind: outDone}
			}
			// A paths step re-enters its branches (which resume from their
			// records) so their outputs are visible to later steps again.
		case store.StepFiltered:
			return outcome{kind: outFiltered}
		case store.StepFailed:
			if s.OnError == "continue" {
				x.setOutput(sc, s.ID, nil)
				return outcome{kind: outDone}
			}
			return outcome{kind: outFailed, err: fmt.Sprintf("step %s: %s", s.ID, prev.Error)}
		}
	}
	// Only steps with effects or waits look for a cancel: a canceled run
	// sends nothing more, and pure steps are not worth a query each.
	if s.Type == workflow.StepAction || s.Type == workflow.StepDelay {
		if canceled, err := x.checkCanceled(ctx); err != nil {
			return outcome{kind: outInfra, cause: err}
		} else if canceled {
			return outcome{kind: outCanceled}
		}
	}
	started := x.e.now().UTC()
	switch s.Type {
	case workflow.StepFilter:
		return x.filter(ctx, s, sc, started)
	case workflow.StepMap:
		return x.mapStep(ctx, s, sc, started)
	case workflow.StepAction:
		return x.action(ctx, s, sc, prev, started)
	case workflow.StepDelay:
		return x.delay(ctx, s, sc, prev, started)
	case workflow.StepPaths:
		return x.paths(ctx, s, sc, started)
	case workflow.StepForEach:
		return x.forEach(ctx, s, sc, started)
	}
	return x.stepFailed(ctx, s, sc, started, nil, 1, fmt.Errorf("unknown step type %q", s.Type))
}

func (x *execution) finish(ctx context.Context, s *workflow.CompiledStep, sc *scope, started time.Time, state string, input, output any, attempts int, errMsg string) error {
	now := x.e.now().UTC()
	sr := &store.StepRun{StepID: s.ID, ItemKey: sc.itemKey, State: state, Attempts: attempts, Error: errMsg,
		StartedAt: started, FinishedAt: &now}
	if input != nil {
		sr.Input = store.MustJSON(input)
	}
	if output != nil {
		sr.Output = store.MustJSON(output)
	}
	if state == store.StepWaiting {
		sr.FinishedAt = nil
	} else {
		x.e.metrics.StepDuration.WithLabelValues(string(s.Type), state).Observe(now.Sub(started).Seconds())
	}
	return x.save(ctx, sr)
}

// stepFailed records a failure and applies on_error.
func (x *execution) stepFailed(ctx context.Context, s *workflow.CompiledStep, sc *scope, started time.Time, input any, attempts int, err error) outcome {
	if rerr := x.finish(ctx, s, sc, started, store.StepFailed, input, nil, attempts, err.Error()); rerr != nil {
		return outcome{kind: outInfra, cause: rerr}
	}
	if s.OnError == "continue" {
		x.setOutput(sc, s.ID, nil)
		return outcome{kind: outDone}
	}
	return outcome{kind: outFailed, err: fmt.Sprintf("step %s: %v", s.ID, err)}
}

func (x *execution) succeeded(ctx context.Context, s *workflow.CompiledStep, sc *scope, started time.Time, input, output any, attempts int) outcome {
	if err := x.finish(ctx, s, sc, started, store.StepSucceeded, input, output, attempts, ""); err != nil {
		return outcome{kind: outInfra, cause: err}
	}
	x.setOutput(sc, s.ID, output)
	return outcome{kind: outDone}
}

func (x *execution) filter(ctx context.Context, s *workflow.CompiledStep, sc *scope, started time.Time) outcome {
	v, err := s.If.Run(x.env(sc))
	if err != nil {
		return x.stepFailed(ctx, s, sc, started, map[string]any{"if": s.If.Source()}, 1, err)
	}
	passed := expr.Truthy(v)
	// The input (the expression) is the document's: not stored per run, the
	// run's record derives it (workflow.Document.StaticInput).
	out := map[string]any{"passed": passed}
	if passed {
		return x.succeeded(ctx, s, sc, started, nil, out, 1)
	}
	if err := x.finish(ctx, s, sc, started, store.StepFiltered, nil, out, 1, ""); err != nil {
		return outcome{kind: outInfra, cause: err}
	}
	return outcome{kind: outFiltered}
}

func (x *execution) mapStep(ctx context.Context, s *workflow.CompiledStep, sc *scope, started time.Time) outcome {
	v, err := s.Fields.Render(x.env(sc))
	if err != nil {
		path, inner := expr.SplitPath(err)
		return x.stepFailed(ctx, s, sc, started, nil, 1, fmt.Errorf("fields%s: %w", path, inner))
	}
	return x.succeeded(ctx, s, sc, started, nil, v, 1) // the template is the document's, see filter
}

func (x *execution) delay(ctx context.Context, s *workflow.CompiledStep, sc *scope, prev *store.StepRun, started time.Time) outcome {
	now := x.e.now()
	if prev != nil && prev.State == store.StepWaiting {
		var o struct {
			Until time.Time `json:"until"`
		}
		if err := json.Unmarshal(prev.Output, &o); err == nil {
			if now.Before(o.Until) {
				return outcome{kind: outWait, until: o.Until}
			}
			return x.succeeded(ctx, s, sc, prev.StartedAt, nil, map[string]any{"waited_until": o.Until}, 1)
		}
	}
	var until time.Time
	if s.Until != nil {
		v, err := s.Until.Run(x.env(sc))
		if err != nil {
			return x.stepFailed(ctx, s, sc, started, nil, 1, err)
		}
		t, err := asTime(v)
		if err != nil {
			return x.stepFailed(ctx, s, sc, started, nil, 1, fmt.Errorf("until: %w", err))
		}
		until = t
	} else {
		until = now.Add(s.For)
	}
	if !now.Before(until) {
		return x.succeeded(ctx, s, sc, started, nil, map[string]any{"waited_until": until.UTC()}, 1)
	}
	if err := x.finish(ctx, s, sc, started, store.StepWaiting, nil, map[string]any{"until": until.UTC()}, 1, ""); err != nil {
		return outcome{kind: outInfra, cause: err}
	}
	return outcome{kind: outWait, until: until}
}

// asList accepts any slice or array (expr ranges yield []int) and nil.
func asList(v any) ([]any, error) {
	if v == nil {
		return nil, nil
	}
	if l, ok := v.([]any); ok {
		return l, nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, fmt.Errorf("want a list, got %T", v)
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, nil
}

func asTime(v any) (time.Time, error) {
	switch t := v.(type) {
	case time.Time:
		return t, nil
	case string:
		p, err := time.Parse(time.RFC3339Nano, t)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", t)
		}
		return p, nil
	case float64:
		return time.Unix(int64(t), 0), nil
	case int:
		return time.Unix(int64(t), 0), nil
	}
	return time.Time{}, fmt.Errorf("want a time, got %T", v)
}

func (x *execution) paths(ctx context.Context, s *workflow.CompiledStep, sc *scope, started time.Time) outcome {
	mode := s.Mode
	if mode == "" {
		mode = "all"
	}
	env := x.env(sc)
	var taken []string
	var chosen []workflow.CompiledPath
	for _, p := range s.Paths {
		ok := true
		if p.If != nil {
			v, err := p.If.Run(env)
			if err != nil {
				return x.stepFailed(ctx, s, sc, started, nil, 1, fmt.Errorf("path %s: %w", p.Name, err))
			}
			ok = expr.Truthy(v)
		}
		if ok {
			taken = append(taken, p.Name)
			chosen = append(chosen, p)
			if mode == "first" {
				break
			}
		}
	}
	if taken == nil {
		taken = []string{}
	}
	for _, p := range chosen {
		out := x.runSteps(ctx, p.Steps, sc)
		switch out.kind {
		case outDone, outFiltered:
			// A filter inside a path ends that path only.
		default:
			return out
		}
	}
	return x.succeeded(ctx, s, sc, started, nil, map[string]any{"paths": taken}, 1)
}

func (x *execution) forEach(ctx context.Context, s *workflow.CompiledStep, sc *scope, started time.Time) outcome {
	v, err := s.Items.Run(x.env(sc))
	if err != nil {
		return x.stepFailed(ctx, s, sc, started, nil, 1, err)
	}
	items, err := asList(v)
	if err != nil {
		return x.stepFailed(ctx, s, sc, started, nil, 1, fmt.Errorf("items: %w", err))
	}
	conc := s.Concurrency
	if conc <= 0 {
		conc = 1
	}
	results := make([]any, len(items))
	outs := make([]outcome, len(items))
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for i, it := range items {
		key := strconv.Itoa(i)
		if sc.itemKey != "" {
			key = sc.itemKey + "/" + key
		}
		child := &scope{itemKey: key, steps: maps.Clone(sc.steps), item: it, index: i, mu: &sync.Mutex{}}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			outs[i] = x.runSteps(ctx, s.Steps, child)
			own := map[string]any{}
			child.mu.Lock()
			for _, b := range s.Steps {
				own[b.ID] = child.steps[b.ID]
			}
			child.mu.Unlock()
			results[i] = own
		}()
	}
	wg.Wait()
	var wait *outcome
	failed := 0
	firstErr := ""
	for i, o := range outs {
		switch o.kind {
		case outInfra, outCanceled:
			return o
		case outWait:
			if wait == nil || o.until.Before(wait.until) {
				wait = &outs[i]
			}
		case outFailed:
			failed++
			if firstErr == "" {
				firstErr = fmt.Sprintf("item %d: %s", i, o.err)
			}
			results[i] = nil
		}
	}
	if wait != nil {
		return *wait
	}
	in := map[string]any{"count": len(items)}
	if failed > 0 && s.OnError != "continue" {
		return x.stepFailed(ctx, s, sc, started, in, 1, fmt.Errorf("%d of %d items failed; first: %s", failed, len(items), firstErr))
	}
	return x.succeeded(ctx, s, sc, started, in, results, 1)
}

func (x *execution) action(ctx context.Context, s *workflow.CompiledStep, sc *scope, prev *store.StepRun, started time.Time) outcome {
	attempt := 1
	if prev != nil && prev.State == store.StepWaiting {
		var o struct {
			RetryAt time.Time `json:"retry_at"`
		}
		_ = json.Unmarshal(prev.Output, &o)
		if x.e.now().Before(o.RetryAt) {
			return outcome{kind: outWait, until: o.RetryAt}
		}
		attempt = prev.Attempts + 1
		started = prev.StartedAt
	}
	rendered, err := s.Input.Render(x.env(sc))
	if err != nil {
		path, inner := expr.SplitPath(err)
		return x.stepFailed(ctx, s, sc, started, nil, attempt, fmt.Errorf("input%s: %w", path, inner))
	}
	input, _ := rendered.(map[string]any)
	conn, spec, err := x.e.reg.Resolve(s.Action)
	if err != nil {
		return x.stepFailed(ctx, s, sc, started, input, attempt, err)
	}
	if problems := connectors.CheckInput(spec, input); len(problems) > 0 {
		return x.stepFailed(ctx, s, sc, started, input, attempt, fmt.Errorf("input: %s", formatProblems(problems)))
	}
	connID, _, _ := strings.Cut(s.Action, ".")
	var creds map[string]string
	var health ConnectionHealth
	marked := false
	if s.Connection != "" {
		if x.e.creds == nil {
			return x.stepFailed(ctx, s, sc, started, input, attempt, errors.New("connections are not available in this process"))
		}
		if h, ok := x.e.creds.(ConnectionHealth); ok {
			health = h
			creds, marked, err = h.CredentialsMarked(ctx, s.Connection, connID)
		} else {
			creds, err = x.e.creds.Credentials(ctx, s.Connection, connID)
		}
		if errors.Is(err, store.ErrNotFound) {
			return x.stepFailed(ctx, s, sc, started, input, attempt, fmt.Errorf("connection %q does not exist", s.Connection))
		}
		if err != nil {
			// A provider outage while refreshing a token can pass; a
			// connection that must be reconnected cannot (the source marks
			// it permanent).
			return x.actionFailed(ctx, s, sc, started, input, attempt, fmt.Errorf("opening connection %q: %w", s.Connection, err))
		}
	}
	red := newRedactor(creds)
	attemptsBefore := 0
	if !x.fresh {
		if attemptsBefore, err = x.e.st.CountDeliveries(ctx, x.run.ID, s.ID, sc.itemKey); err != nil {
			return outcome{kind: outInfra, cause: err}
		}
	}
	rec := &recorder{x: x, runID: x.run.ID, stepID: s.ID, itemKey: sc.itemKey, attempt: attemptsBefore, redact: red, latency: x.e.metrics.DeliveryLatency}
	outbound := x.e.outbound
	if tlsCfg, ok, err := tlsconf.FromCredentials(creds); err != nil {
		return x.stepFailed(ctx, s, sc, started, input, attempt, fmt.Errorf("connection %q: %w", s.Connection, err))
	} else if ok {
		outbound.TLS = tlsCfg // the connection's client certificate and CA
	}
	client := netguard.NewClient(outbound, func(next http.RoundTripper) http.RoundTripper {
		rec.next = next
		return rec
	})
	actx := ctx
	if s.Timeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, s.Timeout)
		defer cancel()
	}
	_, actionID, _ := strings.Cut(s.Action, ".")
	res, err := conn.Execute(actx, connectors.Request{
		Action: actionID, Input: input, HTTP: client, Dial: netguard.NewDialer(x.e.outbound), Credentials: creds,
		IdempotencyKey: idempotencyKey(x.run.ID, s.ID, sc.itemKey),
		Logger:         x.log.With("step", s.ID),
	})
	if abort := x.aborted(); abort != nil {
		// A call could not be recorded before it was made, so it was not
		// made: stop here and let the run resume from its records.
		if errors.Is(abort, errLeaseLost) {
			return x.leaseLost(ctx)
		}
		return outcome{kind: outInfra, cause: abort}
	}
	if err == nil {
		if marked {
			if herr := health.Worked(ctx, s.Connection); herr != nil {
				x.log.Warn("clearing the connection's recorded failure", "connection", s.Connection, "error", herr)
			}
		}
		return x.succeeded(ctx, s, sc, started, red.Value(input), red.Value(res.Output), attempt)
	}
	err = red.Err(err)
	if health != nil && rec.refused != 0 {
		reason := fmt.Sprintf("the service refused it (HTTP %d) in step %s of workflow %q: %s", rec.refused, s.ID, x.c.Doc.Name, err)
		if herr := health.Refused(ctx, s.Connection, reason); herr != nil {
			x.log.Warn("recording the connection's failure", "connection", s.Connection, "error", herr)
		}
	}
	if m, ok := red.Value(input).(map[string]any); ok {
		input = m
	}
	if ctx.Err() != nil {
		// Shutdown or job timeout, not the step's fault: hand the run back.
		return outcome{kind: outInfra, cause: fmt.Errorf("step %s interrupted: %w", s.ID, ctx.Err())}
	}
	return x.actionFailed(ctx, s, sc, started, input, attempt, err)
}

// actionFailed classifies an action's error and retries it (by snoozing)
// when its kind and the step's retry policy allow, else fails the step.
func (x *execution) actionFailed(ctx context.Context, s *workflow.CompiledStep, sc *scope, started time.Time, input map[string]any, attempt int, err error) outcome {
	kind := connectors.KindOf(err)
	switch {
	case errors.Is(err, netguard.ErrBlocked):
		// Said plainly: which setting an operator changes, not just "refused".
		err = reclassified(fmt.Errorf("not called, %w; an operator can allow it by adding the address or its network to SWITCHBOARD_OUTBOUND_ALLOW", err),
			connectors.KindPermanent)
		kind = connectors.KindPermanent
	case errors.Is(err, netguard.ErrTooLarge), connectors.UntrustedCertificate(err):
		err = reclassified(err, connectors.KindPermanent)
		kind = connectors.KindPermanent
	}
	if (kind == connectors.KindRetryable || kind == connectors.KindRateLimited) && s.Retry != nil && attempt < s.Retry.MaxAttempts {
		at := x.e.now().Add(backoff(s.Retry, attempt, connectors.RetryAfterOf(err)))
		if rerr := x.finish(ctx, s, sc, started, store.StepWaiting, input,
			map[string]any{"retry_at": at.UTC()}, attempt, err.Error()); rerr != nil {
			return outcome{kind: outInfra, cause: rerr}
		}
		return outcome{kind: outWait, until: at}
	}
	return x.stepFailed(ctx, s, sc, started, input, attempt, err)
}

// reclassified is err under the kind the engine settled on, its message
// starting with that kind (the connector's guess taken out).
func reclassified(err error, kind connectors.ErrorKind) error {
	msg := strings.Replace(err.Error(), string(connectors.KindOf(err))+": ", "", 1)
	return &kindError{msg: string(kind) + ": " + msg, err: err}
}

// kindError carries a reclassified message; the cause stays reachable.
type kindError struct {
	msg string
	err error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.err }

// backoff is the wait before attempt+1: exponential with full jitter between
// half and all of the step, capped, and never shorter than Retry-After.
func backoff(r *workflow.Retry, attempt int, retryAfter time.Duration) time.Duration {
	initial := parseOr(r.Initial, 2*time.Second)
	maxD := parseOr(r.Max, 10*time.Minute)
	d := initial
	if r.Backoff != "fixed" {
		d = time.Duration(float64(initial) * math.Pow(2, float64(attempt-1)))
	}
	if d > maxD || d <= 0 {
		d = maxD
	}
	d = d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
	if retryAfter > d {
		d = retryAfter
	}
	return d
}

func parseOr(s string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d
	}
	return def
}

func formatProblems(p map[string]string) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + p[k]
	}
	return strings.Join(parts, "; ")
}
