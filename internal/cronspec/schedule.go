// Package cronspec is a schedule trigger's spec: it parses a cron spec and
// time zone, computes the fire times (daylight saving included), decides
// what to fire after downtime (the misfire policy) and describes a spec in
// English. It sits below internal/workflow (which validates specs), the
// engine (which checks a tick before firing it) and internal/trigger/schedule
// (the loop that fires due ticks).
//
// # Fire times and daylight saving
//
// A spec uses robfig/cron/v3 syntax: five fields (minute hour day-of-month
// month day-of-week), an optional leading seconds field (six fields), or a
// descriptor (@yearly, @annually, @monthly, @weekly, @daily, @midnight,
// @hourly, @every <duration>). The time zone is a separate IANA name.
//
// Fire times are whole seconds. Two kinds of schedule treat daylight-saving
// changes differently, like Vixie cron does:
//
//   - Wall-clock schedules, whose hour field names particular hours
//     ("30 2 * * *", "@daily", "0 9 * * 1-5", "0 */6 * * *"), fire once per
//     matching local day. On a spring-forward day a time inside the gap
//     (02:30 when clocks jump from 02:00 to 03:00) does not exist: the
//     schedule fires at the first instant after the gap (03:00 local), once,
//     however many of its times fall into the gap (times in the gap and a
//     time at the gap's end collapse into that one fire). On a fall-back day a
//     repeated time (02:30 happens twice) fires only on its first occurrence.
//   - Hourly-or-finer schedules, whose hour field matches all 24 hours
//     ("0 * * * *", "*/15 * * * *", "@hourly"), follow the clock as it is:
//     a time inside a spring-forward gap does not exist and does not fire;
//     a repeated time on a fall-back day fires on both occurrences, since they
//     are distinct instants an hour apart. So "0 * * * *" fires every real
//     hour across both changes.
//
// @every schedules are not wall-clock based: "@every 1h" fires every 3600
// seconds of real time regardless of time zone and daylight saving. Its ticks
// are anchored at the Unix epoch (multiples of the interval since 1970-01-01
// 00:00:00 UTC), so every process computes the same fire times without
// knowing when the schedule was created.
package cronspec

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule is a parsed spec in a time zone. It is immutable and safe for
// concurrent use.
type Schedule struct {
	spec string
	loc  *time.Location

	// every is set for @every schedules; cron is nil then.
	every time.Duration
	// cron matches civil (wall-clock) times; its Location is UTC, used only
	// as a calendar without daylight saving.
	cron *cron.SpecSchedule
	// wallClock is true when the hour field does not match all 24 hours.
	wallClock bool
}

// maxSearchYears bounds how far ahead Next looks for a fire time.
const maxSearchYears = 5

var (
	// fullParser reads five or six fields (optional seconds) and descriptors.
	fullParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	// fieldParser reads exactly six fields; used to find which field is bad.
	fieldParser = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)
)

var fieldNames = [6]string{"second", "minute", "hour", "day-of-month", "month", "day-of-week"}

// Parse reads a robfig/cron/v3 spec and an IANA time zone ("" means UTC).
// Errors name the part that is wrong. A CRON_TZ= or TZ= prefix is refused:
// the time zone is its own field.
func Parse(spec, timezone string) (*Schedule, error) {
	spec = strings.TrimSpace(spec)
	loc, err := loadLocation(timezone)
	if err != nil {
		return nil, err
	}
	if spec == "" {
		return nil, errors.New("cron: spec is empty")
	}
	if up := strings.ToUpper(spec); strings.HasPrefix(up, "CRON_TZ=") || strings.HasPrefix(up, "TZ=") {
		prefix := spec[:strings.Index(spec, "=")+1]
		return nil, fmt.Errorf("cron: %q prefix is not allowed in the spec: set the time zone in the timezone field", prefix)
	}
	s := &Schedule{spec: spec, loc: loc}
	if strings.HasPrefix(spec, "@") {
		return s, s.parseDescriptor()
	}
	fields := strings.Fields(spec)
	if len(fields) != 5 && len(fields) != 6 {
		return nil, fmt.Errorf("cron: expected 5 or 6 fields, got %d", len(fields))
	}
	parsed, err := fullParser.Parse(spec)
	if err != nil {
		return nil, fieldError(fields, err)
	}
	s.setCron(parsed)
	return s, nil
}

// MustParse is Parse for specs known to be valid (tests, constants); it
// panics on an error.
func MustParse(spec, timezone string) *Schedule {
	s, err := Parse(spec, timezone)
	if err != nil {
		panic(err)
	}
	return s
}

func loadLocation(timezone string) (*time.Location, error) {
	timezone = strings.TrimSpace(timezone)
	switch timezone {
	case "", "UTC":
		return time.UTC, nil
	case "Local":
		// The server's zone is not a property of the workflow.
		return nil, fmt.Errorf("timezone %q: not allowed, use an IANA name such as Europe/Berlin", timezone)
	}
	loc, err := time.LoadLocation(timezone)
	if err != nil {
		return nil, fmt.Errorf("timezone %q: unknown", timezone)
	}
	return loc, nil
}

