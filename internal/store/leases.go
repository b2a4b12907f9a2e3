package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Advance is one conditional change of a run by the process executing it.
type Advance struct {
	ID    string
	Owner string    // the executing process
	Now   time.Time // the database-independent clock of the caller
	// Claim takes the run: from queued/waiting/running when it is not leased
	// by another live process; it counts the attempt and sets started_at.
	// Without Claim the caller must already hold the lease.
	Claim bool
	// State is the run's new state: running (the lease is renewed until
	// LeaseUntil), waiting (the lease is released) or a final state.
	State      string
	Error      string
	LeaseUntil time.Time
}

// ErrLeaseLost is returned (wrapped) by AdvanceRun when the run is final or
// leased by another process.
var ErrLeaseLost = errors.New("run is final or leased by another process")

// AdvanceRun applies a in one statement, or returns ErrLeaseLost.
func (s *Store) AdvanceRun(ctx context.Context, a Advance) error {
	now := a.Now.UTC()
	set := map[string]any{"state": a.State}
	switch {
	case a.State == RunRunning:
		set["lease_owner"], set["lease_until"] = a.Owner, a.LeaseUntil.UTC()
	case RunFinal(a.State):
		set["error"], set["finished_at"] = a.Error, now
		fallthrough
	default:
		set["lease_owner"], set["lease_until"] = nil, nil
	}
	q := s.db.WithContext(ctx).Model(&Run{}).Where("id = ? AND state NOT IN ?", a.ID, finalStates)
	if a.Claim {
		set["attempt"] = gorm.Expr("attempt + 1")
		set["started_at"] = gorm.Expr("COALESCE(started_at, ?)", now)
		q = q.Where("(lease_owner IS NULL OR lease_owner = ? OR lease_until < ?)", a.Owner, now)
	} else {
		q = q.Where("lease_owner = ?", a.Owner)
	}
	res := q.Updates(set)
	if res.Error != nil {
		return fmt.Errorf("updating run %s: %w", a.ID, res.Error)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("run %s: %w", a.ID, ErrLeaseLost)
	}
	return nil
}

// SetRunJob records the queue job of a run.
func (s *Store) SetRunJob(ctx context.Context, runID string, jobID int64) error {
	if err := s.db.WithContext(ctx).Model(&Run{}).Where("id = ?", runID).Update("job_id", jobID).Error; err != nil {
		return fmt.Errorf("setting job of run %s: %w", runID, err)
	}
	return nil
}

// leasedStates are the states a lease can hold a run in: queued (started in
// its process, not yet claimed) and running.
var leasedStates = []string{RunQueued, RunRunning}

// RenewLeases extends every lease owner holds: one statement per process per
// heartbeat, however many runs it executes.
func (s *Store) RenewLeases(ctx context.Context, owner string, until time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Model(&Run{}).Where("state IN ? AND lease_owner = ?", leasedStates, owner).
		Update("lease_until", until.UTC())
	if res.Error != nil {
		return 0, fmt.Errorf("renewing leases: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// ReleaseLeases drops owner's leases (a graceful stop hands its runs back).
func (s *Store) ReleaseLeases(ctx context.Context, owner string) error {
	res := s.db.WithContext(ctx).Model(&Run{}).Where("state IN ? AND lease_owner = ?", leasedStates, owner).
		Updates(map[string]any{"lease_owner": nil, "lease_until": nil})
	if res.Error != nil {
		return fmt.Errorf("releasing leases: %w", res.Error)
	}
	return nil
}

// LapsedRuns lists queued and running runs whose lease ran out before now
// (their process died), oldest first.
func (s *Store) LapsedRuns(ctx context.Context, now time.Time, limit int) ([]Run, error) {
	var out []Run
	err := s.db.WithContext(ctx).Where("state IN ? AND lease_until < ?", leasedStates, now.UTC()).
		Order("id").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("listing lapsed runs: %w", err)
	}
	return out, nil
}

// SaveRecords writes step records (insert or replace per step and item) and
// deliveries (insert or replace by id) in as few statements as possible.
func (s *Store) SaveRecords(ctx context.Context, steps []*StepRun, dels []*Delivery) error {
	if len(steps) > 0 {
		for _, sr := range steps {
			if sr.ID == "" {
				sr.ID = NewID()
			}
		}
		err := s.db.WithContext(ctx).Clauses(stepRunUpsert()).Create(steps).Error
		if err != nil {
			return fmt.Errorf("recording steps of run %s: %w", steps[0].RunID, err)
		}
	}
	if len(dels) > 0 {
		for _, d := range dels {
			if d.ID == "" {
				d.ID = NewID()
			}
			if d.State == "" {
				d.State = DeliveryCompleted
			}
		}
		err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "id"}},
			DoUpdates: clause.AssignmentColumns([]string{"state", "status", "response_headers", "response_body", "latency_ms", "error", "error_kind"}),
		}).Create(dels).Error
		if err != nil {
			return fmt.Errorf("recording deliveries of run %s: %w", dels[0].RunID, err)
		}
	}
	return nil
}

// ReleaseLease drops owner's lease on one run (handed back to the queue).
func (s *Store) ReleaseLease(ctx context.Context, runID, owner string) error {
	res := s.db.WithContext(ctx).Model(&Run{}).Where("id = ? AND lease_owner = ?", runID, owner).
		Updates(map[string]any{"lease_owner": nil, "lease_until": nil})
	if res.Error != nil {
		return fmt.Errorf("releasing lease of run %s: %w", runID, res.Error)
	}
	return nil
}

// RunEndWanted reports whether RunEnded has anything to write for a run
// ending in state (someone listens for it).
func (s *Store) RunEndWanted(ctx context.Context, state string) (bool, error) {
	h := s.hooks
	if h == nil || h.RunFinished == nil || state == RunFiltered || !RunFinal(state) {
		return false, nil
	}
	if h.RunWanted == nil {
		return true, nil
	}
	return h.RunWanted(ctx, s, state)
}

// RunEnded runs the RunFinished hook (the events outbox) for a run this
// transaction has just made final through AdvanceRun, as FinishRun does.
func (s *Store) RunEnded(ctx context.Context, id, state string) error {
	if wanted, err := s.RunEndWanted(ctx, state); err != nil || !wanted {
		return err
	}
	h := s.hooks
	r, err := s.GetRun(ctx, id)
	if err != nil {
		return err
	}
	return h.RunFinished(ctx, s, r)
}
