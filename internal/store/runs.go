package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
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
	// Every text column of a request is the sender's; BodyRaw keeps the bytes.
	in.Method, in.Path, in.Body = CleanText(in.Method), CleanText(in.Path), CleanText(in.Body)
	in.SourceIP, in.Reason = CleanText(in.SourceIP), CleanText(in.Reason)
	row := in
	if len(in.BodyRaw) > 0 && in.Body == CleanText(string(in.BodyRaw)) {
		// The text is the bytes as text: stored once, derived on read.
		cp := *in
		cp.Body = ""
		row = &cp
	}
	if err := s.db.WithContext(ctx).Create(row).Error; err != nil {
		return fmt.Errorf("recording inbound request: %w", err)
	}
	return nil
}

// fillBody derives the body text of a request stored once (as bytes).
func (in *InboundRequest) fillBody() {
	if in.Body == "" && len(in.BodyRaw) > 0 {
		in.Body = CleanText(string(in.BodyRaw))
	}
}

// GetRun returns a run by id.
func (s *Store) GetRun(ctx context.Context, id string) (*Run, error) {
	return first[Run](ctx, s.db, "run "+id, "id = ?", id)
}

// RunFilter selects runs.
type RunFilter struct {
	WorkflowID  string
	State       string
	TriggerType string
	Since       time.Time // created at or after, when set
	Until       time.Time // created before, when set
	// Search keeps runs whose trigger input contains this text (case-insensitive).
	Search string
	Page
}

// runListColumns leaves payloads out: listing never reads them.
var runListColumns = []string{"id", "workflow_id", "version_id", "version", "state", "trigger_type",
	"error", "attempt", "replay_of", "created_at", "started_at", "finished_at"}

// ListRuns lists runs newest first, without their payloads.
func (s *Store) ListRuns(ctx context.Context, f RunFilter) ([]Run, string, error) {
	return findPage(s.filterRuns(s.db.WithContext(ctx).Select(runListColumns), f), f.Page, "listing runs", func(r Run) string { return r.ID })
}