func (s *Schedule) parseDescriptor() error {
	fields := strings.Fields(s.spec)
	name, arg := strings.ToLower(fields[0]), strings.Join(fields[1:], " ")
	if name == "@every" {
		if arg == "" {
			return errors.New("cron: @every needs a duration, such as \"@every 5m\"")
		}
		d, err := time.ParseDuration(arg)
		if err != nil {
			return fmt.Errorf("cron: @every %q: not a duration (examples: 30s, 5m, 1h30m)", arg)
		}
		if d < time.Second {
			return fmt.Errorf("cron: @every %s: must be at least 1s", arg)
		}
		if d%time.Second != 0 {
			return fmt.Errorf("cron: @every %s: must be a whole number of seconds", arg)
		}
		s.every = d
		return nil
	}
	switch name {
	case "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly":
	default:
		return fmt.Errorf("cron: unknown descriptor %q (use @yearly, @monthly, @weekly, @daily, @hourly or @every <duration>)", name)
	}
	if arg != "" {
		return fmt.Errorf("cron: %s takes no argument, got %q", name, arg)
	}
	parsed, err := fullParser.Parse(name)
	if err != nil { // not reached: the names above are robfig's own
		return fmt.Errorf("cron: %s: %w", name, err)
	}
	s.setCron(parsed)
	return nil
}

func (s *Schedule) setCron(parsed cron.Schedule) {
	spec := *parsed.(*cron.SpecSchedule)
	spec.Location = time.UTC
	s.cron = &spec
	const allHours = 1<<24 - 1
	s.wallClock = spec.Hour&allHours != allHours
}

// fieldError finds which field robfig refused, so the message can name it.
func fieldError(fields []string, err error) error {
	names := fieldNames[1:]
	if len(fields) == 6 {
		names = fieldNames[:]
	}
	for i, f := range fields {
		probe := []string{"0", "0", "0", "*", "*", "*"}
		probe[6-len(fields)+i] = f
		if _, perr := fieldParser.Parse(strings.Join(probe, " ")); perr != nil {
			return fmt.Errorf("cron: %s field %q: %w", names[i], f, perr)
		}
	}
	return fmt.Errorf("cron: %w", err)
}

// String returns the spec as given (trimmed).
func (s *Schedule) String() string { return s.spec }

// Location returns the schedule's time zone.
func (s *Schedule) Location() *time.Location { return s.loc }

// Interval returns the interval of an @every schedule, and false for a cron
// schedule.
func (s *Schedule) Interval() (time.Duration, bool) { return s.every, s.every > 0 }

// Next returns the first fire time strictly after `after`, in the schedule's
// time zone, or the zero time if there is none within five years (a spec
// such as "0 0 30 2 *" never fires). See the package documentation for
// daylight-saving behaviour.
func (s *Schedule) Next(after time.Time) time.Time {
	if s.every > 0 {
		step := int64(s.every / time.Second)
		k := floorDiv(after.Unix(), step) + 1
		return time.Unix(k*step, 0).In(s.loc)
	}
	return s.nextCron(after)
}

// NextN returns the next n fire times after `after`, fewer if the schedule
// stops firing within five years.
func (s *Schedule) NextN(after time.Time, n int) []time.Time {
	if n <= 0 {
		return nil
	}
	out := make([]time.Time, 0, n)
	for t := after; len(out) < n; {
		t = s.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out
}

// nextCron walks the zone's periods of constant UTC offset (split at
// daylight-saving changes) starting with the one holding `after`. Inside a
// period, wall-clock time and real time move together, so the first
// matching wall-clock time in the period is the answer; robfig's matcher,
// run on a UTC calendar, finds it. At a period's start the gap or overlap
// rules of the package documentation apply.
func (s *Schedule) nextCron(after time.Time) time.Time {
	cur := after.Truncate(time.Second).Add(time.Second) // fire times are whole seconds
	limit := cur.AddDate(maxSearchYears, 0, 0)
	for cur.Before(limit) {
		local := cur.In(s.loc)
		_, off := local.Zone()
		start, end := local.ZoneBounds()
		if !end.IsZero() && !end.After(cur) {
			// Beyond the zone's transition table Go computes bounds from
			// the POSIX TZ rule and, in leap years, ends the last period of
			// the year one day early (at Dec 31 00:00 UTC instead of Jan 1),
			// so end can lie at or before cur. That boundary separates
			// equal offsets; the true one is the next UTC midnight
			// (golang/go#81583).
			end = cur.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
		}
		lower := civil(cur, off)
		if !start.IsZero() {
			_, prevOff := start.Add(-time.Second).In(s.loc).Zone()
			switch {
			case prevOff < off && s.wallClock && start.Equal(cur):
				// Spring forward: wall times [start+prevOff, start+off)
				// never happened. Any match among them fires at start.
				if w := s.civilNext(civil(start, prevOff)); !w.IsZero() && w.Before(civil(start, off)) {
					return start.In(s.loc)
				}
			case prevOff > off && s.wallClock:
				// Fall back: wall times [start+off, start+prevOff) already
				// happened in the previous period; they fired there.
				if seen := civil(start, prevOff); lower.Before(seen) {
					lower = seen
				}
			}
		}
		w := s.civilNext(lower)
		if w.IsZero() {
			return time.Time{}
		}
		if end.IsZero() || w.Before(civil(end, off)) {
			return w.Add(-time.Duration(off) * time.Second).In(s.loc)
		}
		cur = end
	}
	return time.Time{}
}

// civilNext returns the first matching wall-clock time at or after w (a
// whole-second civil time kept in UTC), or zero within five years.
func (s *Schedule) civilNext(w time.Time) time.Time {
	return s.cron.Next(w.Add(-time.Second))
}

// civil returns the wall-clock reading of instant t at UTC offset off
// (seconds), as a UTC time used as a plain calendar value.
func civil(t time.Time, off int) time.Time {
	return t.UTC().Add(time.Duration(off) * time.Second)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
