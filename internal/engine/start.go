package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
)

// StartTx is the transaction a trigger, replay or test starts runs in: the
// caller writes its own rows (inbox entry, dedupe claim, tick) through Store
// and hands each new run to Run, so everything commits together.
type StartTx struct {
	st    *store.Store
	sqlTx *sql.Tx
	e     *Engine
	local []*store.Run // to start in this process once committed
}

// Store is the store bound to the transaction.
func (t *StartTx) Store() *store.Store { return t.st }

// Run creates run (queued) and enqueues its job in the transaction. It is
// the one place a run and its job are written.
func (t *StartTx) Run(ctx context.Context, run *store.Run) error {
	if run.ID == "" {
		run.ID = store.NewID()
	}
	// A call run again (its shared commit failed) decides afresh.
	run.LeaseOwner, run.LeaseUntil, run.JobID = nil, nil, nil
	// With room here, the run starts in this process right after the commit
	// and needs no queue job: the run row, leased to this process, is the
	// durable unit (if the process dies, the lease lapses and any worker
	// takes the run over). Otherwise any worker takes its job at once.
	if t.e.local.reserve() {
		until := t.e.now().Add(t.e.lease).UTC()
		run.LeaseOwner, run.LeaseUntil = &t.e.owner, &until
		if err := t.st.CreateRun(ctx, run); err != nil {
			t.e.local.release()
			return err
		}
		t.local = append(t.local, run)
		return nil
	}
	res, err := t.e.river.InsertTx(ctx, t.sqlTx, RunArgs{RunID: run.ID}, nil)
	if err != nil {
		return fmt.Errorf("enqueuing run %s: %w", run.ID, err)
	}
	run.JobID = &res.Job.ID
	return t.st.CreateRun(ctx, run)
}

// done starts the committed local runs, or gives their slots back.
func (t *StartTx) done(committed bool) {
	for _, run := range t.local {
		if committed {
			// A replay from the failed step has copied records to load.
			t.e.dispatch(run, slice{fresh: run.ReplayOf == nil})
		} else {
			t.e.local.release()
		}
	}
	t.local = nil
}

// StartRuns runs fn in a transaction and commits it: every path that starts
// a run (webhook, hosted form, schedule, replay, bulk replay, manual test)
// goes through here, so the runs it creates and their queue jobs are durable
// before the caller answers anyone. fn's error rolls back fn's writes and is
// returned as is.
//
// Calls that arrive while a commit is under way share the next one (group
// commit): each fn runs under its own savepoint, so one failing fn leaves
// the others' writes in place, and every caller returns only after the
// commit that holds its writes.
func (e *Engine) StartRuns(ctx context.Context, fn func(tx *StartTx) error) error {
	return e.commit(ctx, fn, false)
}

// ErrNoWrites marks (wrapped) a failure of a StartRunsClean fn that came
// before it wrote anything.
var ErrNoWrites = errors.New("nothing written")

// StartRunsClean is StartRuns for an fn that fails only before writing
// anything (with an error wrapping ErrNoWrites) or on a database error, and
// may run again if its shared commit fails (its writes are then redone in a
// transaction of its own): it saves the savepoint round trips of a shared
// commit. A webhook accept is such an fn.
func (e *Engine) StartRunsClean(ctx context.Context, fn func(tx *StartTx) error) error {
	return e.commit(ctx, fn, true)
}

// commit hands fn to the group commit and waits for the commit that holds
// its writes. A clean fn (the writes of a run's execution, see flush) gets
// no savepoint of its own: it fails only with store.ErrLeaseLost before any
// write, and any other failure of it rolls the whole batch back and every
// call of the batch is run again in a transaction of its own.
func (e *Engine) commit(ctx context.Context, fn func(tx *StartTx) error, clean bool) error {
	r := &startReq{ctx: ctx, fn: fn, clean: clean, done: make(chan struct{})}
	g := &e.group
	g.mu.Lock()
	g.queue = append(g.queue, r)
	lead := g.active < e.commitLanes()
	if lead {
		g.active++
	}
	g.mu.Unlock()
	if lead {
		e.commitBatches(true)
	}
	// Bounded by the batch's own timeout; a caller must not answer before
	// the commit that holds its writes has ended either way.
	<-r.done
	return r.err
}

