package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Connection is a named, sealed set of credentials for one connector.
type Connection struct {
	ID           string `gorm:"primaryKey"`
	Name         string
	Connector    string
	FieldsSealed string
	Public       JSON
	KeyID        string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	ConnectionOAuth
	ConnectionFailure
}

// ConnectionFailure is a connection's last failed test or refused use, kept
// until a test or a use succeeds (FailedAt nil: none).
type ConnectionFailure struct {
	Failure       string     `gorm:"column:failure"`
	FailureSource string     `gorm:"column:failure_source"` // "test" or "step"
	FailedAt      *time.Time `gorm:"column:failed_at"`
}

// MarkConnectionFailed records why and when the named connection last
// failed. It leaves updated_at alone: the connection itself did not change.
func (s *Store) MarkConnectionFailed(ctx context.Context, name string, f ConnectionFailure) error {
	res := s.db.WithContext(ctx).Model(&Connection{}).Where("name = ?", name).Updates(map[string]any{
		"failure": f.Failure, "failure_source": f.FailureSource, "failed_at": f.FailedAt})
	return oneRow(res, "marking failed", "connection "+name)
}

// ClearConnectionFailure forgets the named connection's recorded failure;
// a connection with none (or gone) is left as it is.
func (s *Store) ClearConnectionFailure(ctx context.Context, name string) error {
	err := s.db.WithContext(ctx).Model(&Connection{}).Where("name = ? AND failed_at IS NOT NULL", name).Updates(map[string]any{
		"failure": "", "failure_source": "", "failed_at": nil}).Error
	if err != nil {
		return fmt.Errorf("clearing the failure of connection %s: %w", name, err)
	}
	return nil
}

// CreateConnection inserts a connection; a taken name is ErrConflict.
func (s *Store) CreateConnection(ctx context.Context, c *Connection) error {
	now := time.Now().UTC()
	c.CreatedAt, c.UpdatedAt = now, now
	if err := s.db.WithContext(ctx).Create(c).Error; err != nil {
		return notFound(err, "creating connection "+c.Name)
	}
	return nil
}

// UpdateConnection saves new sealed fields (and name).
func (s *Store) UpdateConnection(ctx context.Context, c *Connection) error {
	c.UpdatedAt = time.Now().UTC()
	res := s.db.WithContext(ctx).Model(&Connection{}).Where("id = ?", c.ID).Updates(map[string]any{
		"name": c.Name, "fields_sealed": c.FieldsSealed, "public": c.Public, "key_id": c.KeyID, "updated_at": c.UpdatedAt})
	return oneRow(res, "updating", "connection "+c.ID)
}

// GetConnection returns a connection by id.
func (s *Store) GetConnection(ctx context.Context, id string) (*Connection, error) {
	return first[Connection](ctx, s.db, "connection "+id, "id = ?", id)
}

// GetConnectionByName returns a connection by its name.
func (s *Store) GetConnectionByName(ctx context.Context, name string) (*Connection, error) {
	return first[Connection](ctx, s.db, "connection "+name, "name = ?", name)
}

// ListConnections lists every connection, by name.
func (s *Store) ListConnections(ctx context.Context) ([]Connection, error) {
	return findAll[Connection](s.db.WithContext(ctx).Order("name"), "listing connections")
}

// DeleteConnection removes a connection.
func (s *Store) DeleteConnection(ctx context.Context, id string) error {
	res := s.db.WithContext(ctx).Where("id = ?", id).Delete(&Connection{})
	return oneRow(res, "deleting", "connection "+id)
}

// ConnectionOAuth is the OAuth2 part of a connection row: the sealed client
// settings and tokens, and the status shown without opening them.
type ConnectionOAuth struct {
	OAuthSealed    string     `gorm:"column:oauth_sealed"`
	OAuthStatus    string     `gorm:"column:oauth_status"` // "", "ok" or "needs_attention"
	OAuthError     string     `gorm:"column:oauth_error"`
	OAuthExpiresAt *time.Time `gorm:"column:oauth_expires_at"`
}

// UpdateConnectionOAuth saves a connection's OAuth2 part (and nothing else).
func (s *Store) UpdateConnectionOAuth(ctx context.Context, c *Connection) error {
	c.UpdatedAt = time.Now().UTC()
	res := s.db.WithContext(ctx).Model(&Connection{}).Where("id = ?", c.ID).Updates(map[string]any{
		"oauth_sealed": c.OAuthSealed, "oauth_status": c.OAuthStatus, "oauth_error": c.OAuthError,
		"oauth_expires_at": c.OAuthExpiresAt, "updated_at": c.UpdatedAt})
	return oneRow(res, "updating OAuth2 tokens of", "connection "+c.ID)
}

// LockConnection reads a connection and holds its row until the transaction
// ends: SELECT … FOR UPDATE on PostgreSQL; on SQLite every transaction
// already holds the database's write lock (BEGIN IMMEDIATE). Call it on a
// Store bound to a transaction (InTx).
func (s *Store) LockConnection(ctx context.Context, id string) (*Connection, error) {
	q := s.db.WithContext(ctx)
	if s.dialect == Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var c Connection
	if err := q.First(&c, "id = ?", id).Error; err != nil {
		return nil, notFound(err, "connection "+id)
	}
	return &c, nil
}

// OAuthState is an authorization started in a browser, kept until its
// callback arrives (once) or it expires. Only the state's SHA-256 is stored.
type OAuthState struct {
	StateHash    string `gorm:"primaryKey"`
	ConnectionID string
	UserID       string
	Verifier     string
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

// TableName is oauth_states.
func (OAuthState) TableName() string { return "oauth_states" }

// CreateOAuthState stores a started authorization and drops the ones
// expired at now.
func (s *Store) CreateOAuthState(ctx context.Context, o *OAuthState, now time.Time) error {
	db := s.db.WithContext(ctx)
	if err := db.Where("expires_at < ?", now.UTC()).Delete(&OAuthState{}).Error; err != nil {
		return fmt.Errorf("dropping expired OAuth2 states: %w", err)
	}
	if err := db.Create(o).Error; err != nil {
		return notFound(err, "storing OAuth2 state")
	}
	return nil
}

// TakeOAuthState returns the authorization with the given state hash and
// deletes it in the same transaction, so a state is used at most once; an
// unknown or already used state is ErrNotFound. Expiry is the caller's to
// check.
func (s *Store) TakeOAuthState(ctx context.Context, hash string) (*OAuthState, error) {
	var o OAuthState
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.First(&o, "state_hash = ?", hash).Error; err != nil {
			return notFound(err, "OAuth2 state")
		}
		res := tx.Where("state_hash = ?", hash).Delete(&OAuthState{})
		if res.Error != nil {
			return fmt.Errorf("using OAuth2 state: %w", res.Error)
		}
		if res.RowsAffected == 0 { // taken by a concurrent callback
			return fmt.Errorf("OAuth2 state: %w", ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &o, nil
}
