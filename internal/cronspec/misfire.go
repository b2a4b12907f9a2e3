package cronspec

import (
	"fmt"
	"strings"
	"time"
)

// Misfire says what to do with ticks missed while no scheduler ran.
type Misfire string

const (
	// MisfireSkip drops missed ticks: only a tick at most the grace window
	// late fires. The default.
	MisfireSkip Misfire = "skip"
	// MisfireRunOnce collapses all missed ticks into one fire, for the
	// latest of them.
	MisfireRunOnce Misfire = "run_once"
)

// DefaultGrace is how late a tick may be and still fire under MisfireSkip
// (and how far back a never-fired schedule looks).
const DefaultGrace = time.Minute

// ParseMisfire reads a policy name; "" means MisfireSkip.
func ParseMisfire(s string) (Misfire, error) {
	switch m := Misfire(strings.TrimSpace(s)); m {
	case "":
		return MisfireSkip, nil
	case MisfireSkip, MisfireRunOnce:
		return m, nil
	}
	return "", fmt.Errorf("misfire %q: unknown (use skip or run_once)", s)
}

// Due decides, with the DefaultGrace window, whether a tick of s is to fire
// at now. See DueWithin.
func Due(s *Schedule, policy Misfire, lastFired, now time.Time) (fireAt, next time.Time, ok bool) {
	return DueWithin(s, policy, lastFired, now, DefaultGrace)
}

// DueWithin decides whether a tick of s is to fire at now, given when the
// schedule last fired (the zero time: never, so the schedule starts now and
// nothing is missed; a tick at most grace old still counts as due).
//
// The ticks considered are those after lastFired up to and including now.
// With MisfireSkip (or an unknown policy) the latest of them fires if it is
// at most grace late; older ones are dropped. With MisfireRunOnce the latest
// fires however late it is, standing for all the missed ones.
//
// fireAt is the tick's scheduled time, not now: it is the key that makes a
// tick fire once across processes. next is the next tick after now (and
// after lastFired), the time to wait for; it is zero if the schedule never
// fires again. The function is pure.
func DueWithin(s *Schedule, policy Misfire, lastFired, now time.Time, grace time.Duration) (fireAt, next time.Time, ok bool) {
	if grace < 0 {
		grace = 0
	}
	from := lastFired
	if from.IsZero() {
		from = now.Add(-grace)
	}
	base := now
	if from.After(base) { // a clock ahead of ours fired already
		base = from
	}
	next = s.Next(base)
	latest, found := lastTick(s, from, now)
	if !found {
		return time.Time{}, next, false
	}
	if policy != MisfireRunOnce && latest.Before(now.Add(-grace)) {
		return time.Time{}, next, false
	}
	return latest, next, true
}

// lastTick returns the latest tick t with from < t <= to, by bisection, so
// that a long downtime costs a few dozen Next calls rather than one per
// missed tick.
func lastTick(s *Schedule, from, to time.Time) (time.Time, bool) {
	if first := s.Next(from); first.IsZero() || first.After(to) {
		return time.Time{}, false
	}
	// Invariant: a tick lies in (lo, hi] and none in (hi, to].
	lo, hi := from, to
	for {
		t := s.Next(lo)
		if n := s.Next(t); n.IsZero() || n.After(hi) {
			return t, true
		}
		mid := lo.Add(hi.Sub(lo) / 2)
		if m := s.Next(mid); !m.IsZero() && !m.After(hi) {
			lo = mid
		} else {
			hi = mid
		}
	}
}
