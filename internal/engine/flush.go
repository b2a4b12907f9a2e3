package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// A run's records are written in batches, not one commit per step: the
// steps that ran since the last write go out together with the run's lease
// (claim or renewal) right before the first side effect (a delivery written
// "sending" before its call) and with the run's final or waiting state at
// the end. A pure step lost in a crash is simply computed again on resume.

// errLeaseLost stops an execution whose run was canceled or taken over.
var errLeaseLost = store.ErrLeaseLost

// final is the state a flush leaves the run in (nil: still running).
type final struct {
	state string
	err   string
	until time.Time // for waiting
}

// addStep buffers a step record.
func (x *execution) addStep(sr *store.StepRun) {
	x.recMu.Lock()
	if sr.Seq == 0 {
		x.seq++
		sr.Seq = x.seq
	}
	x.records[sr.StepID+"\x00"+sr.ItemKey] = sr
	x.pendingSteps = append(x.pendingSteps, sr)
	x.recMu.Unlock()
}

// addDelivery buffers a delivery record.
func (x *execution) addDelivery(d *store.Delivery) {
	x.recMu.Lock()
	x.pendingDels = append(x.pendingDels, d)
	x.recMu.Unlock()
}

// flush writes what is buffered (plus extra) in one transaction together
// with the run's lease or its new state fin. It fails with errLeaseLost when
// the run was canceled or another process holds it.
func (x *execution) flush(ctx context.Context, fin *final, extra ...*store.Delivery) error {
	// The first write takes the lease, so writes wait for it; after that,
	// concurrent for_each items write side by side.
	x.flushMu.Lock()
	claimed := x.claimed
	if claimed {
		x.flushMu.Unlock()
	} else {
		defer x.flushMu.Unlock()
	}
	x.recMu.Lock()
	steps, dels := x.pendingSteps, append(x.pendingDels, extra...)
	x.pendingSteps, x.pendingDels = nil, nil
	x.recMu.Unlock()
	now := x.e.now()
	adv := store.Advance{ID: x.run.ID, Owner: x.e.owner, Now: now, Claim: !claimed, State: store.RunRunning,
		LeaseUntil: now.Add(x.e.lease)}
	if fin != nil {
		adv.State, adv.Error = fin.state, fin.err
	}
	// Records are written even when the run's context ended: the work they
	// describe happened.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var err error
	if x.oneStatement(wctx, fin) {
		err = x.e.st.AdvanceAndSave(wctx, adv, steps, dels)
	} else {
		err = x.writeTx(wctx, adv, fin, steps, dels)
	}
	if err != nil {
		return err
	}
	if !claimed {
		x.claimed = true // under flushMu
	}
	if fin != nil && x.local {
		x.jobRetired = true
	}
	return nil
}

// oneStatement reports whether a write needs nothing but the run's update
// and its records (no queue job to retire or schedule, no event to record),
// so PostgreSQL can take it as one statement.
func (x *execution) oneStatement(ctx context.Context, fin *final) bool {
	if !x.e.st.OneStatementWrites() {
		return false
	}
	if fin == nil {
		return true
	}
	if x.local && (x.run.JobID != nil || fin.state == store.RunWaiting) {
		return false
	}
	wanted, err := x.e.st.RunEndWanted(ctx, fin.state)
	return err == nil && !wanted
}

// writeTx is a write of the run in a transaction of its own (or, on
// SQLite, in the shared commit).
func (x *execution) writeTx(wctx context.Context, adv store.Advance, fin *final, steps []*store.StepRun, dels []*store.Delivery) error {
	return x.e.writeRun(wctx, func(tx *store.Store, sqlTx *sql.Tx) error {
		if err := tx.AdvanceRun(wctx, adv); err != nil {
			return err
		}
		if err := tx.SaveRecords(wctx, steps, dels); err != nil {
			return err
		}
		if fin != nil {
			if err := tx.RunEnded(wctx, x.run.ID, fin.state); err != nil {
				return err
			}
		}
		if fin == nil || !x.local {
			return nil
		}
		// This process manages the run's job itself: retire it in the same
		// commit, or (re)schedule it for the end of the wait.
		if x.run.JobID != nil {
			if err := x.e.retireJob(wctx, sqlTx, *x.run.JobID); err != nil {
				return err
			}
		}
		if fin.state != store.RunWaiting {
			return nil
		}
		res, err := x.e.river.InsertTx(wctx, sqlTx, RunArgs{RunID: x.run.ID}, &river.InsertOpts{ScheduledAt: fin.until})
		if err != nil {
			return fmt.Errorf("scheduling run %s: %w", x.run.ID, err)
		}
		x.run.JobID = &res.Job.ID
		return tx.SetRunJob(wctx, x.run.ID, res.Job.ID)
	})
}

// writeRun commits one write of a run's execution. On SQLite, whose one
// connection serializes every write anyway, concurrent writes of many runs
// share a commit with each other and with run starts (fn is clean: its only
// failure before writing is a lost lease). On PostgreSQL they stay
// transactions of their own: there the round trips, not the commits, set the
// pace, and a shared commit would run them one after another.
func (e *Engine) writeRun(ctx context.Context, fn func(tx *store.Store, sqlTx *sql.Tx) error) error {
	if e.st.Dialect() != store.SQLite {
		return e.st.InTx(ctx, fn)
	}
	return e.commit(ctx, func(stx *StartTx) error { return fn(stx.st, stx.sqlTx) }, true)
}

// retireJob deletes a run's job; one that River is working right now (a
// takeover of a stuck job) completes by itself when it sees the run final.
func (e *Engine) retireJob(ctx context.Context, tx *sql.Tx, jobID int64) error {
	_, err := e.river.JobDeleteTx(ctx, tx, jobID)
	if err == nil || errors.Is(err, rivertype.ErrJobRunning) || errors.Is(err, river.ErrNotFound) {
		return nil
	}
	return fmt.Errorf("retiring job %d: %w", jobID, err)
}

// leaseLost tells a canceled run from one another process took over.
func (x *execution) leaseLost(ctx context.Context) outcome {
	r, err := x.e.st.GetRun(ctx, x.run.ID)
	if err != nil {
		return outcome{kind: outInfra, cause: err}
	}
	if r.State == store.RunCanceled {
		return outcome{kind: outCanceled}
	}
	return outcome{kind: outLost, until: derefTime(r.LeaseUntil)}
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
