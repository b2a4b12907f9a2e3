package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// WebhookEvent is a deduplication key held until it expires.
type WebhookEvent struct {
	WorkflowID string `gorm:"primaryKey"`
	EventKey   string `gorm:"primaryKey"`
	RunID      string
	ExpiresAt  time.Time
}

// ClaimEvent records key for the workflow with runID, unless an unexpired
// claim exists: then it returns that claim's run id and false. Call it in the
// transaction that creates the run, so a duplicate never starts a second one.
func (s *Store) ClaimEvent(ctx context.Context, workflowID, key, runID string, now time.Time, window time.Duration) (string, bool, error) {
	ev := &WebhookEvent{WorkflowID: workflowID, EventKey: key, RunID: runID, ExpiresAt: now.Add(window).UTC()}
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(ev)
	if res.Error != nil {
		return "", false, fmt.Errorf("claiming event key: %w", res.Error)
	}
	if res.RowsAffected == 1 {
		return runID, true, nil
	}
	var existing WebhookEvent
	if err := s.db.WithContext(ctx).First(&existing, "workflow_id = ? AND event_key = ?", workflowID, key).Error; err != nil {
		return "", false, notFound(err, "event key")
	}
	if existing.ExpiresAt.After(now) {
		return existing.RunID, false, nil
	}
	// Expired: the key is free again.
	upd := s.db.WithContext(ctx).Model(&WebhookEvent{}).
		Where("workflow_id = ? AND event_key = ? AND expires_at <= ?", workflowID, key, now.UTC()).
		Updates(map[string]any{"run_id": runID, "expires_at": ev.ExpiresAt})
	if upd.Error != nil {
		return "", false, fmt.Errorf("renewing event key: %w", upd.Error)
	}
	if upd.RowsAffected == 0 {
		return existing.RunID, false, nil
	}
	return runID, true, nil
}

// PruneDedupeKeys deletes expired webhook deduplication keys (not to be
// confused with PruneEventsBefore, which prunes Switchboard's own events).
func (s *Store) PruneDedupeKeys(ctx context.Context, now time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("expires_at <= ?", now.UTC()).Delete(&WebhookEvent{})
	if res.Error != nil {
		return 0, fmt.Errorf("pruning event keys: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// SaveSample keeps a captured test request as the workflow's sample data.
func (s *Store) SaveSample(ctx context.Context, workflowID string, sample JSON, at time.Time) error {
	res := s.db.WithContext(ctx).Model(&Workflow{}).Where("id = ?", workflowID).
		Updates(map[string]any{"sample": sample, "sample_at": at.UTC()})
	return oneRow(res, "saving sample of", "workflow "+workflowID)
}

// GetSample returns the captured sample of a workflow (nil when none).
func (s *Store) GetSample(ctx context.Context, workflowID string) (JSON, *time.Time, error) {
	var row struct {
		Sample   JSON
		SampleAt *time.Time
	}
	err := s.db.WithContext(ctx).Model(&Workflow{}).Select("sample", "sample_at").Where("id = ?", workflowID).Take(&row).Error
	if err != nil {
		return nil, nil, notFound(err, "workflow "+workflowID)
	}
	return row.Sample, row.SampleAt, nil
}

// RotateWebhookToken gives a workflow a new webhook token; the old URL stops
// working at once.
func (s *Store) RotateWebhookToken(ctx context.Context, workflowID, token string) error {
	defer s.forgetLookups()
	res := s.db.WithContext(ctx).Model(&Workflow{}).Where("id = ?", workflowID).
		Updates(map[string]any{"webhook_token": token, "updated_at": time.Now().UTC()})
	return oneRow(res, "rotating the webhook token of", "workflow "+workflowID)
}

// InboxFilter selects inbox entries.
type InboxFilter struct {
	WorkflowID string
	Verdict    string
	Page
}

// ListInbound lists a workflow's inbox, newest first.
func (s *Store) ListInbound(ctx context.Context, f InboxFilter) ([]InboundRequest, string, error) {
	q := s.db.WithContext(ctx).Where("workflow_id = ?", f.WorkflowID)
	if f.Verdict != "" {
		q = q.Where("verdict = ?", f.Verdict)
	}
	rows, next, err := findPage(q, f.Page, "listing inbox", func(r InboundRequest) string { return r.ID })
	for i := range rows {
		rows[i].fillBody()
	}
	return rows, next, err
}

// GetInbound returns one request of a workflow's inbox.
func (s *Store) GetInbound(ctx context.Context, workflowID, id string) (*InboundRequest, error) {
	var r InboundRequest
	if err := s.db.WithContext(ctx).First(&r, "id = ? AND workflow_id = ?", id, workflowID).Error; err != nil {
		return nil, notFound(err, "inbox request "+id)
	}
	r.fillBody()
	return &r, nil
}
