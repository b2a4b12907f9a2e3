package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// User is a person who signs in.
type User struct {
	ID           string `gorm:"primaryKey"`
	Email        string
	Name         string
	PasswordHash string
	Role         string
	Disabled     bool
	FailedLogins int
	LockedUntil  *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Session is a signed-in browser; ID is the hash of the cookie's secret.
type Session struct {
	ID        string `gorm:"primaryKey"`
	UserID    string
	CSRFToken string `gorm:"column:csrf_token"`
	CreatedAt time.Time
	ExpiresAt time.Time
}

// APIKey is a program's credential; Hash is the SHA-256 of the key.
type APIKey struct {
	ID        string `gorm:"primaryKey"`
	Name      string
	Prefix    string
	Hash      string
	Role      string
	CreatedBy string
	// OwnerID is the user the key acts for (nil: made on the command line).
	OwnerID    *string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// TableName keeps GORM from naming it "api_keys" differently.
func (APIKey) TableName() string { return "api_keys" }

// AuditEntry records who did what.
type AuditEntry struct {
	ID         string `gorm:"primaryKey"`
	At         time.Time
	ActorKind  string
	ActorID    string
	ActorName  string
	Action     string
	TargetType string
	TargetID   string
	Detail     JSON
	IP         string `gorm:"column:ip"`
	RequestID  string
}

// TableName is audit_log.
func (AuditEntry) TableName() string { return "audit_log" }

// CountUsers reports how many users exist (0: the instance needs set-up).
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&User{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("counting users: %w", err)
	}
	return n, nil
}

// CreateFirstUser creates u only when there is no user yet, atomically, so
// nobody else can claim the instance. It returns ErrConflict otherwise.
func (s *Store) CreateFirstUser(ctx context.Context, u *User) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&User{}).Count(&n).Error; err != nil {
			return fmt.Errorf("counting users: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("the instance is already set up: %w", ErrConflict)
		}
		return (&Store{db: tx, dialect: s.dialect, lookups: s.lookups, txChanged: new(bool)}).CreateUser(ctx, u)
	})
}

// CreateUser inserts a user; a taken e-mail is ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	now := time.Now().UTC()
	if u.ID == "" {
		u.ID = NewID()
	}
	u.CreatedAt, u.UpdatedAt = now, now
	if err := s.db.WithContext(ctx).Create(u).Error; err != nil {
		return notFound(err, "creating user "+u.Email)
	}
	return nil
}

// GetUser returns a user by id.
func (s *Store) GetUser(ctx context.Context, id string) (*User, error) {
	return first[User](ctx, s.db, "user "+id, "id = ?", id)
}

// GetUserByEmail returns a user by e-mail (stored lower-cased).
func (s *Store) GetUserByEmail(ctx context.Context, email string) (*User, error) {
	return first[User](ctx, s.db, "user "+email, "email = ?", email)
}

// ListUsers lists users by e-mail.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	return findAll[User](s.db.WithContext(ctx).Order("email"), "listing users")
}

// UpdateUser saves the given columns.
func (s *Store) UpdateUser(ctx context.Context, id string, fields map[string]any) error {
	fields["updated_at"] = time.Now().UTC()
	res := s.db.WithContext(ctx).Model(&User{}).Where("id = ?", id).Updates(fields)
	return oneRow(res, "updating", "user "+id)
}

// DeleteUser removes a user and their sessions.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	res := s.db.WithContext(ctx).Where("id = ?", id).Delete(&User{})
	return oneRow(res, "deleting", "user "+id)
}

// CountAdmins counts enabled admins (the last one may not be removed).
func (s *Store) CountAdmins(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&User{}).Where("role = ? AND disabled = ?", "admin", false).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("counting admins: %w", err)
	}
	return n, nil
}

// CreateSession stores a session.
func (s *Store) CreateSession(ctx context.Context, se *Session) error {
	if err := s.db.WithContext(ctx).Create(se).Error; err != nil {
		return fmt.Errorf("creating session: %w", err)
	}
	return nil
}

