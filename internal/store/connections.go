package store

import (
	"context"
	"fmt"
	"time"
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
	if res.Error != nil {
		return notFound(res.Error, "updating connection "+c.ID)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("connection %s: %w", c.ID, ErrNotFound)
	}
	return nil
}

// GetConnection returns a connection by id.
func (s *Store) GetConnection(ctx context.Context, id string) (*Connection, error) {
	var c Connection
	if err := s.db.WithContext(ctx).First(&c, "id = ?", id).Error; err != nil {
		return nil, notFound(err, "connection "+id)
	}
	return &c, nil
}

// GetConnectionByName returns a connection by its name.
func (s *Store) GetConnectionByName(ctx context.Context, name string) (*Connection, error) {
	var c Connection
	if err := s.db.WithContext(ctx).First(&c, "name = ?", name).Error; err != nil {
		return nil, notFound(err, "connection "+name)
	}
	return &c, nil
}

// ListConnections lists every connection, by name.
func (s *Store) ListConnections(ctx context.Context) ([]Connection, error) {
	var out []Connection
	if err := s.db.WithContext(ctx).Order("name").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("listing connections: %w", err)
	}
	return out, nil
}

// DeleteConnection removes a connection.
func (s *Store) DeleteConnection(ctx context.Context, id string) error {
	res := s.db.WithContext(ctx).Where("id = ?", id).Delete(&Connection{})
	if res.Error != nil {
		return fmt.Errorf("deleting connection %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("connection %s: %w", id, ErrNotFound)
	}
	return nil
}
