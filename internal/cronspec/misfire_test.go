package cronspec

import (
	"testing"
	"time"
)

func TestParseMisfire(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Misfire{"": MisfireSkip, "skip": MisfireSkip, "run_once": MisfireRunOnce, " run_once ": MisfireRunOnce} {
		if got, err := ParseMisfire(in); err != nil || got != want {
			t.Errorf("ParseMisfire(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseMisfire("catch_up"); err == nil || err.Error() != `misfire "catch_up": unknown (use skip or run_once)` {
		t.Errorf("ParseMisfire(catch_up) error = %v", err)
	}
}

func TestDue(t *testing.T) {
	t.Parallel()
	daily := MustParse("0 9 * * *", "Europe/Berlin")
	minutely := MustParse("* * * * *", "UTC")
	berlinNight := MustParse("30 2 * * *", "Europe/Berlin")
	b := func(s string) time.Time { return at(t, "Europe/Berlin", s) }
	u := func(s string) time.Time { return at(t, "UTC", s) }
	var never time.Time
	for _, tc := range []struct {
		name      string
		s         *Schedule
		policy    Misfire
		grace     time.Duration // 0: Due's default
		last, now time.Time
		wantFire  time.Time // zero: nothing fires
		wantNext  time.Time
	}{
		{
			name: "three days down, skip: nothing now, next tick tomorrow",
			s:    daily, policy: MisfireSkip, last: b("2025-06-02 09:00:00"), now: b("2025-06-05 12:00:00"),
			wantNext: b("2025-06-06 09:00:00"),
		},
		{
			name: "three days down, run_once: one fire for the latest missed tick",
			s:    daily, policy: MisfireRunOnce, last: b("2025-06-02 09:00:00"), now: b("2025-06-05 12:00:00"),
			wantFire: b("2025-06-05 09:00:00"), wantNext: b("2025-06-06 09:00:00"),
		},
		{
			name: "skip still fires a tick inside the grace window",
			s:    daily, policy: MisfireSkip, last: b("2025-06-02 09:00:00"), now: b("2025-06-05 09:00:40"),
			wantFire: b("2025-06-05 09:00:00"), wantNext: b("2025-06-06 09:00:00"),
		},
		{
			name: "skip drops a tick later than the grace window",
			s:    daily, policy: MisfireSkip, last: b("2025-06-04 09:00:00"), now: b("2025-06-05 09:01:01"),
			wantNext: b("2025-06-06 09:00:00"),
		},
		{
			name: "a wider grace window lets a later tick fire",
			s:    daily, policy: MisfireSkip, grace: 10 * time.Minute, last: b("2025-06-04 09:00:00"), now: b("2025-06-05 09:05:00"),
			wantFire: b("2025-06-05 09:00:00"), wantNext: b("2025-06-06 09:00:00"),
		},
		{
			name: "exactly on time",
			s:    daily, policy: MisfireSkip, last: b("2025-06-04 09:00:00"), now: b("2025-06-05 09:00:00"),
			wantFire: b("2025-06-05 09:00:00"), wantNext: b("2025-06-06 09:00:00"),
		},
		{
			name: "before the tick: wait for it",
			s:    daily, policy: MisfireRunOnce, last: b("2025-06-04 09:00:00"), now: b("2025-06-05 08:59:59"),
			wantNext: b("2025-06-05 09:00:00"),
		},
		{
			name: "the tick fired already",
			s:    daily, policy: MisfireRunOnce, last: b("2025-06-05 09:00:00"), now: b("2025-06-05 09:00:30"),
			wantNext: b("2025-06-06 09:00:00"),
		},
		{
			name: "never fired: starts now, nothing missed, even with run_once",
			s:    daily, policy: MisfireRunOnce, last: never, now: b("2025-06-05 12:00:00"),
			wantNext: b("2025-06-06 09:00:00"),
		},
		{
			name: "never fired: a tick due now still fires",
			s:    daily, policy: MisfireSkip, last: never, now: b("2025-06-05 09:00:20"),
			wantFire: b("2025-06-05 09:00:00"), wantNext: b("2025-06-06 09:00:00"),
		},
		{
			name: "another process with a clock ahead fired a tick still in our future",
			s:    daily, policy: MisfireRunOnce, last: b("2025-06-05 09:00:00"), now: b("2025-06-05 08:59:58"),
			wantNext: b("2025-06-06 09:00:00"),
		},
		{
			name: "run_once over three days of a per-minute schedule: the latest minute",
			s:    minutely, policy: MisfireRunOnce, last: u("2025-06-02 10:00:00"), now: u("2025-06-05 12:34:56"),
			wantFire: u("2025-06-05 12:34:00"), wantNext: u("2025-06-05 12:35:00"),
		},
		{
			name: "skip over three days of a per-minute schedule: the current minute",
			s:    minutely, policy: MisfireSkip, last: u("2025-06-02 10:00:00"), now: u("2025-06-05 12:34:56"),
			wantFire: u("2025-06-05 12:34:00"), wantNext: u("2025-06-05 12:35:00"),
		},
		{
			name: "run_once across spring forward: the gap's fire counts as the missed tick",
			s:    berlinNight, policy: MisfireRunOnce, last: b("2025-03-29 02:30:00"), now: b("2025-03-30 07:00:00"),
			wantFire: b("2025-03-30 03:00:00"), wantNext: b("2025-03-31 02:30:00"),
		},
		{
			name: "run_once across fall back: the first 02:30",
			s:    berlinNight, policy: MisfireRunOnce, last: b("2025-10-25 02:30:00"), now: b("2025-10-26 02:45:00 +0100"),
			wantFire: b("2025-10-26 02:30:00 +0200"), wantNext: b("2025-10-27 02:30:00"),
		},
		{
			name: "an unknown policy behaves as skip",
			s:    daily, policy: Misfire("bogus"), last: b("2025-06-02 09:00:00"), now: b("2025-06-05 12:00:00"),
			wantNext: b("2025-06-06 09:00:00"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var fireAt, next time.Time
			var ok bool
			if tc.grace == 0 {
				fireAt, next, ok = Due(tc.s, tc.policy, tc.last, tc.now)
			} else {
				fireAt, next, ok = DueWithin(tc.s, tc.policy, tc.last, tc.now, tc.grace)
			}
			if ok != !tc.wantFire.IsZero() || !fireAt.Equal(tc.wantFire) {
				t.Errorf("fire = %s, %v; want %s", fireAt, ok, tc.wantFire)
			}
			if !next.Equal(tc.wantNext) {
				t.Errorf("next = %s, want %s", next, tc.wantNext)
			}
		})
	}
}

// lastTick's bisection must agree with walking every tick.
func TestLastTickMatchesWalkingEveryTick(t *testing.T) {
	t.Parallel()
	from := at(t, "UTC", "2025-10-20 00:00:00")
	for _, spec := range []string{"0 9 * * *", "*/7 * * * *", "0 * * * *", "30 2 * * *", "@every 13m", "0 9 * * 1", "*/5 2 * * *"} {
		s := MustParse(spec, "Europe/Berlin")
		for _, to := range []time.Time{from, from.Add(47 * time.Second), from.Add(90 * time.Minute), from.Add(6*24*time.Hour + 5*time.Hour + 7*time.Minute + 3*time.Second)} {
			var want time.Time
			for tk := s.Next(from); !tk.After(to); tk = s.Next(tk) {
				want = tk
			}
			got, ok := lastTick(s, from, to)
			if ok != !want.IsZero() || !got.Equal(want) {
				t.Errorf("%s: lastTick(%s, %s) = %s, %v; want %s", spec, from, to, got, ok, want)
			}
		}
	}
}
