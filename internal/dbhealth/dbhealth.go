// Package dbhealth watches whether this process can reach its database. It
// answers /readyz and logs one line when the database becomes unreachable
// and one when it answers again, however many requests fail in between.
package dbhealth

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Monitor tracks the database's reachability.
type Monitor struct {
	ping     func(context.Context) error
	interval time.Duration
	timeout  time.Duration
	log      *slog.Logger
	now      func() time.Time

	mu       sync.Mutex
	down     bool
	since    time.Time
	lastErr  error
	lastPing time.Time
	faults   int64
	// suppressed counts the warnings QuietHandler dropped during an outage.
	suppressed    int64
	lastTriggered time.Time
}

// Options tune a Monitor.
type Options struct {
	Interval time.Duration // how often Run pings (default 2s)
	Timeout  time.Duration // one ping's deadline (default 2s)
	Logger   *slog.Logger
}

// New returns a monitor over ping (usually store.Ping).
func New(ping func(context.Context) error, o Options) *Monitor {
	if o.Interval <= 0 {
		o.Interval = 2 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Monitor{ping: ping, interval: o.Interval, timeout: o.Timeout, log: o.Logger, now: time.Now}
}

// Run pings until ctx ends, so the state (and the recovery line) follows
// the database even when no request asks.
func (m *Monitor) Run(ctx context.Context) {
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		_ = m.Check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Check pings now and returns the error when the database is unreachable.
func (m *Monitor) Check(ctx context.Context) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	pctx, cancel := context.WithTimeout(ctx, m.timeout)
	err := m.ping(pctx)
	cancel()
	if err != nil && ctx.Err() != nil {
		// The caller gave up (a client hung up); that says nothing about the database.
		return err
	}
	m.Observe(err)
	return err
}

// Observe records the outcome of any database call: an error marks the
// database down (logged once), a success after a fault marks it up again.
// Callers pass only errors that mean "unreachable", not constraint errors.
func (m *Monitor) Observe(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.lastPing = now
	switch {
	case err != nil && !m.down:
		m.down, m.since, m.lastErr = true, now, err
		m.faults++
		m.log.Error("database unreachable; answering 503 and /readyz not ready until it is back", "error", err)
	case err != nil:
		m.lastErr = err
	case m.down:
		m.log.Warn("database reachable again", "down_for", now.Sub(m.since).Round(time.Millisecond).String(),
			"log_lines_suppressed", m.suppressed)
		m.down, m.since, m.lastErr, m.suppressed = false, now, nil, 0
	}
}

// ErrDown is returned by Ready while the database is unreachable.
var ErrDown = errors.New("database unreachable")

// Ready reports the last known state without touching the database.
func (m *Monitor) Ready() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return errors.Join(ErrDown, m.lastErr)
	}
	return nil
}

// Faults counts the transitions to unreachable since start (for /metrics).
func (m *Monitor) Faults() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.faults
}

// QuietHandler wraps the log handler of parts that poll the database (the
// queue, the engine): while the database is unreachable their warnings and
// errors are dropped and counted, so an outage costs one line (the
// monitor's) instead of one per poll. The first such record after a quiet
// spell makes the monitor check at once, so the outage is noticed before
// the periodic ping would.
func (m *Monitor) QuietHandler(h slog.Handler) slog.Handler {
	return &quietHandler{h: h, m: m}
}

type quietHandler struct {
	h slog.Handler
	m *Monitor
}

func (q *quietHandler) Enabled(ctx context.Context, l slog.Level) bool { return q.h.Enabled(ctx, l) }

func (q *quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return q.h.Handle(ctx, r)
	}
	if q.m.Ready() == nil && q.m.checkSoon() {
		_ = q.m.Check(context.WithoutCancel(ctx))
	}
	if q.m.Ready() != nil {
		q.m.mu.Lock()
		q.m.suppressed++
		q.m.mu.Unlock()
		return nil
	}
	return q.h.Handle(ctx, r)
}

func (q *quietHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &quietHandler{h: q.h.WithAttrs(as), m: q.m}
}

func (q *quietHandler) WithGroup(name string) slog.Handler {
	return &quietHandler{h: q.h.WithGroup(name), m: q.m}
}

// checkSoon reports whether a record-triggered check may run now (at most
// one a second, so a burst of errors costs one ping).
func (m *Monitor) checkSoon() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if now.Sub(m.lastTriggered) < time.Second {
		return false
	}
	m.lastTriggered = now
	return true
}
