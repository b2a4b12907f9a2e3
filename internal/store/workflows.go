package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// NewID returns a time-ordered id (UUIDv7), so ids sort by creation.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// CreateWorkflow stores a workflow and its first version. w.ID, timestamps
// and CurrentVersion are filled in.
func (s *Store) CreateWorkflow(ctx context.Context, w *Workflow, doc JSON) (*WorkflowVersion, error) {
	defer s.forgetLookups() // a token rotated away earlier may be reused
	now := time.Now().UTC()
	if w.ID == "" {
		w.ID = NewID()
	}
	w.CreatedAt, w.UpdatedAt, w.CurrentVersion = now, now, 1
	v := &WorkflowVersion{ID: NewID(), WorkflowID: w.ID, Version: 1, Document: doc, CreatedAt: now}
	row, err := s.sealedRow(v)
	if err != nil {
		return nil, err
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(w).Error; err != nil {
			return notFound(err, "creating workflow")
		}
		if err := tx.Create(row).Error; err != nil {
			return notFound(err, "creating workflow version")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// ErrPrecondition is returned (wrapped) when a write expected another version.
var ErrPrecondition = errors.New("precondition failed")

// AddWorkflowVersion stores doc as the next version of workflow id and makes
// it current.
func (s *Store) AddWorkflowVersion(ctx context.Context, id, name, triggerType string, doc JSON) (*WorkflowVersion, error) {
	return s.AddWorkflowVersionIf(ctx, id, name, triggerType, doc, 0)
}

// AddWorkflowVersionIf is AddWorkflowVersion when the current version is
// expected (0: any); otherwise it returns ErrPrecondition, so two editors
// never overwrite each other.
func (s *Store) AddWorkflowVersionIf(ctx context.Context, id, name, triggerType string, doc JSON, expected int) (*WorkflowVersion, error) {
	defer s.forgetLookups()
	var v *WorkflowVersion
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var w Workflow
		if err := tx.First(&w, "id = ?", id).Error; err != nil {
			return notFound(err, "workflow "+id)
		}
		if expected > 0 && w.CurrentVersion != expected {
			return fmt.Errorf("workflow %s is at version %d, not %d: %w", id, w.CurrentVersion, expected, ErrPrecondition)
		}
		now := time.Now().UTC()
		v = &WorkflowVersion{ID: NewID(), WorkflowID: id, Version: w.CurrentVersion + 1, Document: doc, CreatedAt: now}
		row, err := s.sealedRow(v)
		if err != nil {
			return err
		}
		if err := tx.Create(row).Error; err != nil {
			if expected > 0 && errors.Is(err, gorm.ErrDuplicatedKey) {
				return fmt.Errorf("workflow %s changed meanwhile: %w", id, ErrPrecondition)
			}
			return notFound(err, "creating workflow version")
		}
		res := tx.Model(&Workflow{}).Where("id = ? AND current_version = ?", id, w.CurrentVersion).
			Updates(map[string]any{"current_version": v.Version, "name": name, "trigger_type": triggerType, "updated_at": now})
		if res.Error != nil {
			return fmt.Errorf("updating workflow %s: %w", id, res.Error)
		}
		if res.RowsAffected != 1 {
			if expected > 0 {
				return fmt.Errorf("workflow %s changed meanwhile: %w", id, ErrPrecondition)
			}
			return fmt.Errorf("workflow %s changed meanwhile: %w", id, ErrConflict)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// SetWorkflowActive switches a workflow on or off.
func (s *Store) SetWorkflowActive(ctx context.Context, id string, active bool) error {
	defer s.forgetLookups()
	res := s.db.WithContext(ctx).Model(&Workflow{}).Where("id = ?", id).
		Updates(map[string]any{"active": active, "updated_at": time.Now().UTC()})
	return oneRow(res, "updating", "workflow "+id)
}

// GetWorkflow returns a workflow by id.
func (s *Store) GetWorkflow(ctx context.Context, id string) (*Workflow, error) {
	return first[Workflow](ctx, s.db, "workflow "+id, "id = ?", id)
}

// GetWorkflowByToken returns the workflow whose webhook token is token.
func (s *Store) GetWorkflowByToken(ctx context.Context, token string) (*Workflow, error) {
	inTx := s.txChanged != nil
	now := s.lookups.now()
	if !inTx {
		if w, ok := s.lookups.token(token); ok {
			return w, nil
		}
	}
	gen := s.lookups.generation()
	w, err := first[Workflow](ctx, s.db, "webhook endpoint", "webhook_token = ?", token)
	if err == nil && !inTx {
		s.lookups.keepToken(gen, token, w, now)
	}
	return w, err
}

// GetVersion returns one version by its id.
func (s *Store) GetVersion(ctx context.Context, versionID string) (*WorkflowVersion, error) {
	if v, ok := s.lookups.versionByID(versionID); ok {
		return v, nil
	}
	gen := s.lookups.generation()
	v, err := first[WorkflowVersion](ctx, s.db, "workflow version "+versionID, "id = ?", versionID)
	if err == nil {
		v, err = s.opened(v)
	}
	if err == nil {
		s.keepVersion(gen, v)
	}
	return v, err
}

// keepVersion caches a committed version (one read in a transaction may
// yet be rolled back).
func (s *Store) keepVersion(gen uint64, v *WorkflowVersion) {
	if s.txChanged == nil {
		s.lookups.keepVersion(gen, v)
	}
}

// GetCurrentVersion returns the workflow's current version.
func (s *Store) GetCurrentVersion(ctx context.Context, w *Workflow) (*WorkflowVersion, error) {
	if v, ok := s.lookups.version(w.ID, w.CurrentVersion); ok {
		return v, nil
	}
	gen := s.lookups.generation()
	v, err := first[WorkflowVersion](ctx, s.db, fmt.Sprintf("workflow %s version %d", w.ID, w.CurrentVersion),
		"workflow_id = ? AND version = ?", w.ID, w.CurrentVersion)
	if err == nil {
		v, err = s.opened(v)
	}
	if err == nil {
		s.keepVersion(gen, v)
	}
	return v, err
}

// Page is a cursor page request: items after Cursor (ids sort by time, and
// lists run newest first, so "after" means older).
type Page struct {
	Cursor string
	Limit  int
}

func (p Page) limit() int {
	if p.Limit <= 0 || p.Limit > 200 {
		return 50
	}
	return p.Limit
}

// ListWorkflows lists workflows, newest first.
func (s *Store) ListWorkflows(ctx context.Context, p Page) ([]Workflow, string, error) {
	return findPage(s.db.WithContext(ctx), p, "listing workflows", func(w Workflow) string { return w.ID })
}

// DeleteWorkflow removes a workflow; its versions, runs, records and inbox
// go with it.
func (s *Store) DeleteWorkflow(ctx context.Context, id string) error {
	defer s.forgetLookups()
	res := s.db.WithContext(ctx).Where("id = ?", id).Delete(&Workflow{})
	return oneRow(res, "deleting", "workflow "+id)
}

// ListVersions lists a workflow's versions, newest first, without documents.
func (s *Store) ListVersions(ctx context.Context, workflowID string) ([]WorkflowVersion, error) {
	var out []WorkflowVersion
	err := s.db.WithContext(ctx).Select("id", "workflow_id", "version", "created_at").
		Where("workflow_id = ?", workflowID).Order("version DESC").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("listing versions of %s: %w", workflowID, err)
	}
	return out, nil
}

// GetVersionNumber returns one version of a workflow by its number.
func (s *Store) GetVersionNumber(ctx context.Context, workflowID string, n int) (*WorkflowVersion, error) {
	v, err := first[WorkflowVersion](ctx, s.db, fmt.Sprintf("workflow %s version %d", workflowID, n), "workflow_id = ? AND version = ?", workflowID, n)
	if err != nil {
		return nil, err
	}
	return s.opened(v)
}

// ScheduledWorkflow is an active schedule-triggered workflow.
type ScheduledWorkflow struct {
	ID             string
	CurrentVersion int
	UpdatedAt      time.Time
	LastFiredAt    *time.Time
}

// ListScheduled lists active workflows with a schedule trigger.
func (s *Store) ListScheduled(ctx context.Context) ([]ScheduledWorkflow, error) {
	return scanAll[ScheduledWorkflow](s.db.WithContext(ctx).Model(&Workflow{}).Select("id", "current_version", "updated_at", "last_fired_at").
		Where("trigger_type = ? AND active = ?", "schedule", true).Order("id"), "listing scheduled workflows")
}

// SetLastFired records a schedule's latest tick (never moving it back).
func (s *Store) SetLastFired(ctx context.Context, workflowID string, at time.Time) error {
	err := s.db.WithContext(ctx).Model(&Workflow{}).
		Where("id = ? AND (last_fired_at IS NULL OR last_fired_at < ?)", workflowID, at.UTC()).
		Update("last_fired_at", at.UTC()).Error
	if err != nil {
		return fmt.Errorf("recording last tick of %s: %w", workflowID, err)
	}
	return nil
}

// sealedRow is v as written: its document sealed when a sealer is set.
func (s *Store) sealedRow(v *WorkflowVersion) (*WorkflowVersion, error) {
	row := *v
	if s.sealer == nil {
		return &row, nil
	}
	doc, err := s.sealer.SealDocument(v.WorkflowID, v.Document)
	if err != nil {
		return nil, fmt.Errorf("sealing the secrets of workflow %s: %w", v.WorkflowID, err)
	}
	row.Document, row.SecretsSealed = doc, true
	return &row, nil
}

// opened is v as read with its secrets opened.
func (s *Store) opened(v *WorkflowVersion) (*WorkflowVersion, error) {
	if s.sealer == nil {
		return v, nil
	}
	doc, err := s.sealer.OpenDocument(v.WorkflowID, v.Document)
	if err != nil {
		return nil, fmt.Errorf("opening the secrets of workflow %s version %d: %w", v.WorkflowID, v.Version, err)
	}
	v.Document = doc
	return v, nil
}

// SealVersions rewrites stored versions through the sealer: with all unset,
// only those not sealed yet (written before sealing existed, or without a
// sealer); with all set, every version (re-sealing under a new primary key
// after a rotation). Each version is opened first, so legacy plain values
// and values sealed under an older key come out the same. It returns how
// many versions it rewrote.
func (s *Store) SealVersions(ctx context.Context, all bool) (int, error) {
	if s.sealer == nil {
		return 0, errors.New("sealing workflow versions: no sealer set")
	}
	n, after := 0, ""
	for {
		q := s.db.WithContext(ctx).Order("id").Limit(100).Where("id > ?", after)
		if !all {
			q = q.Where("secrets_sealed = ?", false)
		}
		var batch []WorkflowVersion
		if err := q.Find(&batch).Error; err != nil {
			return n, fmt.Errorf("listing versions to seal: %w", err)
		}
		if len(batch) == 0 {
			return n, nil
		}
		for i := range batch {
			v := &batch[i]
			after = v.ID
			if _, err := s.opened(v); err != nil {
				return n, err
			}
			row, err := s.sealedRow(v)
			if err != nil {
				return n, err
			}
			res := s.db.WithContext(ctx).Model(&WorkflowVersion{}).Where("id = ?", v.ID).
				Updates(map[string]any{"document": row.Document, "secrets_sealed": true})
			if res.Error != nil {
				return n, fmt.Errorf("sealing version %s: %w", v.ID, res.Error)
			}
			n++
		}
	}
}
