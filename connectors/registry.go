package connectors

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Registry holds connectors by id. Tests build their own with NewRegistry;
// built-ins register on Default from init.
type Registry struct {
	mu         sync.RWMutex
	connectors map[string]Connector
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{connectors: map[string]Connector{}}
}

// Default is the registry built-in connectors register on.
var Default = NewRegistry()

// Register adds c to the default registry and panics on a bad or duplicate
// spec: a broken built-in must stop the binary at start, not at run time.
func Register(c Connector) {
	if err := Default.Add(c); err != nil {
		panic(err)
	}
}

// Add adds c, refusing an invalid spec or a duplicate id.
func (r *Registry) Add(c Connector) error { return r.put(c, false) }

// Replace adds c, or swaps it in for the connector with the same id in one
// step: a lookup sees the old connector or the new one, never neither.
// Declarative connectors use it when their file changes.
func (r *Registry) Replace(c Connector) error { return r.put(c, true) }

func (r *Registry) put(c Connector, replace bool) error {
	spec := c.Spec()
	if err := spec.Validate(); err != nil {
		return fmt.Errorf("registering connector: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.connectors[spec.ID]; dup && !replace {
		return fmt.Errorf("registering connector: duplicate id %q", spec.ID)
	}
	r.connectors[spec.ID] = c
	return nil
}

// Remove takes the connector with the given id out, reporting whether it
// was there.
func (r *Registry) Remove(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.connectors[id]
	delete(r.connectors, id)
	return ok
}

// Clone returns a copy that can be changed without touching r.
func (r *Registry) Clone() *Registry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c := NewRegistry()
	for k, v := range r.connectors {
		c.connectors[k] = v
	}
	return c
}

// Get returns the connector with the given id.
func (r *Registry) Get(id string) (Connector, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c, ok := r.connectors[id]
	return c, ok
}

// Specs returns every spec, sorted by id.
func (r *Registry) Specs() []Spec {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Spec, 0, len(r.connectors))
	for _, c := range r.connectors {
		out = append(out, c.Spec())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Resolve finds the connector and action spec for a qualified action name
// such as "http.request".
func (r *Registry) Resolve(action string) (Connector, ActionSpec, error) {
	connID, actionID, ok := strings.Cut(action, ".")
	if !ok || connID == "" || actionID == "" {
		return nil, ActionSpec{}, fmt.Errorf("action %q: want <connector>.<action>", action)
	}
	c, found := r.Get(connID)
	if !found {
		return nil, ActionSpec{}, fmt.Errorf("unknown connector %q", connID)
	}
	a, found := c.Spec().Action(actionID)
	if !found {
		return nil, ActionSpec{}, fmt.Errorf("connector %q has no action %q", connID, actionID)
	}
	return c, a, nil
}
