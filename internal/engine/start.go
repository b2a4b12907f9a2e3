package engine

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/switchboard-dev/switchboard/internal/store"
)

// StartTx is the transaction a trigger, replay or test starts runs in: the
// caller writes its own rows (inbox entry, dedupe claim, tick) through Store
// and hands each new run to Run, so everything commits together.
type StartTx struct {
	st    *store.Store
	sqlTx *sql.Tx
	e     *Engine
	runs  []*store.Run
}

// Store is the store bound to the transaction.
func (t *StartTx) Store() *store.Store { return t.st }

// Run creates run (queued) and enqueues its job in the transaction. It is
// the one place a run and its job are written.
func (t *StartTx) Run(ctx context.Context, run *store.Run) error {
	if err := t.st.CreateRun(ctx, run); err != nil {
		return err
	}
	if _, err := t.e.river.InsertTx(ctx, t.sqlTx, RunArgs{RunID: run.ID}, nil); err != nil {
		return fmt.Errorf("enqueuing run %s: %w", run.ID, err)
	}
	t.runs = append(t.runs, run)
	return nil
}

// StartRuns runs fn in one transaction and commits it: every path that
// starts a run (webhook, hosted form, schedule, replay, bulk replay, manual
// test) goes through here, so the runs it creates and their queue jobs are
// durable before the caller answers anyone. fn's error rolls everything back
// and is returned as is.
func (e *Engine) StartRuns(ctx context.Context, fn func(tx *StartTx) error) error {
	return e.st.InTx(ctx, func(tx *store.Store, sqlTx *sql.Tx) error {
		return fn(&StartTx{st: tx, sqlTx: sqlTx, e: e})
	})
}
