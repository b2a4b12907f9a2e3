package engine

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/switchboard-dev/switchboard/internal/periodic"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// A run committed by a process with workers starts at once in that process,
// without waiting for the queue's poll: its job is inserted scheduled one
// lease ahead, as a durable fallback that another worker picks up only if
// this process dies (or hands the run back) before the run's final write,
// which deletes the job in the same commit.
//
// Every running run is leased by the process executing it; one heartbeat
// statement per process renews all its leases, and a lease that lapses lets
// any worker take the run over (the run row's conditional writes guard
// against two processes executing it at once).

// localPool executes runs started in this process.
type localPool struct {
	slots chan struct{} // runs accepted (queued or executing): bounds memory
	exec  chan struct{} // runs executing at once

	mu       sync.Mutex
	started  bool
	stopping bool
	stopCh   chan struct{} // closed when the engine stops
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

func newLocalPool(workers int) *localPool {
	ctx, cancel := context.WithCancel(context.Background())
	return &localPool{slots: make(chan struct{}, workers*4), exec: make(chan struct{}, workers),
		ctx: ctx, cancel: cancel, stopCh: make(chan struct{})}
}

// reserve takes a slot for a run about to be committed, if there is room.
func (p *localPool) reserve() bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	ok := p.started && !p.stopping
	p.mu.Unlock()
	if !ok {
		return false
	}
	select {
	case p.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (p *localPool) release() { <-p.slots }

// newOwner names this process in leases.
func newOwner() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

// slice says how one execution slice of a run starts.
type slice struct {
	local   bool // started in this process, which manages the run's job
	fresh   bool // a new run: no records to load
	claimed bool // the lease is already taken (and the attempt counted)
}

// dispatch executes a committed run here (its slot was reserved).
func (e *Engine) dispatch(run *store.Run, sl slice) {
	p := e.local
	sl.local = true
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer p.release()
		handBack := true
		defer func() {
			if handBack {
				e.handBack(run)
			}
		}()
		select {
		case p.exec <- struct{}{}:
		case <-p.stopCh:
			return // not started yet: hand it back at once
		}
		defer func() { <-p.exec }()
		select {
		case <-p.stopCh:
			return
		default:
		}
		err := e.runLocal(p.ctx, run, sl)
		if err == nil {
			handBack = false
			return
		}
		e.log.Warn("run handed back to the queue", "run_id", run.ID, "error", err)
	}()
}

// runLocal executes one slice of a local run, turning River's control
// errors (snooze on a concurrency limit or a lease held elsewhere) into a
// hand-back.
func (e *Engine) runLocal(ctx context.Context, run *store.Run, sl slice) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("run %s panicked: %v", run.ID, r)
		}
	}()
	return e.execute(ctx, run, sl)
}

// handBack gives a local run to the queue at once, so River (here or in
// another process) resumes it, and drops this process's lease on it.
func (e *Engine) handBack(run *store.Run) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := e.st.InTx(ctx, func(tx *store.Store, sqlTx *sql.Tx) error {
		if err := tx.ReleaseLease(ctx, run.ID, e.owner); err != nil {
			return err
		}
		if run.JobID != nil {
			_, err := e.river.JobRetryTx(ctx, sqlTx, *run.JobID)
			if err == nil || errors.Is(err, river.ErrNotFound) {
				return nil
			}
			return err
		}
		res, err := e.river.InsertTx(ctx, sqlTx, RunArgs{RunID: run.ID}, nil)
		if err != nil {
			return err
		}
		return tx.SetRunJob(ctx, run.ID, res.Job.ID)
	})
	if err != nil {
		// The lease lapses and another worker takes the run over.
		e.log.Warn("handing run back to the queue", "run_id", run.ID, "error", err)
	}
}

// heartbeat renews this process's leases and takes over runs whose lease
// lapsed, until ctx ends.
func (e *Engine) heartbeat(ctx context.Context) {
	periodic.Run(ctx, max(e.lease/3, 100*time.Millisecond), func(ctx context.Context) {
		now := e.now()
		if _, err := e.st.RenewLeases(ctx, e.owner, now.Add(e.lease)); err != nil && ctx.Err() == nil {
			e.log.Warn("renewing run leases", "error", err)
		}
		e.takeOver(ctx, now)
	})
}

// takeOver claims runs whose process died and executes them here.
func (e *Engine) takeOver(ctx context.Context, now time.Time) {
	lapsed, err := e.st.LapsedRuns(ctx, now, 50)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("looking for lapsed runs", "error", err)
		}
		return
	}
	for i := range lapsed {
		r := &lapsed[i]
		if !e.local.reserve() {
			return
		}
		err := e.st.AdvanceRun(ctx, store.Advance{ID: r.ID, Owner: e.owner, Now: now, Claim: true,
			State: store.RunRunning, LeaseUntil: now.Add(e.lease)})
		if err != nil {
			e.local.release()
			continue // another process was quicker, or the run ended
		}
		e.log.Info("took over a run whose lease lapsed", "run_id", r.ID, "previous_owner", deref(r.LeaseOwner))
		// The claim counted the attempt: execute as already claimed.
		r.Attempt++
		e.dispatch(r, slice{claimed: true})
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// stopLocal stops taking runs, hands queued ones back at once and waits for
// executing ones until ctx ends; then it cancels them (they are handed back).
func (e *Engine) stopLocal(ctx context.Context) {
	p := e.local
	p.mu.Lock()
	if p.stopping {
		p.mu.Unlock()
		return
	}
	p.stopping = true
	close(p.stopCh)
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		p.cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
	}
}
