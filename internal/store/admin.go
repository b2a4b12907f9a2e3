package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// UserLink is a one-time link to set a password: an invitation or a
// reset. ID is the SHA-256 of the link's secret.
type UserLink struct {
	ID        string `gorm:"primaryKey"`
	UserID    string
	Kind      string // "invite" or "reset"
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// CreateUserLink stores a link, replacing the user's earlier unused links
// (only the newest link an admin handed out works).
func (s *Store) CreateUserLink(ctx context.Context, l *UserLink) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("user_id = ? AND used_at IS NULL", l.UserID).Delete(&UserLink{}).Error; err != nil {
			return err
		}
		return tx.Create(l).Error
	})
	if err != nil {
		return fmt.Errorf("creating link for user %s: %w", l.UserID, err)
	}
	return nil
}

// GetUserLink returns an unused, unexpired link by its hashed id.
func (s *Store) GetUserLink(ctx context.Context, id string, now time.Time) (*UserLink, error) {
	var l UserLink
	err := s.db.WithContext(ctx).First(&l, "id = ? AND used_at IS NULL AND expires_at > ?", id, now.UTC()).Error
	if err != nil {
		return nil, notFound(err, "link")
	}
	return &l, nil
}

// UseUserLink spends a link and sets its user's password in one
// transaction: of two concurrent uses exactly one wins, the other gets
// ErrNotFound. Every session of the user ends and a lockout is lifted.
func (s *Store) UseUserLink(ctx context.Context, id, passwordHash string, now time.Time) (*User, error) {
	var u User
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var l UserLink
		if err := tx.First(&l, "id = ? AND used_at IS NULL AND expires_at > ?", id, now.UTC()).Error; err != nil {
			return err
		}
		// The guard on used_at makes a concurrent second use change nothing.
		res := tx.Model(&UserLink{}).Where("id = ? AND used_at IS NULL", id).Update("used_at", now.UTC())
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("link: %w", ErrNotFound)
		}
		if err := tx.Model(&User{}).Where("id = ?", l.UserID).Updates(map[string]any{
			"password_hash": passwordHash, "failed_logins": 0, "locked_until": nil, "updated_at": now.UTC(),
		}).Error; err != nil {
			return err
		}
		if err := tx.Where("user_id = ?", l.UserID).Delete(&Session{}).Error; err != nil {
			return err
		}
		return tx.First(&u, "id = ?", l.UserID).Error
	})
	if err != nil {
		return nil, notFound(err, "using link")
	}
	return &u, nil
}

// PendingInvites returns the ids of users whose invitation is unused and
// unexpired.
func (s *Store) PendingInvites(ctx context.Context, now time.Time) (map[string]bool, error) {
	var ids []string
	err := s.db.WithContext(ctx).Model(&UserLink{}).Where("kind = ? AND used_at IS NULL AND expires_at > ?", "invite", now.UTC()).
		Pluck("user_id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("listing pending invitations: %w", err)
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// Setting is one instance setting, a JSON value under a key.
type Setting struct {
	Key       string `gorm:"primaryKey"`
	Value     JSON
	UpdatedBy string
	UpdatedAt time.Time
}

// GetSetting returns a setting; ErrNotFound when it was never set.
func (s *Store) GetSetting(ctx context.Context, key string) (*Setting, error) {
	var st Setting
	if err := s.db.WithContext(ctx).First(&st, "key = ?", key).Error; err != nil {
		return nil, notFound(err, "setting "+key)
	}
	return &st, nil
}

// PutSetting creates or replaces a setting.
func (s *Store) PutSetting(ctx context.Context, st *Setting) error {
	st.UpdatedAt = time.Now().UTC()
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "key"}},
		DoUpdates: clause.AssignmentColumns([]string{"value", "updated_by", "updated_at"}),
	}).Create(st).Error
	if err != nil {
		return fmt.Errorf("saving setting %s: %w", st.Key, err)
	}
	return nil
}

// DeleteSetting removes a setting (back to the configured value).
func (s *Store) DeleteSetting(ctx context.Context, key string) error {
	if err := s.db.WithContext(ctx).Where("key = ?", key).Delete(&Setting{}).Error; err != nil {
		return fmt.Errorf("deleting setting %s: %w", key, err)
	}
	return nil
}

// AuditFilter narrows the audit log. Actor matches the actor's id or name
// (a substring of the name); Action matches exactly, or every action of a
// kind when it ends with "." ("user.").
type AuditFilter struct {
	Actor, Action string
	Since, Until  time.Time
}

// ListAuditFiltered lists audit entries matching f, newest first.
func (s *Store) ListAuditFiltered(ctx context.Context, f AuditFilter, p Page) ([]AuditEntry, string, error) {
	q := s.db.WithContext(ctx).Order("id DESC").Limit(p.limit() + 1)
	if p.Cursor != "" {
		q = q.Where("id < ?", p.Cursor)
	}
	if f.Actor != "" {
		q = q.Where("actor_id = ? OR LOWER(actor_name) LIKE ? ESCAPE '\\'", f.Actor, "%"+likeEscape(strings.ToLower(f.Actor))+"%")
	}
	switch {
	case strings.HasSuffix(f.Action, "."):
		q = q.Where("action LIKE ? ESCAPE '\\'", likeEscape(f.Action)+"%")
	case f.Action != "":
		q = q.Where("action = ?", f.Action)
	}
	if !f.Since.IsZero() {
		q = q.Where("at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		q = q.Where("at < ?", f.Until.UTC())
	}
	var out []AuditEntry
	if err := q.Find(&out).Error; err != nil {
		return nil, "", fmt.Errorf("listing audit log: %w", err)
	}
	return pageOf(out, p.limit(), func(e AuditEntry) string { return e.ID })
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// CurrentDocument is a workflow with its current version's document.
type CurrentDocument struct {
	ID, Name string
	Active   bool
	Document JSON
}

// CurrentDocuments returns every workflow's current document, by name
// (to find where a connection is used).
func (s *Store) CurrentDocuments(ctx context.Context) ([]CurrentDocument, error) {
	return scanAll[CurrentDocument](s.db.WithContext(ctx).Table("workflows AS w").
		Select("w.id, w.name, w.active, v.document").
		Joins("JOIN workflow_versions AS v ON v.workflow_id = w.id AND v.version = w.current_version").
		Order("w.name, w.id"), "reading current workflow documents")
}

// AuditTargetNames maps the ids of audit targets of one type to a name a
// person reads: a user's e-mail, a workflow's name (also for its webhook
// inbox), a connection's or an API key's name. Other types, and ids not
// found (deleted since), are left out.
func (s *Store) AuditTargetNames(ctx context.Context, targetType string, ids []string) (map[string]string, error) {
	out := map[string]string{}
	var model any
	col := "name"
	switch targetType {
	case "user", "auth":
		model, col = &User{}, "email"
	case "workflow", "webhook":
		model = &Workflow{}
	case "connection":
		model = &Connection{}
	case "api_key":
		model = &APIKey{}
	default:
		return out, nil
	}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct{ ID, Name string }
	if err := s.db.WithContext(ctx).Model(model).Select("id, "+col+" AS name").Where("id IN ?", ids).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("reading the names of %s audit targets: %w", targetType, err)
	}
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}
