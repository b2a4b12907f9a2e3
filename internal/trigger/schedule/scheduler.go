// Package schedule is the cron trigger's loop: it fires each due tick of
// the active schedules (internal/cronspec computes them) through seams
// (Source, Firer, Clock) that the application wires to the database and the
// queue.
package schedule

import (
	"context"
	"log/slog"
	"time"

	"github.com/switchboard-dev/switchboard/internal/cronspec"
)

// Entry is one active schedule trigger, as the Source reports it.
type Entry struct {
	WorkflowID string
	Spec       string // robfig/cron/v3 spec
	Timezone   string // IANA name; "" is UTC
	Misfire    cronspec.Misfire
	// LastFired is the fire time of the workflow's latest scheduled run; the
	// zero time if it never fired. It should be the later of that and the
	// moment the schedule was last activated or edited, so that time spent
	// inactive, or under another spec, does not count as missed ticks.
	LastFired time.Time
}

// Source lists the active schedules. The Scheduler calls it at start, every
// Options.Reload and after Refresh; an error keeps the previous list.
type Source interface {
	Schedules(ctx context.Context) ([]Entry, error)
}

// Firer starts the run for one tick. It must fire each (workflowID, fireAt)
// at most once across all processes, typically by inserting the run with a
// unique key on that pair in the same transaction as its queue job: it
// returns fired=false with a nil error when the key exists already (another
// scheduler won the race, or this tick was fired before). An error means
// nothing was committed; the Scheduler tries again after Options.Retry,
// subject to the misfire policy.
type Firer interface {
	Fire(ctx context.Context, workflowID string, fireAt time.Time) (fired bool, err error)
}

// Clock tells the time and waits; tests inject a fake one.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer, like *time.Timer.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

// SystemClock returns the real clock.
func SystemClock() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time                 { return time.Now() }
func (systemClock) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

type systemTimer struct{ t *time.Timer }

func (t systemTimer) C() <-chan time.Time { return t.t.C }
func (t systemTimer) Stop() bool          { return t.t.Stop() }

// Options tune a Scheduler. Zero values mean the defaults.
type Options struct {
	// Reload is how often the Source is read again (default 30s).
	Reload time.Duration
	// Grace is how late a tick may fire under cronspec.MisfireSkip (default
	// cronspec.DefaultGrace, one minute).
	Grace time.Duration
	// Retry is the wait after a failed Fire or Schedules call (default 5s).
	Retry  time.Duration
	Clock  Clock        // default SystemClock()
	Logger *slog.Logger // default: discard
}

// Scheduler fires the due ticks of the schedules a Source lists. Several
// Schedulers, in one process or many, may run over the same Source: the
// Firer's unique key makes each tick fire once.
type Scheduler struct {
	src     Source
	firer   Firer
	o       Options
	refresh chan struct{}

	// Owned by the Run goroutine.
	entries map[string]*entryState
	order   []string          // workflow ids in Source order
	invalid map[string]string // workflow id -> spec already reported invalid
}

type entryState struct {
	Entry
	sched     *cronspec.Schedule
	policy    cronspec.Misfire
	lastFired time.Time // the later of Entry.LastFired and our own fires
	wake      time.Time // when to evaluate next; zero: never
}

// New returns a Scheduler; call Run to start it.
func New(src Source, firer Firer, o Options) *Scheduler {
	if o.Reload <= 0 {
		o.Reload = 30 * time.Second
	}
	if o.Grace <= 0 {
		o.Grace = cronspec.DefaultGrace
	}
	if o.Retry <= 0 {
		o.Retry = 5 * time.Second
	}
	if o.Clock == nil {
		o.Clock = SystemClock()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{
		src:     src,
		firer:   firer,
		o:       o,
		refresh: make(chan struct{}, 1),
		entries: map[string]*entryState{},
		invalid: map[string]string{},
	}
}

// Refresh makes Run read the Source again now, so that an edited,
// activated or deactivated schedule takes effect at once. It never blocks
// and may be called from any goroutine, before or during Run.
func (s *Scheduler) Refresh() {
	select {
	case s.refresh <- struct{}{}:
	default: // a refresh is pending already
	}
}

// Run loads the schedules and fires due ticks until ctx is done, then
// returns ctx.Err(). Errors from the Source or the Firer are logged and
// retried; they do not stop the loop. Fires happen one at a time, in the
// Source's order. Run must not be called twice at once on one Scheduler.
func (s *Scheduler) Run(ctx context.Context) error {
	var reloadAt time.Time // zero: load now
	for {
		now := s.o.Clock.Now()
		if !now.Before(reloadAt) {
			if s.reload(ctx, now) {
				reloadAt = now.Add(s.o.Reload)
			} else {
				reloadAt = now.Add(s.o.Retry)
			}
		}
		s.fireDue(ctx, now)
		if err := ctx.Err(); err != nil {
			return err
		}

		wake := reloadAt
		for _, st := range s.entries {
			if !st.wake.IsZero() && st.wake.Before(wake) {
				wake = st.wake
			}
		}
		d := wake.Sub(s.o.Clock.Now())
		if d <= 0 {
			continue
		}
		timer := s.o.Clock.NewTimer(d)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-s.refresh:
			timer.Stop()
			reloadAt = time.Time{}
		case <-timer.C():
		}
	}
}

