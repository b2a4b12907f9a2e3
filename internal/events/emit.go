package events

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
)

// runTypes maps final run states to their event types (filtered runs have
// none).
var runTypes = map[string]string{
	store.RunSucceeded: RunSucceeded,
	store.RunFailed:    RunFailed,
	store.RunCanceled:  RunCanceled,
}

// StoreHooks are the store hooks that put run.* events in the outbox in
// the same transaction as the run's final state.
func StoreHooks() *store.Hooks {
	return &store.Hooks{
		RunWanted: func(ctx context.Context, st *store.Store, state string) (bool, error) {
			typ, ok := runTypes[state]
			if !ok {
				return false, nil
			}
			return st.AnySubscriber(ctx, typ)
		},
		RunFinished: RunFinished,
	}
}

// RunFinished records the run.* event of a run that just ended, through tx.
func RunFinished(ctx context.Context, tx *store.Store, r *store.Run) error {
	typ, ok := runTypes[r.State]
	if !ok {
		return nil
	}
	d := RunData{RunID: r.ID, WorkflowID: r.WorkflowID, Version: r.Version, State: r.State, Error: r.Error,
		TriggerType: r.TriggerType, Attempt: r.Attempt, ReplayOf: r.ReplayOf, CreatedAt: r.CreatedAt.UTC(),
		StartedAt: r.StartedAt, FinishedAt: r.FinishedAt}
	if w, err := tx.GetWorkflow(ctx, r.WorkflowID); err == nil {
		d.WorkflowName = w.Name
	}
	at := time.Now()
	if r.FinishedAt != nil {
		at = *r.FinishedAt
	}
	ev, err := NewEvent(typ, r.WorkflowID, at, d)
	if err != nil {
		return err
	}
	if _, err := tx.RecordEvent(ctx, ev); err != nil {
		return fmt.Errorf("recording %s of run %s: %w", typ, r.ID, err)
	}
	return nil
}

// WorkflowChanged records workflow.saved, workflow.activated or
// workflow.deactivated for w through tx.
func WorkflowChanged(ctx context.Context, tx *store.Store, typ string, w *store.Workflow, created bool) error {
	d := WorkflowData{WorkflowID: w.ID, WorkflowName: w.Name, Version: w.CurrentVersion, Active: w.Active,
		TriggerType: w.TriggerType, Created: created}
	return Record(ctx, tx, typ, w.ID, d)
}
