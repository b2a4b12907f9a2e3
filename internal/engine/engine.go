package engine

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/riverqueue/river"
	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/metrics"
	"github.com/switchboard-dev/switchboard/internal/netguard"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

// Options configures an Engine.
type Options struct {
	Queue    QueueOptions
	Registry *connectors.Registry
	// Outbound configures the guarded client every connector call uses.
	Outbound netguard.Options
	// MaxPayloadBytes caps each recorded input and output (default 256 KiB).
	MaxPayloadBytes int
	// Retention limits run history; pruning runs where workers run.
	Retention Retention
	// Credentials opens a step's connection; nil means steps cannot use
	// connections.
	Credentials CredentialSource
	Logger      *slog.Logger
	// Metrics receives step and delivery histograms (nil: a private registry).
	Metrics *metrics.Metrics
	// Now is the clock; tests may replace it.
	Now func() time.Time
}

// CredentialSource opens the named connection for a connector.
type CredentialSource interface {
	Credentials(ctx context.Context, name, connectorID string) (map[string]string, error)
}

// Engine executes runs and owns the queue client.
type Engine struct {
	st        *store.Store
	reg       *connectors.Registry
	outbound  netguard.Options
	transport http.RoundTripper
	log       *slog.Logger
	now       func() time.Time
	maxRecord int
	retention Retention
	creds     CredentialSource
	river     *river.Client[*sql.Tx]
	metrics   *metrics.Metrics

	compiled *lru.Cache[string, *workflow.Compiled] // by version id; versions are immutable
}

// New builds an engine. With Queue.Workers > 0 it works runs once started;
// otherwise it only enqueues them.
func New(st *store.Store, o Options) (*Engine, error) {
	if o.Registry == nil {
		o.Registry = connectors.Default
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Metrics == nil {
		o.Metrics = metrics.New()
	}
	if o.MaxPayloadBytes <= 0 {
		o.MaxPayloadBytes = 256 << 10
	}
	if o.Queue.JobTimeout <= 0 {
		o.Queue.JobTimeout = 5 * time.Minute
	}
	if o.Queue.RescueAfter <= 0 {
		o.Queue.RescueAfter = o.Queue.JobTimeout + time.Minute
	}
	o.Queue.Logger = o.Logger
	e := &Engine{
		st: st, reg: o.Registry, outbound: o.Outbound, log: o.Logger, now: o.Now,
		maxRecord: o.MaxPayloadBytes, retention: o.Retention, creds: o.Credentials, metrics: o.Metrics, compiled: newCompiledCache(),
	}
	if e.retention.Interval <= 0 {
		e.retention.Interval = time.Hour
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &runWorker{e: e})
	river.AddWorker(workers, &retentionWorker{e: e})
	periodic := []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(e.retention.Interval),
		func() (river.JobArgs, *river.InsertOpts) { return RetentionArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true, ID: "retention"})}
	c, err := newRiverClient(st, o.Queue, workers, periodic)
	if err != nil {
		return nil, err
	}
	e.river = c
	return e, nil
}

// Start starts working jobs (no-op for an insert-only engine).
func (e *Engine) Start(ctx context.Context) error {
	if err := e.river.Start(ctx); err != nil {
		return fmt.Errorf("starting queue: %w", err)
	}
	return nil
}

// Stop stops fetching jobs and waits for in-flight runs until ctx ends; then
// it cancels them, and their jobs are retried (by this or another process).
func (e *Engine) Stop(ctx context.Context) error {
	err := e.river.Stop(ctx)
	if err == nil {
		return nil
	}
	hard, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err2 := e.river.StopAndCancel(hard); err2 != nil {
		return fmt.Errorf("stopping queue: %w", errors.Join(err, err2))
	}
	return nil
}

// compiledVersions bounds the compiled-document cache: the least recently
// used version goes first (a busy workflow's stays).
const compiledVersions = 1000

func newCompiledCache() *lru.Cache[string, *workflow.Compiled] {
	c, err := lru.New[string, *workflow.Compiled](compiledVersions)
	if err != nil {
		panic(err) // only for a size <= 0
	}
	return c
}

