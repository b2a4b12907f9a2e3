// Package ratelimit is Switchboard's one keyed rate limiter. A Limit is a
// sustained rate and a burst; a key is one bucket (an endpoint, a client
// address). Two backends behave alike:
//
//   - Shared keeps buckets in the database (GCRA: one row per bucket holding
//     its theoretical arrival time, moved by one atomic upsert), so every
//     process sharing the database enforces one limit: N API processes do not
//     allow N times the rate.
//   - Local keeps buckets in this process: x/time/rate limiters in an
//     expiring LRU. An entry expires only after it went unused for longer
//     than any bucket takes to refill, so forgetting it gives nothing away;
//     an active client's bucket is never reset by a timer.
//
// A Registry names the limits so /metrics can show each one with its rate,
// burst, scope and decisions.
package ratelimit

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/time/rate"
)

// Limit is PerMinute requests a minute sustained, with bursts of Burst.
type Limit struct {
	PerMinute int
	Burst     int // 0: one minute's allowance
}

func (l Limit) burst() int {
	if l.Burst > 0 {
		return l.Burst
	}
	return max(1, l.PerMinute)
}

// interval is the time one token takes to come back.
func (l Limit) interval() time.Duration {
	return time.Minute / time.Duration(max(1, l.PerMinute))
}

// Decision is the answer for one request.
type Decision struct {
	Allowed    bool
	RetryAfter time.Duration // when refused: how long until a token is back
}

// Backend takes one token from key's bucket.
type Backend interface {
	Take(ctx context.Context, key string, l Limit, now time.Time) (Decision, error)
	Scope() string // "database" (shared by every process) or "process"
}

// Local is the in-process backend.
type Local struct {
	cache *expirable.LRU[string, *localBucket]
}

type localBucket struct {
	mu    sync.Mutex
	limit Limit
	l     *rate.Limiter
}

// LocalTTL is how long an unused bucket is kept. It must exceed the refill
// time (Burst / rate) of every limit used with Local; a bucket forgotten
// later than that was full anyway.
const LocalTTL = time.Hour

// NewLocal returns an in-process backend holding at most size buckets (the
// least recently used go first when a flood of new keys arrives) and
// forgetting a bucket ttl after its last use (0: LocalTTL).
func NewLocal(size int, ttl time.Duration) *Local {
	if ttl <= 0 {
		ttl = LocalTTL
	}
	return &Local{cache: expirable.NewLRU[string, *localBucket](size, nil, ttl)}
}

// Scope says the limit holds per process.
func (*Local) Scope() string { return "process" }

// Take implements Backend.
func (b *Local) Take(_ context.Context, key string, l Limit, now time.Time) (Decision, error) {
	e, ok := b.cache.Get(key)
	if !ok || e.limit != l {
		e = &localBucket{limit: l, l: rate.NewLimiter(rate.Every(l.interval()), l.burst())}
	}
	// Add on every use restarts the entry's expiry: only idle buckets expire.
	b.cache.Add(key, e)
	e.mu.Lock()
	defer e.mu.Unlock()
	res := e.l.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return Decision{RetryAfter: d}, nil
	}
	return Decision{Allowed: true}, nil
}

// Store is what Shared needs from the database: take a GCRA token.
type Store interface {
	TakeRateToken(ctx context.Context, key string, now time.Time, interval time.Duration, burst int) (allowed bool, wait time.Duration, err error)
	PruneRateTokens(ctx context.Context, before time.Time) (int64, error)
}

// Shared is the database backend.
type Shared struct {
	st        Store
	lastPrune atomic.Int64
}

// NewShared returns the database backend.
func NewShared(st Store) *Shared { return &Shared{st: st} }

// Scope says the limit holds across every process on the database.
func (*Shared) Scope() string { return "database" }

// Take implements Backend. Buckets that are full again are pruned about
// once a minute per process.
func (b *Shared) Take(ctx context.Context, key string, l Limit, now time.Time) (Decision, error) {
	if last := b.lastPrune.Load(); now.UnixNano()-last > int64(time.Minute) && b.lastPrune.CompareAndSwap(last, now.UnixNano()) {
		go func() {
			pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_, _ = b.st.PruneRateTokens(pctx, now.Add(-time.Minute))
		}()
	}
	ok, wait, err := b.st.TakeRateToken(ctx, key, now, l.interval(), l.burst())
	if err != nil {
		return Decision{Allowed: true}, err
	}
	return Decision{Allowed: ok, RetryAfter: wait}, nil
}

// Limiter is one named limit (e.g. "webhook") on a backend.
type Limiter struct {
	name     string
	def      Limit
	b        Backend
	allowed  atomic.Int64
	refused  atomic.Int64
	failures atomic.Int64
}

// Allow takes a token for key under l at now (the zero Limit means the
// limiter's default). A backend error lets the request through (the
// caller's own database work decides then) and is returned for logging.
func (r *Limiter) Allow(ctx context.Context, key string, l Limit, now time.Time) (Decision, error) {
	if l.PerMinute <= 0 {
		l = r.def
	}
	d, err := r.b.Take(ctx, r.name+"|"+key, l, now)
	switch {
	case err != nil:
		r.failures.Add(1)
	case d.Allowed:
		r.allowed.Add(1)
	default:
		r.refused.Add(1)
	}
	return d, err
}

// Default is the limit used when a caller passes none.
func (r *Limiter) Default() Limit { return r.def }

// Registry holds the named limits of a process.
type Registry struct {
	mu       sync.Mutex
	limiters map[string]*Limiter
	shared   Backend
	local    Backend
}

// NewRegistry returns a registry whose limiters use shared when it is not
// nil (PostgreSQL) and an in-process backend otherwise.
func NewRegistry(shared Backend) *Registry {
	return &Registry{limiters: map[string]*Limiter{}, shared: shared, local: NewLocal(100_000, 0)}
}

// Limiter returns (creating once) the named limiter with its default limit.
func (g *Registry) Limiter(name string, def Limit) *Limiter {
	g.mu.Lock()
	defer g.mu.Unlock()
	if l, ok := g.limiters[name]; ok {
		l.def = def
		return l
	}
	b := g.local
	if g.shared != nil {
		b = g.shared
	}
	l := &Limiter{name: name, def: def, b: b}
	g.limiters[name] = l
	return l
}

// Stat is one limiter's state for /metrics.
type Stat struct {
	Name                       string
	Scope                      string // "database" or "process"
	PerMinute, Burst           int
	Allowed, Refused, Failures int64
}

// Stats lists the limiters by name.
func (g *Registry) Stats() []Stat {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]Stat, 0, len(g.limiters))
	for _, l := range g.limiters {
		out = append(out, Stat{Name: l.name, Scope: l.b.Scope(), PerMinute: l.def.PerMinute, Burst: l.def.burst(),
			Allowed: l.allowed.Load(), Refused: l.refused.Load(), Failures: l.failures.Load()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
