package engine

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
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

// ConnectionHealth is implemented by a CredentialSource that remembers how
// each connection fared: a step whose call the service refused (401/403)
// marks its connection, and the next step that succeeds with it clears the
// mark.
type ConnectionHealth interface {
	// CredentialsMarked is Credentials, also saying whether a failure is
	// recorded on the connection, so a success writes only to clear one.
	CredentialsMarked(ctx context.Context, name, connectorID string) (creds map[string]string, marked bool, err error)
	Refused(ctx context.Context, name, reason string) error
	Worked(ctx context.Context, name string) error
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
	owner     string        // this process, in run leases
	lease     time.Duration // how long a run's lease lasts without a heartbeat
	local     *localPool    // nil in an insert-only engine
	stopBeat  context.CancelFunc
	group     groupCommit

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
	if o.Queue.Lease <= 0 {
		o.Queue.Lease = 15 * time.Second
	}
	o.Queue.Logger = o.Logger
	e := &Engine{
		st: st, reg: o.Registry, outbound: o.Outbound, log: o.Logger, now: o.Now,
		maxRecord: o.MaxPayloadBytes, retention: o.Retention, creds: o.Credentials, metrics: o.Metrics, compiled: newCompiledCache(),
		owner: newOwner(), lease: o.Queue.Lease,
	}
	if o.Queue.Workers > 0 {
		e.local = newLocalPool(o.Queue.Workers)
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
	if e.local != nil {
		e.local.mu.Lock()
		e.local.started = true
		e.local.mu.Unlock()
		bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		e.stopBeat = cancel
		go e.heartbeat(bctx)
	}
	return nil
}

// Stop stops fetching jobs and waits for in-flight runs until ctx ends; then
// it cancels them, and their jobs are retried (by this or another process).
func (e *Engine) Stop(ctx context.Context) error {
	localDone := make(chan struct{})
	go func() {
		defer close(localDone)
		if e.local != nil {
			e.stopLocal(ctx)
		}
	}()
	err := e.river.Stop(ctx)
	<-localDone
	if e.stopBeat != nil {
		e.stopBeat()
	}
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

// Execute runs (or resumes) a run River handed this worker, until it ends or
// must wait. A wait returns river.JobSnooze so no worker is held; an
// infrastructure error is returned for River to retry, and the run resumes
// from its last recorded step.
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
	if d := e.leasedElsewhere(pending); d > 0 {
		// Another live process executes it (this job is its fallback): look
		// again when that lease would lapse.
		return river.JobSnooze(d)
	}
	return e.execute(ctx, pending, slice{})
}

// leasedElsewhere is how long another process's lease on r still runs.
func (e *Engine) leasedElsewhere(r *store.Run) time.Duration {
	if r.LeaseOwner == nil || *r.LeaseOwner == e.owner || r.LeaseUntil == nil {
		return 0
	}
	d := r.LeaseUntil.Sub(e.now())
	if d <= 0 {
		return 0
	}
	return d + time.Duration(rand.Int64N(int64(250*time.Millisecond)))
}

// execute runs one slice of a run.
func (e *Engine) execute(ctx context.Context, pending *store.Run, sl slice) error {
	local := sl.local
	runID := pending.ID
	log := e.log.With("run_id", runID, "workflow_id", pending.WorkflowID)
	c, err := e.Compiled(ctx, pending.VersionID)
	if err != nil {
		return e.fail(ctx, log, runID, fmt.Sprintf("loading workflow version: %v", err))
	}
	limit := 0
	if c.Doc.Settings != nil {
		limit = c.Doc.Settings.Concurrency
	}
	run := pending
	claimed := sl.claimed
	if claimed {
		// Taken over: the claim already counted the attempt.
	} else if limit > 0 {
		// A concurrency limit is checked when the run is taken, before any
		// step runs.
		run, err = e.st.StartRunLeased(ctx, runID, limit, e.owner, e.now().Add(e.lease))
		if errors.Is(err, store.ErrBusy) {
			// Stay queued; try again shortly without spending an attempt.
			return river.JobSnooze(250*time.Millisecond + time.Duration(rand.Int64N(int64(250*time.Millisecond))))
		}
		if errors.Is(err, store.ErrLeaseLost) {
			return river.JobSnooze(e.lease)
		}
		if err != nil {
			return err
		}
		if store.RunFinal(run.State) {
			return nil
		}
		claimed = true
	} else {
		// The lease is taken with the run's first write (before any side
		// effect); expressions see the attempt that write will count.
		cp := *pending
		cp.Attempt++
		run = &cp
	}
	log = log.With("attempt", run.Attempt)
	x, err := e.newExecution(ctx, run, c, log, sl.fresh)
	if err != nil {
		return err
	}
	x.local, x.claimed = local, claimed
	out := x.runSteps(ctx, c.Steps, x.root)
	var fin *final
	switch out.kind {
	case outDone:
		fin = &final{state: store.RunSucceeded}
	case outFiltered:
		fin = &final{state: store.RunFiltered}
	case outFailed:
		fin = &final{state: store.RunFailed, err: out.err}
	case outWait:
		fin = &final{state: store.RunWaiting, until: out.until}
	case outCanceled:
		log.Info("run canceled")
		return e.dropJob(x)
	case outLost:
		log.Info("run taken over by another process")
		if local {
			return nil // its job stays as the other process's fallback
		}
		return river.JobSnooze(max(time.Until(out.until), time.Second))
	case outInfra:
		// Leave the run as it is; River retries the job and the run resumes.
		return out.cause
	}
	if err := x.flush(ctx, fin); err != nil {
		if errors.Is(err, errLeaseLost) {
			lost := x.leaseLost(ctx)
			if lost.kind == outCanceled {
				log.Info("run canceled")
				return e.dropJob(x)
			}
			if local {
				return nil
			}
			return river.JobSnooze(max(time.Until(lost.until), time.Second))
		}
		return err
	}
	switch fin.state {
	case store.RunWaiting:
		log.Info("run waiting", "until", out.until)
		if local {
			return nil // its job was moved to the end of the wait
		}
		d := out.until.Sub(e.now())
		if d < time.Millisecond {
			d = time.Millisecond
		}
		return river.JobSnooze(d)
	case store.RunFailed:
		log.Info("run failed", "error", out.err)
	default:
		log.Info("run " + fin.state)
	}
	return nil
}

// dropJob retires the job of a locally started run that ended without a
// final write of its own (canceled).
func (e *Engine) dropJob(x *execution) error {
	if !x.local || x.run.JobID == nil || x.jobRetired {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return e.st.InTx(ctx, func(_ *store.Store, sqlTx *sql.Tx) error { return e.retireJob(ctx, sqlTx, *x.run.JobID) })
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
