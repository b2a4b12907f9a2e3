package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-dev/switchboard/internal/cronspec"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

// tickKeyWindow keeps a tick's key long past any scheduler's grace, so a
// tick can never fire twice.
const tickKeyWindow = 7 * 24 * time.Hour

// Schedules is the scheduler's view of the database: List reports the
// active schedule triggers and Fire starts one tick's run, exactly once per
// (workflow, tick) however many processes race for it.
// internal/trigger/schedule adapts it (the engine does not import triggers).
type Schedules struct{ e *Engine }

// Schedules returns the engine's schedules.
func (e *Engine) Schedules() *Schedules { return &Schedules{e: e} }

// Scheduled is one active schedule trigger.
type Scheduled struct {
	WorkflowID string
	Cron       string
	Timezone   string
	Misfire    cronspec.Misfire
	// LastFired is the later of the latest tick fired and the moment the
	// schedule was last activated or edited.
	LastFired time.Time
}

// List returns the active schedule triggers.
func (s *Schedules) List(ctx context.Context) ([]Scheduled, error) {
	ws, err := s.e.st.ListScheduled(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Scheduled, 0, len(ws))
	for _, w := range ws {
		c, err := s.compiledCurrent(ctx, w.ID, w.CurrentVersion)
		if err != nil {
			s.e.log.Warn("schedule: skipping workflow", "workflow_id", w.ID, "error", err)
			continue
		}
		st := c.Doc.Trigger.Schedule
		if st == nil {
			continue
		}
		// Time spent inactive or under another version is not "missed".
		last := w.UpdatedAt
		if w.LastFiredAt != nil && w.LastFiredAt.After(last) {
			last = *w.LastFiredAt
		}
		out = append(out, Scheduled{WorkflowID: w.ID, Cron: st.Cron, Timezone: st.Timezone,
			Misfire: cronspec.Misfire(st.Misfire), LastFired: last})
	}
	return out, nil
}

func (s *Schedules) compiledCurrent(ctx context.Context, workflowID string, version int) (*versionedDoc, error) {
	v, err := s.e.st.GetVersionNumber(ctx, workflowID, version)
	if err != nil {
		return nil, err
	}
	c, err := s.e.Compiled(ctx, v.ID)
	if err != nil {
		return nil, err
	}
	return &versionedDoc{Doc: c.Doc, VersionID: v.ID, Version: v.Version}, nil
}

// Fire starts one tick's run (it is the scheduler's Firer): in one transaction it claims the tick's
// key, creates the run and its job, and records the tick. A workflow that
// was deactivated or re-scheduled since the scheduler loaded it does not
// fire.
func (s *Schedules) Fire(ctx context.Context, workflowID string, fireAt time.Time) (bool, error) {
	w, err := s.e.st.GetWorkflow(ctx, workflowID)
	if err != nil {
		return false, err
	}
	if !w.Active || w.TriggerType != "schedule" {
		return false, nil
	}
	c, err := s.compiledCurrent(ctx, w.ID, w.CurrentVersion)
	if err != nil {
		return false, err
	}
	if st := c.Doc.Trigger.Schedule; st == nil {
		return false, nil
	} else if sched, err := cronspec.Parse(st.Cron, st.Timezone); err != nil || !sched.Next(fireAt.Add(-time.Nanosecond)).Equal(fireAt) {
		return false, nil // not a tick of the current schedule
	}
	run := &store.Run{ID: store.NewID(), WorkflowID: w.ID, VersionID: c.VersionID, Version: c.Version,
		State: store.RunQueued, TriggerType: "schedule",
		Trigger: store.MustJSON(map[string]any{"fired_at": fireAt.UTC().Format(time.RFC3339Nano)})}
	fired := false
	err = s.e.StartRuns(ctx, func(tx *StartTx) error {
		_, claimed, err := tx.Store().ClaimEvent(ctx, w.ID, "tick:"+fireAt.UTC().Format(time.RFC3339Nano), run.ID, s.e.now(), tickKeyWindow)
		if err != nil || !claimed {
			return err
		}
		if err := tx.Run(ctx, run); err != nil {
			return err
		}
		if err := tx.Store().SetLastFired(ctx, w.ID, fireAt); err != nil {
			return err
		}
		fired = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("firing %s at %s: %w", workflowID, fireAt, err)
	}
	return fired, nil
}

type versionedDoc struct {
	Doc       *workflow.Document
	VersionID string
	Version   int
}
