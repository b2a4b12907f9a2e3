package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/switchboard-dev/switchboard/internal/store"
)

// ErrRunFinal is returned (wrapped) when a run is already final.
var ErrRunFinal = errors.New("run is already final")

// ErrBadReplay is returned (wrapped) for a replay that cannot be done.
var ErrBadReplay = errors.New("cannot replay")

// Cancel ends a run that is not final. Its job may still wake up; it then
// sees the run canceled and sends nothing more.
func (e *Engine) Cancel(ctx context.Context, runID string) (*store.Run, error) {
	r, err := e.st.GetRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	changed, err := e.st.FinishRun(ctx, runID, store.RunCanceled, "canceled")
	if err != nil {
		return nil, err
	}
	if !changed {
		r, err = e.st.GetRun(ctx, runID)
		if err != nil {
			return nil, err
		}
		return r, fmt.Errorf("run %s is %s: %w", runID, r.State, ErrRunFinal)
	}
	return e.st.GetRun(ctx, runID)
}

// ReplayOptions choose where a replay starts and on which version.
type ReplayOptions struct {
	// From is "start" (default) or "failed": reuse the outputs of the steps
	// that succeeded and run again from the failed step.
	From string `json:"from"`
	// Version is "pinned" (default: the original run's) or "current".
	Version string `json:"version"`
}

// Validate checks the options.
func (o ReplayOptions) Validate() error {
	switch o.From {
	case "", "start", "failed":
	default:
		return fmt.Errorf("from must be start or failed: %w", ErrBadReplay)
	}
	switch o.Version {
	case "", "pinned", "current":
	default:
		return fmt.Errorf("version must be pinned or current: %w", ErrBadReplay)
	}
	return nil
}

// Replay starts a new run with the recorded trigger input of runID.
func (e *Engine) Replay(ctx context.Context, runID string, o ReplayOptions) (*store.Run, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	orig, err := e.st.GetRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	if o.From == "failed" && orig.State != store.RunFailed {
		return nil, fmt.Errorf("run %s is %s; only a failed run can be replayed from its failed step: %w", runID, orig.State, ErrBadReplay)
	}
	if !store.RunFinal(orig.State) {
		return nil, fmt.Errorf("run %s is still %s: %w", runID, orig.State, ErrBadReplay)
	}
	versionID, version := orig.VersionID, orig.Version
	if o.Version == "current" {
		w, err := e.st.GetWorkflow(ctx, orig.WorkflowID)
		if err != nil {
			return nil, err
		}
		v, err := e.st.GetCurrentVersion(ctx, w)
		if err != nil {
			return nil, err
		}
		versionID, version = v.ID, v.Version
	}
	run := &store.Run{ID: store.NewID(), WorkflowID: orig.WorkflowID, VersionID: versionID, Version: version,
		State: store.RunQueued, TriggerType: orig.TriggerType, Trigger: orig.Trigger, ReplayOf: &orig.ID}
	err = e.st.InTx(ctx, func(tx *store.Store, sqlTx *sql.Tx) error {
		if err := tx.CreateRun(ctx, run); err != nil {
			return err
		}
		if o.From == "failed" {
			if _, err := tx.CopyStepRuns(ctx, orig.ID, run.ID); err != nil {
				return err
			}
		}
		return e.Enqueue(ctx, sqlTx, run.ID)
	})
	if err != nil {
		return nil, err
	}
	return run, nil
}

// MaxBulkReplay bounds one bulk replay.
const MaxBulkReplay = 500

// ReplayMatching replays every final run the filter selects (at most
// MaxBulkReplay, newest first) and returns the new runs' ids.
func (e *Engine) ReplayMatching(ctx context.Context, f store.RunFilter, o ReplayOptions) ([]string, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	f.Page = store.Page{Limit: 200}
	var ids []string
	for len(ids) < MaxBulkReplay {
		runs, next, err := e.st.ListRuns(ctx, f)
		if err != nil {
			return ids, err
		}
		for _, r := range runs {
			if !store.RunFinal(r.State) || (o.From == "failed" && r.State != store.RunFailed) {
				continue
			}
			nr, err := e.Replay(ctx, r.ID, o)
			if err != nil {
				return ids, fmt.Errorf("replaying run %s: %w", r.ID, err)
			}
			ids = append(ids, nr.ID)
			if len(ids) == MaxBulkReplay {
				break
			}
		}
		if next == "" {
			break
		}
		f.Cursor = next
	}
	return ids, nil
}

// StartManual starts a run of the workflow's current version with the given
// trigger data, active or not: the editor's "test workflow" button.
func (e *Engine) StartManual(ctx context.Context, workflowID string, trigger map[string]any) (*store.Run, error) {
	w, err := e.st.GetWorkflow(ctx, workflowID)
	if err != nil {
		return nil, err
	}
	v, err := e.st.GetCurrentVersion(ctx, w)
	if err != nil {
		return nil, err
	}
	run := &store.Run{ID: store.NewID(), WorkflowID: w.ID, VersionID: v.ID, Version: v.Version, State: store.RunQueued,
		TriggerType: "manual", Trigger: store.MustJSON(trigger)}
	err = e.st.InTx(ctx, func(tx *store.Store, sqlTx *sql.Tx) error {
		if err := tx.CreateRun(ctx, run); err != nil {
			return err
		}
		return e.Enqueue(ctx, sqlTx, run.ID)
	})
	if err != nil {
		return nil, err
	}
	return run, nil
}