// filterRuns adds a filter's conditions (not its page) to a query on runs.
func (s *Store) filterRuns(q *gorm.DB, f RunFilter) *gorm.DB {
	if f.WorkflowID != "" {
		q = q.Where("workflow_id = ?", f.WorkflowID)
	}
	if f.State != "" {
		q = q.Where("state = ?", f.State)
	}
	if f.TriggerType != "" {
		q = q.Where("trigger_type = ?", f.TriggerType)
	}
	if !f.Since.IsZero() {
		q = q.Where("created_at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		q = q.Where("created_at < ?", f.Until.UTC())
	}
	if f.Search != "" {
		// The one condition that reads a payload; the other filters and the
		// page limit bound how much of it is read.
		pattern := "%" + likeEscaper.Replace(f.Search) + "%"
		if s.dialect == Postgres {
			q = q.Where(`trigger::text ILIKE ? ESCAPE '\'`, pattern)
		} else {
			q = q.Where(`trigger LIKE ? ESCAPE '\'`, pattern)
		}
	}
	return q
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// ErrBusy is returned by StartRun when the workflow is at its concurrency limit.
var ErrBusy = errors.New("workflow is at its concurrency limit")

// StartRun moves a run to running (from queued, running or waiting), counts
// the attempt and returns the run. A final run is returned unchanged. With
// limit > 0, a run that would exceed that many running runs of its workflow
// stays as it is and ErrBusy is returned.
func (s *Store) StartRun(ctx context.Context, id string, limit int) (*Run, error) {
	return s.StartRunLeased(ctx, id, limit, "", time.Time{})
}

// StartRunLeased is StartRun that also leases the run to owner until until;
// a run leased by another process whose lease has not lapsed is left alone
// (ErrLeaseLost).
func (s *Store) StartRunLeased(ctx context.Context, id string, limit int, owner string, until time.Time) (*Run, error) {
	var r Run
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.First(&r, "id = ?", id).Error; err != nil {
			return notFound(err, "run "+id)
		}
		if RunFinal(r.State) {
			return nil
		}
		if owner != "" && r.LeaseOwner != nil && *r.LeaseOwner != owner && r.LeaseUntil != nil && r.LeaseUntil.After(time.Now()) {
			return fmt.Errorf("run %s: %w", id, ErrLeaseLost)
		}
		if limit > 0 && r.State != RunRunning {
			// Serialize starts per workflow: PostgreSQL locks the workflow
			// row; SQLite transactions are already one writer at a time.
			if s.dialect == Postgres {
				if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Select("id").
					First(&Workflow{}, "id = ?", r.WorkflowID).Error; err != nil {
					return notFound(err, "workflow "+r.WorkflowID)
				}
			}
			var running int64
			if err := tx.Model(&Run{}).Where("workflow_id = ? AND state = ? AND id <> ?", r.WorkflowID, RunRunning, id).
				Count(&running).Error; err != nil {
				return fmt.Errorf("counting running runs: %w", err)
			}
			if int(running) >= limit {
				return ErrBusy
			}
		}
		now := time.Now().UTC()
		updates := map[string]any{"state": RunRunning, "attempt": r.Attempt + 1}
		if owner != "" {
			updates["lease_owner"], updates["lease_until"] = owner, until.UTC()
			r.LeaseOwner, r.LeaseUntil = &owner, &until
		}
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
	if h := s.hooks; h != nil && h.RunFinished != nil && state != RunFiltered {
		wanted := true
		if h.RunWanted != nil {
			var err error
			if wanted, err = h.RunWanted(ctx, s, state); err != nil {
				return false, err
			}
		}
		if wanted {
			// The final state and its event commit together (the outbox).
			var changed bool
			err := s.InTx(ctx, func(tx *Store, _ *sql.Tx) error {
				var err error
				if changed, err = tx.finishRun(ctx, id, state, errMsg); err != nil || !changed {
					return err
				}
				r, err := tx.GetRun(ctx, id)
				if err != nil {
					return err
				}
				return h.RunFinished(ctx, tx, r)
			})
			return changed, err
		}
	}
	return s.finishRun(ctx, id, state, errMsg)
}

func (s *Store) finishRun(ctx context.Context, id, state, errMsg string) (bool, error) {
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

// stepRunUpsert replaces the record of a step (per item) that was saved
// before, so a step retried or resumed keeps exactly one row.
func stepRunUpsert() clause.OnConflict {
	return clause.OnConflict{
		Columns: []clause.Column{{Name: "run_id"}, {Name: "step_id"}, {Name: "item_key"}},
		DoUpdates: clause.AssignmentColumns([]string{"state", "input", "output", "error", "attempts",
			"started_at", "finished_at", "seq"}),
	}
}

// SaveStepRun inserts or replaces the record of one step (per item), so a
// step retried or resumed keeps exactly one row.
func (s *Store) SaveStepRun(ctx context.Context, sr *StepRun) error {
	if sr.ID == "" {
		sr.ID = NewID()
	}
	err := s.db.WithContext(ctx).Clauses(stepRunUpsert()).Create(sr).Error
	if err != nil {
		return fmt.Errorf("recording step %s of run %s: %w", sr.StepID, sr.RunID, err)
	}
	return nil
}

// ListStepRuns returns a run's step records in execution order.
func (s *Store) ListStepRuns(ctx context.Context, runID string) ([]StepRun, error) {
	return findAll[StepRun](s.db.WithContext(ctx).Where("run_id = ?", runID).Order("seq, started_at, id"), "listing steps of run "+runID)
}

// CreateDelivery records one outbound attempt.
func (s *Store) CreateDelivery(ctx context.Context, d *Delivery) error {
	if d.ID == "" {
		d.ID = NewID()
	}
	if d.State == "" {
		d.State = DeliveryCompleted
	}
	if err := s.db.WithContext(ctx).Create(d).Error; err != nil {
		return fmt.Errorf("recording delivery of run %s: %w", d.RunID, err)
	}
	return nil
}

// ListDeliveries returns a run's outbound attempts, oldest first.
func (s *Store) ListDeliveries(ctx context.Context, runID string) ([]Delivery, error) {
	return findAll[Delivery](s.db.WithContext(ctx).Where("run_id = ?", runID).Order("id"), "listing deliveries of run "+runID)
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

// CopyStepRuns copies the succeeded step records of one run into another (a
// replay from the failed step), so the engine skips those steps.
func (s *Store) CopyStepRuns(ctx context.Context, fromRunID, toRunID string) (int, error) {
	var srs []StepRun
	if err := s.db.WithContext(ctx).Where("run_id = ? AND state = ?", fromRunID, StepSucceeded).Find(&srs).Error; err != nil {
		return 0, fmt.Errorf("reading steps of run %s: %w", fromRunID, err)
	}
	for i := range srs {
		srs[i].ID = NewID()
		srs[i].RunID = toRunID
	}
	if len(srs) == 0 {
		return 0, nil
	}
	if err := s.db.WithContext(ctx).CreateInBatches(srs, 200).Error; err != nil {
		return 0, fmt.Errorf("copying steps into run %s: %w", toRunID, err)
	}
	return len(srs), nil
}

// finalStates are the run states retention may delete.
var finalStates = []string{RunSucceeded, RunFailed, RunFiltered, RunCanceled}

// PruneRuns deletes a workflow's final runs created before cutoff, and those
// beyond the newest keep (0: no count limit), in batches. Steps and
// deliveries go with their runs.
func (s *Store) PruneRuns(ctx context.Context, workflowID string, cutoff time.Time, keep int) (int64, error) {
	var total int64
	for {
		var ids []string
		q := s.db.WithContext(ctx).Model(&Run{}).Where("workflow_id = ? AND state IN ?", workflowID, finalStates)
		if keep > 0 {
			// Everything older than the keep-th newest run, or than cutoff.
			var boundary []string
			if err := s.db.WithContext(ctx).Model(&Run{}).Where("workflow_id = ?", workflowID).
				Order("id DESC").Offset(keep-1).Limit(1).Pluck("id", &boundary).Error; err != nil {
				return total, fmt.Errorf("finding retention boundary: %w", err)
			}
			if len(boundary) == 1 {
				q = q.Where("(created_at < ? OR id < ?)", cutoff.UTC(), boundary[0])
			} else {
				q = q.Where("created_at < ?", cutoff.UTC())
			}
		} else {
			q = q.Where("created_at < ?", cutoff.UTC())
		}
		if err := q.Order("id").Limit(500).Pluck("id", &ids).Error; err != nil {
			return total, fmt.Errorf("selecting runs to prune: %w", err)
		}
		if len(ids) == 0 {
			return total, nil
		}
		res := s.db.WithContext(ctx).Where("id IN ?", ids).Delete(&Run{})
		if res.Error != nil {
			return total, fmt.Errorf("pruning runs: %w", res.Error)
		}
		total += res.RowsAffected
	}
}

// PruneInbound deletes inbox entries received before cutoff.
func (s *Store) PruneInbound(ctx context.Context, cutoff time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("received_at < ?", cutoff.UTC()).Delete(&InboundRequest{})
	if res.Error != nil {
		return 0, fmt.Errorf("pruning inbox: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// ReclaimSpace gives freed pages back to the file system on SQLite
// (auto_vacuum=incremental) and truncates the WAL; PostgreSQL's autovacuum
// does its own work.
func (s *Store) ReclaimSpace(ctx context.Context) error {
	if s.dialect != SQLite {
		return nil
	}
	if err := s.db.WithContext(ctx).Exec("PRAGMA incremental_vacuum").Error; err != nil {
		return fmt.Errorf("incremental vacuum: %w", err)
	}
	if err := s.db.WithContext(ctx).Exec("PRAGMA wal_checkpoint(TRUNCATE)").Error; err != nil {
		return fmt.Errorf("checkpointing WAL: %w", err)
	}
	return nil
}

// WorkflowIDs lists every workflow id (for periodic maintenance).
func (s *Store) WorkflowIDs(ctx context.Context) ([]string, error) {
	var ids []string
	if err := s.db.WithContext(ctx).Model(&Workflow{}).Order("id").Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("listing workflow ids: %w", err)
	}
	return ids, nil
}

// CountRunsByState counts runs per state (for /metrics).
func (s *Store) CountRunsByState(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		State string
		N     int64
	}
	if err := s.db.WithContext(ctx).Model(&Run{}).Select("state, count(*) AS n").Group("state").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("counting runs: %w", err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.State] = r.N
	}
	return out, nil
}