// Compiled returns the compiled document of a version, compiling it once.
func (e *Engine) Compiled(ctx context.Context, versionID string) (*workflow.Compiled, error) {
	if c, ok := e.compiled.Get(versionID); ok {
		return c, nil
	}
	v, err := e.st.GetVersion(ctx, versionID)
	if err != nil {
		return nil, err
	}
	doc, err := workflow.Parse(v.Document)
	if err != nil {
		return nil, fmt.Errorf("parsing version %s: %w", versionID, err)
	}
	c, err := workflow.Compile(doc)
	if err != nil {
		return nil, fmt.Errorf("compiling version %s: %w", versionID, err)
	}
	e.compiled.Add(versionID, c)
	return c, nil
}

type runWorker struct {
	river.WorkerDefaults[RunArgs]
	e *Engine
}

func (w *runWorker) Work(ctx context.Context, job *river.Job[RunArgs]) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("run %s panicked: %v", job.Args.RunID, r)
		}
		var snooze *river.JobSnoozeError
		var cancel *river.JobCancelError
		if err != nil && !errors.As(err, &snooze) && !errors.As(err, &cancel) && job.Attempt >= job.MaxAttempts {
			// River gives up on the job now: the run must not stay running.
			msg := fmt.Sprintf("gave up after %d attempts: %v", job.Attempt, err)
			fctx, cancelCtx := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancelCtx()
			if _, ferr := w.e.st.FinishRun(fctx, job.Args.RunID, store.RunFailed, msg); ferr != nil {
				w.e.log.Error("recording failed run", "run_id", job.Args.RunID, "error", ferr)
			}
		}
	}()
	return w.e.Execute(ctx, job.Args.RunID)
}

// Execute runs (or resumes) a run until it ends or must wait. A wait returns
// river.JobSnooze so no worker is held; an infrastructure error is returned
// for River to retry, and the run resumes from its last recorded step.
func (e *Engine) Execute(ctx context.Context, runID string) error {
	pending, err := e.st.GetRun(ctx, runID)
	if errors.Is(err, store.ErrNotFound) {
		// Deleted (retention, workflow removed) before it ran: nothing to do.
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if store.RunFinal(pending.State) {
		return nil
	}
	log := e.log.With("run_id", runID, "workflow_id", pending.WorkflowID)
	c, err := e.Compiled(ctx, pending.VersionID)
	if err != nil {
		return e.fail(ctx, log, runID, fmt.Sprintf("loading workflow version: %v", err))
	}
	limit := 0
	if c.Doc.Settings != nil {
		limit = c.Doc.Settings.Concurrency
	}
	run, err := e.st.StartRun(ctx, runID, limit)
	if errors.Is(err, store.ErrBusy) {
		// Stay queued; try again shortly without spending an attempt.
		return river.JobSnooze(250*time.Millisecond + time.Duration(rand.Int64N(int64(250*time.Millisecond))))
	}
	if err != nil {
		return err
	}
	if store.RunFinal(run.State) {
		return nil
	}
	log = log.With("attempt", run.Attempt)
	x, err := e.newExecution(ctx, run, c, log)
	if err != nil {
		return err
	}
	out := x.runSteps(ctx, c.Steps, x.root)
	switch out.kind {
	case outDone:
		_, err = e.st.FinishRun(ctx, run.ID, store.RunSucceeded, "")
		log.Info("run succeeded")
	case outFiltered:
		_, err = e.st.FinishRun(ctx, run.ID, store.RunFiltered, "")
		log.Info("run filtered")
	case outFailed:
		_, err = e.st.FinishRun(ctx, run.ID, store.RunFailed, out.err)
		log.Info("run failed", "error", out.err)
	case outCanceled:
		log.Info("run canceled")
		return nil
	case outWait:
		if err := e.st.SetRunState(ctx, run.ID, store.RunWaiting); err != nil {
			return err
		}
		d := out.until.Sub(e.now())
		if d < time.Millisecond {
			d = time.Millisecond
		}
		log.Info("run waiting", "until", out.until)
		return river.JobSnooze(d)
	case outInfra:
		// Leave the run as it is; River retries the job and the run resumes.
		return out.cause
	}
	return err
}

func (e *Engine) fail(ctx context.Context, log *slog.Logger, runID, msg string) error {
	log.Warn("run failed", "error", msg)
	_, err := e.st.FinishRun(ctx, runID, store.RunFailed, msg)
	return err
}

// idempotencyKey is stable for a run, step and item, across retries and
// resumes, so receivers can drop duplicates.
func idempotencyKey(runID, stepID, itemKey string) string {
	sum := sha256.Sum256([]byte(runID + "\x00" + stepID + "\x00" + itemKey))
	return "sb_" + hex.EncodeToString(sum[:16])
}

func decodeJSON(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil
	}
	return v
}
