package store

import (
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Every webhook and form submission looked up its workflow by token and the
// workflow's current version: two reads per accept, on SQLite behind the
// writes on its one connection. Versions never change once written, so they
// are kept by id and by number; a token's workflow is kept for at most
// tokenTTL and forgotten at once when this process changes any workflow, so
// a change made through another process (several processes on one
// PostgreSQL) applies to this one's intake within tokenTTL.
const (
	tokenTTL        = time.Second
	lookupCacheSize = 1024
)

type lookups struct {
	mu       sync.Mutex
	gen      uint64 // bumped by every change: a read that began before it is not kept
	byToken  *lru.Cache[string, tokenEntry]
	versions *lru.Cache[versionKey, *WorkflowVersion]
	byID     *lru.Cache[string, *WorkflowVersion]
	subs     map[string]subEntry // event type -> whether an enabled subscription wants it
	now      func() time.Time    // tests move it
}

// subEntry remembers AnySubscriber's answer (asked at every run's end) for
// tokenTTL, like a token's workflow.
type subEntry struct {
	wanted bool
	at     time.Time
}

type tokenEntry struct {
	w  Workflow
	at time.Time
}

type versionKey struct {
	workflowID string
	version    int
}

func newLookups() *lookups {
	byToken, _ := lru.New[string, tokenEntry](lookupCacheSize)
	versions, _ := lru.New[versionKey, *WorkflowVersion](lookupCacheSize)
	byID, _ := lru.New[string, *WorkflowVersion](lookupCacheSize)
	return &lookups{byToken: byToken, versions: versions, byID: byID, subs: map[string]subEntry{}, now: time.Now}
}

// generation is read before a lookup's query; keep only stores the result
// if no change came in between.
func (l *lookups) generation() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.gen
}

func (l *lookups) token(token string) (*Workflow, bool) {
	now := l.now()
	e, ok := l.byToken.Get(token)
	if !ok || now.Sub(e.at) >= tokenTTL || now.Before(e.at) {
		return nil, false
	}
	w := e.w
	return &w, true
}

func (l *lookups) keepToken(gen uint64, token string, w *Workflow, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gen == gen {
		l.byToken.Add(token, tokenEntry{w: *w, at: at})
	}
}

func (l *lookups) version(workflowID string, n int) (*WorkflowVersion, bool) {
	v, ok := l.versions.Get(versionKey{workflowID, n})
	if !ok {
		return nil, false
	}
	cp := *v
	return &cp, true
}

func (l *lookups) versionByID(id string) (*WorkflowVersion, bool) {
	v, ok := l.byID.Get(id)
	if !ok {
		return nil, false
	}
	cp := *v
	return &cp, true
}

func (l *lookups) keepVersion(gen uint64, v *WorkflowVersion) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gen == gen {
		cp := *v
		l.versions.Add(versionKey{v.WorkflowID, v.Version}, &cp)
		l.byID.Add(v.ID, &cp)
	}
}

func (l *lookups) subscriber(typ string) (wanted, ok bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.subs[typ]
	if !ok || now.Sub(e.at) >= tokenTTL || now.Before(e.at) {
		return false, false
	}
	return e.wanted, true
}

func (l *lookups) keepSubscriber(gen uint64, typ string, wanted bool, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gen == gen {
		l.subs[typ] = subEntry{wanted: wanted, at: at}
	}
}

// changed forgets every workflow (their versions too, for a deleted one)
// and subscription answer.
func (l *lookups) changed() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gen++
	clear(l.subs)
	l.byToken.Purge()
	l.versions.Purge()
	l.byID.Purge()
}

// forgetLookups forgets cached workflows and subscriptions after a change: at once, and
// again when the transaction it belongs to has committed (until then a
// concurrent lookup still reads, and could keep, the old row).
func (s *Store) forgetLookups() {
	s.lookups.changed()
	if s.txChanged != nil {
		*s.txChanged = true
	}
}
