package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// PluginModule is a WebAssembly module, stored once by content hash.
type PluginModule struct {
	Hash      string `gorm:"primaryKey"`
	Wasm      []byte
	Size      int64
	CreatedAt time.Time
}

// Plugin is the head of a plugin: its current version and switch.
type Plugin struct {
	ID        string `gorm:"primaryKey"`
	Version   int
	Enabled   bool
	UpdatedAt time.Time
}

// PluginVersion is one upload of a plugin.
type PluginVersion struct {
	PluginID    string `gorm:"primaryKey"`
	Version     int    `gorm:"primaryKey"`
	Hash        string
	Spec        JSON
	SpecVersion string
	CreatedBy   string
	CreatedAt   time.Time
}

// PluginHead is a plugin with its current version's details.
type PluginHead struct {
	ID        string
	Version   int
	Enabled   bool
	UpdatedAt time.Time
	Hash      string
	Spec      JSON
	Size      int64
	CreatedAt time.Time
}

// AddPluginVersion stores wasm (once per hash) and makes it the new current
// version of plugin id — version 1 and enabled for a new plugin; an existing
// plugin keeps its switch. It returns the version.
func (s *Store) AddPluginVersion(ctx context.Context, id string, wasm []byte, hash string, spec JSON, specVersion, by string) (PluginVersion, error) {
	now := time.Now().UTC()
	v := PluginVersion{PluginID: id, Hash: hash, Spec: spec, SpecVersion: specVersion, CreatedBy: by, CreatedAt: now}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		mod := PluginModule{Hash: hash, Wasm: wasm, Size: int64(len(wasm)), CreatedAt: now}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&mod).Error; err != nil {
			return fmt.Errorf("storing plugin module: %w", err)
		}
		var head Plugin
		q := tx
		if s.dialect == Postgres { // SQLite transactions already hold the write lock
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		err := q.First(&head, "id = ?", id).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			head = Plugin{ID: id, Version: 1, Enabled: true, UpdatedAt: now}
			if err := tx.Create(&head).Error; err != nil {
				return notFound(err, "creating plugin "+id)
			}
		case err != nil:
			return fmt.Errorf("reading plugin %s: %w", id, err)
		default:
			var last int
			if err := tx.Model(&PluginVersion{}).Where("plugin_id = ?", id).Select("COALESCE(MAX(version), 0)").Scan(&last).Error; err != nil {
				return fmt.Errorf("reading plugin %s versions: %w", id, err)
			}
			head.Version, head.UpdatedAt = last+1, now
			if err := tx.Model(&Plugin{}).Where("id = ?", id).Updates(map[string]any{"version": head.Version, "updated_at": now}).Error; err != nil {
				return fmt.Errorf("updating plugin %s: %w", id, err)
			}
		}
		v.Version = head.Version
		if err := tx.Create(&v).Error; err != nil {
			return notFound(err, "adding a version of plugin "+id)
		}
		return nil
	})
	return v, err
}

// ListPlugins returns every plugin with its current version, by id.
func (s *Store) ListPlugins(ctx context.Context) ([]PluginHead, error) {
	return scanAll[PluginHead](s.db.WithContext(ctx).Table("plugins p").
		Select("p.id, p.version, p.enabled, p.updated_at, v.hash, v.spec, m.size, v.created_at").
		Joins("JOIN plugin_versions v ON v.plugin_id = p.id AND v.version = p.version").
		Joins("JOIN plugin_modules m ON m.hash = v.hash").
		Order("p.id"), "listing plugins")
}

// ListPluginVersions returns every version of plugin id, newest first.
func (s *Store) ListPluginVersions(ctx context.Context, id string) ([]PluginVersion, error) {
	var out []PluginVersion
	if err := s.db.WithContext(ctx).Where("plugin_id = ?", id).Order("version DESC").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("listing versions of plugin %s: %w", id, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("plugin %s: %w", id, ErrNotFound)
	}
	return out, nil
}

// PluginWasm returns the module with the given hash.
func (s *Store) PluginWasm(ctx context.Context, hash string) ([]byte, error) {
	var m PluginModule
	if err := s.db.WithContext(ctx).First(&m, "hash = ?", hash).Error; err != nil {
		return nil, notFound(err, "plugin module "+hash)
	}
	return m.Wasm, nil
}

// SetPluginEnabled switches plugin id on or off.
func (s *Store) SetPluginEnabled(ctx context.Context, id string, on bool) error {
	res := s.db.WithContext(ctx).Model(&Plugin{}).Where("id = ?", id).
		Updates(map[string]any{"enabled": on, "updated_at": time.Now().UTC()})
	return oneRow(res, "switching", "plugin "+id)
}

// SetPluginVersion makes an earlier (or later) version current again.
func (s *Store) SetPluginVersion(ctx context.Context, id string, version int) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&PluginVersion{}).Where("plugin_id = ? AND version = ?", id, version).Count(&n).Error; err != nil {
			return fmt.Errorf("reading plugin %s: %w", id, err)
		}
		if n == 0 {
			return fmt.Errorf("plugin %s version %d: %w", id, version, ErrNotFound)
		}
		return tx.Model(&Plugin{}).Where("id = ?", id).
			Updates(map[string]any{"version": version, "updated_at": time.Now().UTC()}).Error
	})
}

// DeletePlugin removes plugin id, its versions and the modules no other
// plugin uses.
func (s *Store) DeletePlugin(ctx context.Context, id string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("plugin_id = ?", id).Delete(&PluginVersion{}).Error; err != nil {
			return fmt.Errorf("deleting plugin %s: %w", id, err)
		}
		res := tx.Where("id = ?", id).Delete(&Plugin{})
		if res.Error != nil {
			return fmt.Errorf("deleting plugin %s: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("plugin %s: %w", id, ErrNotFound)
		}
		if err := tx.Where("hash NOT IN (?)", tx.Model(&PluginVersion{}).Select("hash")).Delete(&PluginModule{}).Error; err != nil {
			return fmt.Errorf("deleting unused plugin modules: %w", err)
		}
		return nil
	})
}