// startReq is one StartRuns call waiting for its commit.
type startReq struct {
	ctx   context.Context
	fn    func(tx *StartTx) error
	clean bool
	err   error
	stx   *StartTx
	done  chan struct{}
}

// groupCommit gathers concurrent StartRuns calls.
type groupCommit struct {
	mu     sync.Mutex
	queue  []*startReq
	active int // goroutines committing batches
}

// commitLanes is how many shared commits may be under way at once: SQLite
// has one writer; PostgreSQL overlaps the round trips of a few.
func (e *Engine) commitLanes() int {
	if e.st.Dialect() == store.Postgres {
		return 4
	}
	return 1
}

// maxStartBatch bounds one shared commit.
const maxStartBatch = 256

// commitBatches commits queued calls batch by batch until none is left. The
// caller that found no commit under way runs the first batch (its own call
// is in it) and hands the rest to a goroutine, so it can answer at once.
func (e *Engine) commitBatches(first bool) {
	g := &e.group
	for {
		g.mu.Lock()
		n := min(len(g.queue), maxStartBatch)
		if n == 0 {
			g.active--
			g.mu.Unlock()
			return
		}
		batch := g.queue[:n:n]
		g.queue = append([]*startReq(nil), g.queue[n:]...)
		g.mu.Unlock()
		e.commitBatch(batch)
		if first {
			go e.commitBatches(false)
			return
		}
	}
}

func (e *Engine) commitBatch(batch []*startReq) {
	err := e.tryBatch(batch)
	if errors.Is(err, errRedoAlone) {
		// A clean call failed part-way: each call again on its own.
		for _, r := range batch {
			r.err, r.stx = nil, nil
			if aerr := e.tryBatch([]*startReq{r}); aerr != nil {
				if r.stx != nil {
					r.stx.done(false) // its fn ran, its commit failed
					r.stx = nil
				}
				if r.err == nil {
					r.err = aerr
				}
			}
		}
		err = nil
	}
	for _, r := range batch {
		if r.stx != nil {
			if err != nil {
				r.err = err
			}
			r.stx.done(err == nil)
		} else if r.err == nil {
			r.err = err
		}
		close(r.done)
	}
}

// tryBatch runs the calls of batch in one transaction. It leaves r.stx set
// for each call whose writes are in the transaction (r.err for the others)
// and returns the transaction's error; errRedoAlone means nothing of it was
// kept and no call's outcome is set.
func (e *Engine) tryBatch(batch []*startReq) error {
	// The shared transaction outlives any one caller's context; each fn's
	// statements still use its own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(batch[0].ctx), time.Minute)
	defer cancel()
	shared := len(batch) > 1
	err := e.st.InTx(ctx, func(tx *store.Store, sqlTx *sql.Tx) error {
		ok := 0
		for _, r := range batch {
			stx := &StartTx{st: tx, sqlTx: sqlTx, e: e}
			savepoint := shared && !r.clean
			if savepoint {
				if err := tx.Savepoint(ctx, "start_run"); err != nil {
					return err
				}
			}
			if r.err = r.fn(stx); r.err != nil {
				stx.done(false)
				switch {
				case !shared:
					return r.err
				case r.clean && (errors.Is(r.err, store.ErrLeaseLost) || errors.Is(r.err, ErrNoWrites)):
					continue // failed before writing anything
				case r.clean:
					return errRedoAlone
				}
				if err := tx.RollbackToSavepoint(ctx, "start_run"); err != nil {
					return err
				}
				continue
			}
			if savepoint {
				if err := tx.ReleaseSavepoint(ctx, "start_run"); err != nil {
					return err
				}
			}
			r.stx = stx
			ok++
		}
		if ok == 0 {
			return errNothingToCommit
		}
		return nil
	})
	if errors.Is(err, errRedoAlone) {
		// Nothing of it is kept: the local runs it started give their slots back.
		for _, r := range batch {
			if r.stx != nil {
				r.stx.done(false)
				r.stx = nil
			}
		}
	}
	return err
}

// errRedoAlone rolls back a batch in which a clean call failed after writing.
var errRedoAlone = errors.New("a call of the shared commit failed: each is run alone")

// errNothingToCommit rolls back a batch whose every call failed.
var errNothingToCommit = errors.New("no run to start")