// GetSession returns an unexpired session by its hashed id.
func (s *Store) GetSession(ctx context.Context, id string, now time.Time) (*Session, error) {
	return first[Session](ctx, s.db, "session", "id = ? AND expires_at > ?", id, now.UTC())
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if err := s.db.WithContext(ctx).Where("id = ?", id).Delete(&Session{}).Error; err != nil {
		return fmt.Errorf("deleting session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session of a user (password change, disable).
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) error {
	if err := s.db.WithContext(ctx).Where("user_id = ?", userID).Delete(&Session{}).Error; err != nil {
		return fmt.Errorf("deleting sessions: %w", err)
	}
	return nil
}

// CreateAPIKey stores a key's hash.
func (s *Store) CreateAPIKey(ctx context.Context, k *APIKey) error {
	if err := s.db.WithContext(ctx).Create(k).Error; err != nil {
		return fmt.Errorf("creating API key: %w", err)
	}
	return nil
}

// GetAPIKeyByHash returns an unrevoked key.
func (s *Store) GetAPIKeyByHash(ctx context.Context, hash string) (*APIKey, error) {
	return first[APIKey](ctx, s.db, "API key", "hash = ? AND revoked_at IS NULL", hash)
}

// TouchAPIKey records a key's last use (at most once a minute per key).
func (s *Store) TouchAPIKey(ctx context.Context, id string, now time.Time) error {
	err := s.db.WithContext(ctx).Model(&APIKey{}).
		Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", id, now.Add(-time.Minute).UTC()).
		Update("last_used_at", now.UTC()).Error
	if err != nil {
		return fmt.Errorf("recording API key use: %w", err)
	}
	return nil
}

// ListAPIKeys lists keys, newest first.
func (s *Store) ListAPIKeys(ctx context.Context) ([]APIKey, error) {
	return findAll[APIKey](s.db.WithContext(ctx).Order("id DESC"), "listing API keys")
}

// RevokeAPIKey revokes a key.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, now time.Time) error {
	res := s.db.WithContext(ctx).Model(&APIKey{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", now.UTC())
	return oneRow(res, "revoking", "API key "+id)
}

// AddAudit records an audit entry.
func (s *Store) AddAudit(ctx context.Context, e *AuditEntry) error {
	if e.ID == "" {
		e.ID = NewID()
	}
	if err := s.db.WithContext(ctx).Create(e).Error; err != nil {
		return fmt.Errorf("recording audit entry: %w", err)
	}
	return nil
}

// ListAudit lists audit entries, newest first.
func (s *Store) ListAudit(ctx context.Context, p Page) ([]AuditEntry, string, error) {
	return findPage(s.db.WithContext(ctx), p, "listing audit log", func(e AuditEntry) string { return e.ID })
}

// RecordLoginFailure counts a failed login in one statement, so parallel
// attempts cannot overwrite each other's count; the max-th failure locks the
// account until lockUntil and restarts the count. It reports whether this
// failure locked the account.
func (s *Store) RecordLoginFailure(ctx context.Context, id string, max int, lockUntil time.Time) (locked bool, err error) {
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&User{}).Where("id = ?", id).Updates(map[string]any{
			// Both CASEs read the row's old count (SQL evaluates SET from the old row).
			"failed_logins": gorm.Expr("CASE WHEN failed_logins + 1 >= ? THEN 0 ELSE failed_logins + 1 END", max),
			"locked_until":  gorm.Expr("CASE WHEN failed_logins + 1 >= ? THEN ? ELSE locked_until END", max, lockUntil.UTC()),
			"updated_at":    time.Now().UTC(),
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		var n int
		if err := tx.Model(&User{}).Where("id = ?", id).Select("failed_logins").Scan(&n).Error; err != nil {
			return err
		}
		locked = n == 0
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("recording failed login of user %s: %w", id, err)
	}
	return locked, nil
}

// RevokeUserAPIKeys revokes every live key a user owns (the user is being
// deleted).
func (s *Store) RevokeUserAPIKeys(ctx context.Context, userID string, now time.Time) error {
	err := s.db.WithContext(ctx).Model(&APIKey{}).Where("owner_id = ? AND revoked_at IS NULL", userID).
		Update("revoked_at", now.UTC()).Error
	if err != nil {
		return fmt.Errorf("revoking the API keys of user %s: %w", userID, err)
	}
	return nil
}