// reload replaces the entries with the Source's list. Unchanged entries
// keep their state; new or edited ones are evaluated at once.
func (s *Scheduler) reload(ctx context.Context, now time.Time) bool {
	list, err := s.src.Schedules(ctx)
	if err != nil {
		s.o.Logger.Error("schedule: loading schedules failed, keeping the previous ones",
			"error", err, "retry_in", s.o.Retry)
		return false
	}
	entries := make(map[string]*entryState, len(list))
	order := make([]string, 0, len(list))
	invalid := map[string]string{}
	for _, e := range list {
		if _, dup := entries[e.WorkflowID]; dup {
			s.o.Logger.Warn("schedule: workflow listed twice, using the first", "workflow_id", e.WorkflowID)
			continue
		}
		old := s.entries[e.WorkflowID]
		if old != nil && old.Spec == e.Spec && old.Timezone == e.Timezone && old.Misfire == e.Misfire {
			if e.LastFired.After(old.lastFired) {
				old.lastFired = e.LastFired
			}
			old.Entry = e
			entries[e.WorkflowID] = old
			order = append(order, e.WorkflowID)
			continue
		}
		st, err := s.newEntry(e, now)
		if err != nil {
			key := e.Spec + "\x00" + e.Timezone + "\x00" + string(e.Misfire)
			if s.invalid[e.WorkflowID] != key {
				s.o.Logger.Warn("schedule: invalid schedule, not scheduling it",
					"workflow_id", e.WorkflowID, "spec", e.Spec, "timezone", e.Timezone, "error", err)
			}
			invalid[e.WorkflowID] = key
			continue
		}
		if old != nil && old.lastFired.After(st.lastFired) {
			st.lastFired = old.lastFired
		}
		entries[e.WorkflowID] = st
		order = append(order, e.WorkflowID)
	}
	for id := range s.entries {
		if _, ok := entries[id]; !ok {
			s.o.Logger.Debug("schedule: workflow no longer scheduled", "workflow_id", id)
		}
	}
	s.entries, s.order, s.invalid = entries, order, invalid
	return true
}

func (s *Scheduler) newEntry(e Entry, now time.Time) (*entryState, error) {
	sched, err := cronspec.Parse(e.Spec, e.Timezone)
	if err != nil {
		return nil, err
	}
	policy, err := cronspec.ParseMisfire(string(e.Misfire))
	if err != nil {
		return nil, err
	}
	st := &entryState{Entry: e, sched: sched, policy: policy, lastFired: e.LastFired, wake: now}
	if st.lastFired.IsZero() {
		// Never fired: the schedule starts now (cronspec.Due's rule for a zero
		// lastFired), pinned so later evaluations agree.
		st.lastFired = now.Add(-s.o.Grace)
	}
	return st, nil
}

// fireDue evaluates every entry whose wake time has come.
func (s *Scheduler) fireDue(ctx context.Context, now time.Time) {
	for _, id := range s.order {
		if ctx.Err() != nil {
			return
		}
		st := s.entries[id]
		if st.wake.IsZero() || now.Before(st.wake) {
			continue
		}
		s.evaluate(ctx, st, now)
	}
}

func (s *Scheduler) evaluate(ctx context.Context, st *entryState, now time.Time) {
	log := s.o.Logger.With("workflow_id", st.WorkflowID)
	fireAt, next, ok := cronspec.DueWithin(st.sched, st.policy, st.lastFired, now, s.o.Grace)
	if !ok {
		if missed := st.sched.Next(st.lastFired); !missed.IsZero() && !missed.After(now) {
			log.Info("schedule: missed ticks skipped (misfire policy skip)",
				"first_missed", missed, "last_fired", st.lastFired, "next", next)
		}
		st.wake = next
		return
	}
	fired, err := s.firer.Fire(ctx, st.WorkflowID, fireAt)
	if err != nil {
		log.Error("schedule: firing failed", "fire_at", fireAt, "error", err, "retry_in", s.o.Retry)
		st.wake = now.Add(s.o.Retry)
		return
	}
	st.lastFired = fireAt
	st.wake = next
	if fired {
		log.Info("schedule: fired", "fire_at", fireAt, "late", now.Sub(fireAt), "next", next)
	} else {
		log.Debug("schedule: tick already fired elsewhere", "fire_at", fireAt, "next", next)
	}
}

var _ Clock = systemClock{}
