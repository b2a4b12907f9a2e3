package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/expr"
	"github.com/switchboard-dev/switchboard/internal/netguard"
	"github.com/switchboard-dev/switchboard/internal/workflow"

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
	From string `json:"from,omitempty" enum:"start,failed"`
	// Version is "pinned" (default: the original run's) or "current".
	Version string `json:"version,omitempty" enum:"pinned,current"`
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
		_, v, err := e.st.GetWorkflowWithCurrent(ctx, orig.WorkflowID)
		if err != nil {
			return nil, err
		}
		versionID, version = v.ID, v.Version
	}
	run := &store.Run{ID: store.NewID(), WorkflowID: orig.WorkflowID, VersionID: versionID, Version: version,
		State: store.RunQueued, TriggerType: orig.TriggerType, Trigger: orig.Trigger, ReplayOf: &orig.ID}
	err = e.StartRuns(ctx, func(tx *StartTx) error {
		if err := tx.Run(ctx, run); err != nil {
			return err
		}
		if o.From == "failed" {
			// Same commit as the job, so the run never starts without them.
			if _, err := tx.Store().CopyStepRuns(ctx, orig.ID, run.ID); err != nil {
				return err
			}
		}
		return nil
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
	w, v, err := e.st.GetWorkflowWithCurrent(ctx, workflowID)
	if err != nil {
		return nil, err
	}
	run := &store.Run{ID: store.NewID(), WorkflowID: w.ID, VersionID: v.ID, Version: v.Version, State: store.RunQueued,
		TriggerType: "manual", Trigger: store.MustJSON(trigger)}
	err = e.StartRuns(ctx, func(tx *StartTx) error { return tx.Run(ctx, run) })
	if err != nil {
		return nil, err
	}
	return run, nil
}

// TestAction runs one action step alone with the given data (the names a
// run would see: trigger, steps, vars…): the editor's "Test this step" for
// actions. It calls the real service, like n8n's "execute step", but records
// nothing; credential values are redacted from what it returns.
func (e *Engine) TestAction(ctx context.Context, step workflow.Step, data map[string]any) (any, error) {
	if step.Type != workflow.StepAction {
		return nil, connectors.BadInput(fmt.Errorf("step %q is a %s step, not an action", step.ID, step.Type))
	}
	conn, spec, err := e.reg.Resolve(step.Action)
	if err != nil {
		return nil, connectors.BadInput(err)
	}
	in := step.Input
	if in == nil {
		in = map[string]any{}
	}
	tmpl, err := expr.CompileValue(in)
	if err != nil {
		path, inner := expr.SplitPath(err)
		return nil, connectors.BadInput(fmt.Errorf("input%s: %w", path, inner))
	}
	env := map[string]any{"steps": map[string]any{}, "vars": map[string]any{}}
	for k, v := range data {
		env[k] = v
	}
	rendered, err := tmpl.Render(env)
	if err != nil {
		path, inner := expr.SplitPath(err)
		return nil, connectors.BadInput(fmt.Errorf("input%s: %w", path, inner))
	}
	input, _ := rendered.(map[string]any)
	if problems := connectors.CheckInput(spec, input); len(problems) > 0 {
		return nil, connectors.BadInput(fmt.Errorf("input: %s", formatProblems(problems)))
	}
	connID, actionID, _ := strings.Cut(step.Action, ".")
	var creds map[string]string
	if step.Connection != "" {
		if e.creds == nil {
			return nil, errors.New("connections are not available in this process")
		}
		if creds, err = e.creds.Credentials(ctx, step.Connection, connID); err != nil {
			return nil, fmt.Errorf("opening connection %q: %w", step.Connection, err)
		}
	}
	red := newRedactor(creds)
	timeout := 30 * time.Second
	if d, err := time.ParseDuration(step.Timeout); err == nil && d > 0 && d < timeout {
		timeout = d
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := conn.Execute(actx, connectors.Request{Action: actionID, Input: input, Credentials: creds,
		HTTP: netguard.NewClient(e.outbound, nil), Dial: netguard.NewDialer(e.outbound), IdempotencyKey: "test-" + store.NewID(), Logger: e.log.With("step_test", step.ID)})
	if err != nil {
		return red.Value(res.Output), red.Err(err)
	}
	return red.Value(res.Output), nil
}
