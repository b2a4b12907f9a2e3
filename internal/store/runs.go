package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// CreateRun inserts a queued run.
func (s *Store) CreateRun(ctx context.Context, r *Run) error {
	if r.ID == "" {
		r.ID = NewID()
	}
	if r.State == "" {
		r.State = RunQueued
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now().UTC()
	}
	if err := s.db.WithContext(ctx).Create(r).Error; err != nil {
		return fmt.Errorf("creating run: %w", err)
	}
	return nil
}

// CreateInbound records a request a webhook endpoint received.
func (s *Store) CreateInbound(ctx context.Context, in *InboundRequest) error {
	if in.ID == "" {
		in.ID = NewID()
	}
	if err := s.db.WithContext(ctx).Create(in).Error; err != nil {
		return fmt.Errorf("recording inbound request: %w", err)
	}
	return nil
}

// GetRun returns a run by id.
func (s *Store) GetRun(ctx context.Context, id string) (*Run, error) {
	var r Run
	if err := s.db.WithContext(ctx).First(&r, "id = ?", id).Error; err != nil {
		return nil, notFound(err, "run "+id)
	}
	return &r, nil
}

// RunFilter selects runs.
type RunFilter struct {
	WorkflowID string
	State      string
	Page
}

// runListColumns leaves payloads out: listing never reads them.
var runListColumns = []string{"id", "workflow_id", "version_id", "version", "state", "trigger_type",
	"error", "attempt", "created_at", "started_at", "finished_at"}

// ListRuns lists runs newest first, without their payloads.
func (s *Store) ListRuns(ctx context.Context, f RunFilter) ([]Run, string, error) {
	q := s.db.WithContext(ctx).Select(runListColumns).Order("id DESC").Limit(f.limit() + 1)
	if f.WorkflowID != "" {
		q = q.Where("workflow_id = ?", f.WorkflowID)
	}
	if f.State != "" {
		q = q.Where("state = ?", f.State)
	}
	if f.Cursor != "" {
		q = q.Where("id < ?", f.Cursor)
	}
	var rs []Run
	if err := q.Find(&rs).Error; err != nil {
		return nil, "", fmt.Errorf("listing runs: %w", err)
	}
	return pageOf(rs, f.limit(), func(r Run) string { return r.ID })
}

// StartRun moves a run to running (from queued, running or waiting), counts
// the attempt and returns the run. A final run is returned unchanged.
func (s *Store) StartRun(ctx context.Context, id string) (*Run, error) {
	var r Run
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.First(&r, "id = ?", id).Error; err != nil {
			return notFound(err, "run "+id)
		}
		if RunFinal(r.State) {
			return nil
		}
		now := time.Now().UTC()
		updates := map[string]any{"state": RunRunning, "attempt": r.Attempt + 1}
		if r.StartedAt == nil {
			updates["started_at"] = now
			r.StartedAt = &now
		}
		if err := tx.Model(&Run{}).Where("id = ?", id).Updates(updates).Error; err != nil {
			return fmt.Errorf("starting run %s: %w", id, err)
		}
		r.State, r.Attempt = RunRunning, r.Attempt+1
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// FinishRun sets a final state, unless the run is already final (a canceled
// run stays canceled). It reports whether it changed the run.
func (s *Store) FinishRun(ctx context.Context, id, state, errMsg string) (bool, error) {
	now := time.Now().UTC()
	res := s.db.WithContext(ctx).Model(&Run{}).
		Where("id = ? AND state NOT IN ?", id, []string{RunSucceeded, RunFailed, RunFiltered, RunCanceled}).
		Updates(map[string]any{"state": state, "error": errMsg, "finished_at": now})
	if res.Error != nil {
		return false, fmt.Errorf("finishing run %s: %w", id, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// SetRunState sets a non-final state (waiting, running) on a run that is not final.
func (s *Store) SetRunState(ctx context.Context, id, state string) error {
	res := s.db.WithContext(ctx).Model(&Run{}).
		Where("id = ? AND state NOT IN ?", id, []string{RunSucceeded, RunFailed, RunFiltered, RunCanceled}).
		Update("state", state)
	if res.Error != nil {
		return fmt.Errorf("setting run %s to %s: %w", id, state, res.Error)
	}
	return nil
}

// SaveStepRun inserts or replaces the record of one step (per item), so a
// step retried or resumed keeps exactly one row.
func (s *Store) SaveStepRun(ctx context.Context, sr *StepRun) error {
	if sr.ID == "" {
		sr.ID = NewID()
	}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "run_id"}, {Name: "step_id"}, {Name: "item_key"}},
		DoUpdates: clause.AssignmentColumns([]string{"state", "input", "output", "error", "attempts",
			"started_at", "finished_at", "seq"}),
	}).Create(sr).Error
	if err != nil {
		return fmt.Errorf("recording step %s of run %s: %w", sr.StepID, sr.RunID, err)
	}
	return nil
}

// ListStepRuns returns a run's step records in execution order.
func (s *Store) ListStepRuns(ctx context.Context, runID string) ([]StepRun, error) {
	var out []StepRun
	if err := s.db.WithContext(ctx).Where("run_id = ?", runID).Order("seq, started_at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("listing steps of run %s: %w", runID, err)
	}
	return out, nil
}

// CreateDelivery records one outbound attempt.
func (s *Store) CreateDelivery(ctx context.Context, d *Delivery) error {
	if d.ID == "" {
		d.ID = NewID()
	}
	if err := s.db.WithContext(ctx).Create(d).Error; err != nil {
		return fmt.Errorf("recording delivery of run %s: %w", d.RunID, err)
	}
	return nil
}

// ListDeliveries returns a run's outbound attempts, oldest first.
func (s *Store) ListDeliveries(ctx context.Context, runID string) ([]Delivery, error) {
	var out []Delivery
	if err := s.db.WithContext(ctx).Where("run_id = ?", runID).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("listing deliveries of run %s: %w", runID, err)
	}
	return out, nil
}

// CountDeliveries counts a run's deliveries for a step (for attempt numbers).
func (s *Store) CountDeliveries(ctx context.Context, runID, stepID, itemKey string) (int, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&Delivery{}).
		Where("run_id = ? AND step_id = ? AND item_key = ?", runID, stepID, itemKey).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("counting deliveries: %w", err)
	}
	return int(n), nil
}
