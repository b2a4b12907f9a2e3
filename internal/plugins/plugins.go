// Package plugins keeps the WebAssembly connector plugins stored in the
// database in a process's connector registry: upload (checked by the
// runtime, stored by content hash, versioned), enable, disable, delete, and
// a periodic sync so that every API and worker process runs the same
// plugins from the same bytes.
package plugins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/connectors/wasm"
	"github.com/switchboard-dev/switchboard/internal/periodic"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// Errors the Manager returns (wrapped); the API maps them to statuses.
var (
	ErrNotFound = errors.New("no such plugin")
	ErrTaken    = errors.New("connector id is taken by a connector that is not a plugin")
)

// Store is what the Manager needs of the database.
type Store interface {
	AddPluginVersion(ctx context.Context, id string, wasm []byte, hash string, spec store.JSON, specVersion, by string) (store.PluginVersion, error)
	ListPlugins(ctx context.Context) ([]store.PluginHead, error)
	ListPluginVersions(ctx context.Context, id string) ([]store.PluginVersion, error)
	PluginWasm(ctx context.Context, hash string) ([]byte, error)
	SetPluginEnabled(ctx context.Context, id string, on bool) error
	SetPluginVersion(ctx context.Context, id string, version int) error
	DeletePlugin(ctx context.Context, id string) error
}

// Options configure a Manager.
type Options struct {
	// Interval is how often the database is checked for changes made by
	// other processes (default 3s).
	Interval time.Duration
	// Taken reports ids owned by other kinds of connectors (built-ins,
	// declarative files) that a plugin may not take; nil: any connector
	// already in the registry when the Manager is made.
	Taken  func(id string) bool
	Logger *slog.Logger
}

// Info describes a plugin, in the shape the declarative connectors' admin
// routes use (id, version, hash, origin, enabled, spec).
type Info struct {
	ID         string          `json:"id"`
	Version    string          `json:"version,omitempty"` // the spec's version
	Hash       string          `json:"hash"`              // sha256:… of the module
	Origin     string          `json:"origin"`            // always "plugin"
	Enabled    bool            `json:"enabled"`
	Revision   int             `json:"revision"` // upload number, 1, 2, …
	Size       int64           `json:"size"`     // module bytes
	ABI        int             `json:"abi"`
	UploadedAt time.Time       `json:"uploaded_at"`
	Spec       connectors.Spec `json:"spec"`
}

// VersionInfo is one upload of a plugin.
type VersionInfo struct {
	Revision   int       `json:"revision"`
	Version    string    `json:"version,omitempty"`
	Hash       string    `json:"hash"`
	Current    bool      `json:"current"`
	UploadedBy string    `json:"uploaded_by,omitempty"`
	UploadedAt time.Time `json:"uploaded_at"`
}

// Manager keeps the registry in step with the stored plugins.
type Manager struct {
	st   Store
	rt   *wasm.Runtime
	reg  *connectors.Registry
	opts Options
	log  *slog.Logger

	mu     sync.Mutex
	loaded map[string]loaded // what this process has put in the registry
}

type loaded struct {
	version int
	enabled bool
	hash    string
	conn    *wasm.Connector
}

// New returns a Manager for reg; call Start (or Sync).
func New(st Store, rt *wasm.Runtime, reg *connectors.Registry, o Options) *Manager {
	if o.Interval <= 0 {
		o.Interval = 3 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Taken == nil {
		pre := map[string]bool{}
		for _, s := range reg.Specs() {
			pre[s.ID] = true
		}
		o.Taken = func(id string) bool { return pre[id] }
	}
	return &Manager{st: st, rt: rt, reg: reg, opts: o, log: o.Logger, loaded: map[string]loaded{}}
}

// Runtime is the plugin runtime.
func (m *Manager) Runtime() *wasm.Runtime { return m.rt }

// Start syncs now and then every Interval until ctx ends.
func (m *Manager) Start(ctx context.Context) error {
	if err := m.Sync(ctx); err != nil {
		return err
	}
	go periodic.Run(ctx, m.opts.Interval, func(ctx context.Context) {
		if err := m.Sync(ctx); err != nil && ctx.Err() == nil {
			m.log.Error("syncing plugins", "error", err)
		}
	})
	return nil
}

// Sync puts every enabled stored plugin's current version in the registry
// and takes out the disabled and deleted ones. Modules are compiled lazily,
// on a plugin's first call in this process.
func (m *Manager) Sync(ctx context.Context) error {
	heads, err := m.st.ListPlugins(ctx)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[string]bool{}
	for _, h := range heads {
		seen[h.ID] = true
		if l, ok := m.loaded[h.ID]; ok && l.version == h.Version && l.enabled == h.Enabled && l.hash == h.Hash {
			continue
		}
		if err := m.install(h); err != nil {
			m.log.Error("plugin not loaded", "plugin", h.ID, "revision", h.Version, "error", err)
		}
	}
	for id := range m.loaded {
		if !seen[id] {
			m.unregister(id)
			delete(m.loaded, id)
			m.log.Info("plugin removed", "plugin", id)
		}
	}
	return nil
}

// install registers (or unregisters, when disabled) h. The caller holds m.mu.
func (m *Manager) install(h store.PluginHead) error {
	var spec connectors.Spec
	if err := json.Unmarshal(h.Spec, &spec); err != nil {
		return fmt.Errorf("plugin %s: stored spec: %w", h.ID, err)
	}
	if m.opts.Taken(h.ID) {
		return fmt.Errorf("plugin %s: %w", h.ID, ErrTaken)
	}
	hash := h.Hash
	c := m.rt.Connector(spec, hash, func(ctx context.Context) ([]byte, error) { return m.st.PluginWasm(ctx, hash) })
	if h.Enabled {
		if err := m.reg.Replace(c); err != nil {
			return err
		}
	} else {
		m.unregister(h.ID)
	}
	m.loaded[h.ID] = loaded{version: h.Version, enabled: h.Enabled, hash: h.Hash, conn: c}
	m.log.Info("plugin loaded", "plugin", h.ID, "revision", h.Version, "version", spec.Version, "hash", h.Hash, "enabled", h.Enabled)
	return nil
}

// unregister takes id out of the registry if a plugin holds it there.
func (m *Manager) unregister(id string) {
	if c, ok := m.reg.Get(id); ok {
		if _, plugin := c.(*wasm.Connector); plugin {
			m.reg.Remove(id)
		}
	}
}

// Upload checks a module (an *wasm.InvalidError says why it is refused),
// stores it as the plugin's next version and loads it.
func (m *Manager) Upload(ctx context.Context, mod []byte, by string) (Info, error) {
	spec, err := m.rt.Inspect(ctx, mod)
	if err != nil {
		return Info{}, err
	}
	if m.opts.Taken(spec.ID) {
		return Info{}, fmt.Errorf("%w: %q is a built-in or declarative connector; give the plugin another id", ErrTaken, spec.ID)
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		return Info{}, fmt.Errorf("encoding the plugin's spec: %w", err)
	}
	if _, err := m.st.AddPluginVersion(ctx, spec.ID, mod, wasm.Hash(mod), raw, spec.Version, by); err != nil {
		return Info{}, err
	}
	if err := m.Sync(ctx); err != nil {
		return Info{}, err
	}
	return m.Info(ctx, spec.ID)
}

// Has reports whether id is a stored plugin (enabled or not) as of the
// last sync.
func (m *Manager) Has(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.loaded[id]
	return ok
}

// Enable switches a plugin on in every process.
func (m *Manager) Enable(ctx context.Context, id string) (Info, error) {
	return m.setEnabled(ctx, id, true)
}

// Disable switches a plugin off in every process: workflows using it fail
// until it is enabled again.
func (m *Manager) Disable(ctx context.Context, id string) (Info, error) {
	return m.setEnabled(ctx, id, false)
}

func (m *Manager) setEnabled(ctx context.Context, id string, on bool) (Info, error) {
	return m.changed(ctx, id, m.st.SetPluginEnabled(ctx, id, on))
}

// changed follows a stored change to plugin id (err is the store's): this
// process syncs at once, and the plugin's new state is returned.
func (m *Manager) changed(ctx context.Context, id string, err error) (Info, error) {
	if err != nil {
		return Info{}, m.notFound(id, err)
	}
	if err := m.Sync(ctx); err != nil {
		return Info{}, err
	}
	return m.Info(ctx, id)
}

// Activate makes an earlier upload current again (a rollback).
func (m *Manager) Activate(ctx context.Context, id string, revision int) (Info, error) {
	return m.changed(ctx, id, m.st.SetPluginVersion(ctx, id, revision))
}

// Delete removes a plugin, its versions and its unused modules.
func (m *Manager) Delete(ctx context.Context, id string) error {
	if err := m.st.DeletePlugin(ctx, id); err != nil {
		return m.notFound(id, err)
	}
	return m.Sync(ctx)
}

func (m *Manager) notFound(id string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w %q", ErrNotFound, id)
	}
	return err
}

// List describes every stored plugin.
func (m *Manager) List(ctx context.Context) ([]Info, error) {
	heads, err := m.st.ListPlugins(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Info, 0, len(heads))
	for _, h := range heads {
		out = append(out, info(h))
	}
	return out, nil
}

// Info describes plugin id.
func (m *Manager) Info(ctx context.Context, id string) (Info, error) {
	all, err := m.List(ctx)
	if err != nil {
		return Info{}, err
	}
	for _, in := range all {
		if in.ID == id {
			return in, nil
		}
	}
	return Info{}, fmt.Errorf("%w %q", ErrNotFound, id)
}

// Versions lists every upload of plugin id, newest first.
func (m *Manager) Versions(ctx context.Context, id string) ([]VersionInfo, error) {
	in, err := m.Info(ctx, id)
	if err != nil {
		return nil, err
	}
	vs, err := m.st.ListPluginVersions(ctx, id)
	if err != nil {
		return nil, m.notFound(id, err)
	}
	out := make([]VersionInfo, 0, len(vs))
	for _, v := range vs {
		out = append(out, VersionInfo{Revision: v.Version, Version: v.SpecVersion, Hash: v.Hash, Current: v.Version == in.Revision,
			UploadedBy: v.CreatedBy, UploadedAt: v.CreatedAt})
	}
	return out, nil
}

func info(h store.PluginHead) Info {
	var spec connectors.Spec
	_ = json.Unmarshal(h.Spec, &spec) // written by Upload from a valid spec
	return Info{ID: h.ID, Version: spec.Version, Hash: h.Hash, Origin: "plugin", Enabled: h.Enabled, Revision: h.Version,
		Size: h.Size, ABI: wasm.ABIVersion, UploadedAt: h.CreatedAt, Spec: spec}
}
