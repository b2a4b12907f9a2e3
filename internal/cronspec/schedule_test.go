package cronspec

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the same zone data on every machine that runs the tests
)

// at parses "2006-01-02 15:04:05" as a wall-clock time in zone tz, failing on
// a time that does not exist or exists twice unless the offset is given
// ("2006-01-02 15:04:05 -0700").
func at(t *testing.T, tz, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(tz)
	if err != nil {
		t.Fatal(err)
	}
	layout := "2006-01-02 15:04:05"
	if len(s) > len(layout) {
		v, err := time.Parse(layout+" -0700", s)
		if err != nil {
			t.Fatal(err)
		}
		return v.In(loc)
	}
	v, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseAcceptsCronSyntax(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ spec, tz, wantLoc string }{
		{"30 2 * * *", "Europe/Berlin", "Europe/Berlin"},
		{"*/5 * * * *", "", "UTC"},
		{"0 9 * * mon-fri", "America/New_York", "America/New_York"},
		{"0 0 1,15 jan,jul ?", "UTC", "UTC"},
		{"*/10 * * * * *", "", "UTC"}, // six fields: seconds first
		{"  0 30 9 * * 1  ", " Asia/Tokyo ", "Asia/Tokyo"},
		{"@every 5m", "", "UTC"},
		{"@every 1h30m", "", "UTC"},
		{"@every\t10s", "", "UTC"},
		{"@daily", "Europe/Berlin", "Europe/Berlin"},
		{"@midnight", "", "UTC"},
		{"@hourly", "", "UTC"},
		{"@weekly", "", "UTC"},
		{"@monthly", "", "UTC"},
		{"@yearly", "", "UTC"},
		{"@annually", "", "UTC"},
		{"@Daily", "", "UTC"},
	} {
		s, err := Parse(tc.spec, tc.tz)
		if err != nil {
			t.Errorf("Parse(%q, %q): %v", tc.spec, tc.tz, err)
			continue
		}
		if got := s.Location().String(); got != tc.wantLoc {
			t.Errorf("Parse(%q, %q).Location() = %s, want %s", tc.spec, tc.tz, got, tc.wantLoc)
		}
		if s.String() != strings.TrimSpace(tc.spec) {
			t.Errorf("String() = %q", s.String())
		}
		if s.Next(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
			t.Errorf("Parse(%q): never fires", tc.spec)
		}
	}
}

func TestParseRejectsWithClearErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ spec, tz, want string }{
		{"* * *", "", "cron: expected 5 or 6 fields, got 3"},
		{"* *", "", "cron: expected 5 or 6 fields, got 2"},
		{"* * * * * * *", "", "cron: expected 5 or 6 fields, got 7"},
		{"", "", "cron: spec is empty"},
		{"   ", "", "cron: spec is empty"},
		{"61 * * * *", "", `cron: minute field "61": end of range (61) above maximum (59)`},
		{"0 25 * * *", "", `cron: hour field "25"`},
		{"0 0 32 * *", "", `cron: day-of-month field "32"`},
		{"0 0 0 * *", "", `cron: day-of-month field "0"`},
		{"0 0 * 13 *", "", `cron: month field "13"`},
		{"0 0 * * funday", "", `cron: day-of-week field "funday"`},
		{"60 0 0 * * *", "", `cron: second field "60"`},
		{"*/0 * * * *", "", `cron: minute field "*/0"`},
		{"5-1 * * * *", "", `cron: minute field "5-1"`},
		{"CRON_TZ=Europe/Berlin 0 9 * * *", "", `cron: "CRON_TZ=" prefix is not allowed in the spec: set the time zone in the timezone field`},
		{"TZ=UTC 0 9 * * *", "", `cron: "TZ=" prefix is not allowed`},
		{"@fortnightly", "", `cron: unknown descriptor "@fortnightly"`},
		{"@every", "", "cron: @every needs a duration"},
		{"@every 5x", "", `cron: @every "5x": not a duration`},
		{"@every 500ms", "", "cron: @every 500ms: must be at least 1s"},
		{"@every -5m", "", "must be at least 1s"},
		{"@every 1500ms", "", "cron: @every 1500ms: must be a whole number of seconds"},
		{"@daily 5", "", `cron: @daily takes no argument, got "5"`},
		{"@daily", "Mars/Base", `timezone "Mars/Base": unknown`},
		{"0 9 * * *", "Local", `timezone "Local": not allowed`},
		{"0 9 * * *", "+02:00", `timezone "+02:00": unknown`},
	} {
		_, err := Parse(tc.spec, tc.tz)
		if err == nil {
			t.Errorf("Parse(%q, %q): no error, want %q", tc.spec, tc.tz, tc.want)
			continue
		}
		if !strings.HasPrefix(err.Error(), tc.want) && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q, %q) = %q, want it to contain %q", tc.spec, tc.tz, err, tc.want)
		}
	}
}

// fires lists the fire times in (from, to].
func fires(s *Schedule, from, to time.Time) []time.Time {
	var out []time.Time
	for t := s.Next(from); !t.IsZero() && !t.After(to); t = s.Next(t) {
		out = append(out, t)
	}
	return out
}

func TestDailyFiresOncePerDayAcrossDaylightSaving(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, spec, tz string
		from, to       string // local dates spanning a week around the change
		want           []string
	}{
		{
			name: "Berlin spring forward: 02:30 does not exist, fires at 03:00 CEST",
			spec: "30 2 * * *", tz: "Europe/Berlin", from: "2025-03-27 00:00:00", to: "2025-04-02 23:59:59",
			want: []string{
				"2025-03-27 02:30:00 +0100", "2025-03-28 02:30:00 +0100", "2025-03-29 02:30:00 +0100",
				"2025-03-30 03:00:00 +0200",
				"2025-03-31 02:30:00 +0200", "2025-04-01 02:30:00 +0200", "2025-04-02 02:30:00 +0200",
			},
		},
		{
			name: "Berlin fall back: 02:30 happens twice, fires on the first (CEST)",
			spec: "30 2 * * *", tz: "Europe/Berlin", from: "2025-10-23 00:00:00", to: "2025-10-29 23:59:59",
			want: []string{
				"2025-10-23 02:30:00 +0200", "2025-10-24 02:30:00 +0200", "2025-10-25 02:30:00 +0200",
				"2025-10-26 02:30:00 +0200",
				"2025-10-27 02:30:00 +0100", "2025-10-28 02:30:00 +0100", "2025-10-29 02:30:00 +0100",
			},
		},
		{
			name: "New York spring forward: 02:30 does not exist, fires at 03:00 EDT",
			spec: "30 2 * * *", tz: "America/New_York", from: "2025-03-06 00:00:00", to: "2025-03-12 23:59:59",
			want: []string{
				"2025-03-06 02:30:00 -0500", "2025-03-07 02:30:00 -0500", "2025-03-08 02:30:00 -0500",
				"2025-03-09 03:00:00 -0400",
				"2025-03-10 02:30:00 -0400", "2025-03-11 02:30:00 -0400", "2025-03-12 02:30:00 -0400",
			},
		},
		{
			name: "New York fall back: 02:30 exists once (the repeated hour is 01:00-02:00)",
			spec: "30 2 * * *", tz: "America/New_York", from: "2025-10-30 00:00:00", to: "2025-11-05 23:59:59",
			want: []string{
				"2025-10-30 02:30:00 -0400", "2025-10-31 02:30:00 -0400", "2025-11-01 02:30:00 -0400",
				"2025-11-02 02:30:00 -0500",
				"2025-11-03 02:30:00 -0500", "2025-11-04 02:30:00 -0500", "2025-11-05 02:30:00 -0500",
			},
		},
		{
			name: "New York fall back: 01:30 happens twice, fires on the first (EDT)",
			spec: "30 1 * * *", tz: "America/New_York", from: "2025-10-30 00:00:00", to: "2025-11-05 23:59:59",
			want: []string{
				"2025-10-30 01:30:00 -0400", "2025-10-31 01:30:00 -0400", "2025-11-01 01:30:00 -0400",
				"2025-11-02 01:30:00 -0400",
				"2025-11-03 01:30:00 -0500", "2025-11-04 01:30:00 -0500", "2025-11-05 01:30:00 -0500",
			},
		},
		{
			name: "several times inside the gap collapse into one fire at its end",
			spec: "0,15,30,45 2 * * *", tz: "Europe/Berlin", from: "2025-03-30 00:00:00", to: "2025-03-30 23:59:59",
			want: []string{"2025-03-30 03:00:00 +0200"},
		},
		{
			name: "a time in the gap and the gap's end collapse too",
			spec: "0 2,3 * * *", tz: "Europe/Berlin", from: "2025-03-30 00:00:00", to: "2025-03-31 23:59:59",
			want: []string{"2025-03-30 03:00:00 +0200", "2025-03-31 02:00:00 +0200", "2025-03-31 03:00:00 +0200"},
		},
		{
			name: "a restricted hour list is wall clock: every six hours fires once at 00/06/12/18",
			spec: "0 */6 * * *", tz: "Europe/Berlin", from: "2025-10-26 00:00:00", to: "2025-10-26 23:59:59",
			want: []string{"2025-10-26 00:00:00 +0200", "2025-10-26 06:00:00 +0100", "2025-10-26 12:00:00 +0100", "2025-10-26 18:00:00 +0100"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := MustParse(tc.spec, tc.tz)
			got := fires(s, at(t, tc.tz, tc.from).Add(-time.Nanosecond), at(t, tc.tz, tc.to))
			if len(got) != len(tc.want) {
				t.Fatalf("got %d fires %v, want %d", len(got), got, len(tc.want))
			}
			perDay := map[string]int{}
			for i, g := range got {
				want := at(t, tc.tz, tc.want[i])
				if !g.Equal(want) {
					t.Errorf("fire %d = %s, want %s", i, g, want)
				}
				if g.Location() != s.Location() {
					t.Errorf("fire %d in %s, want the schedule's zone", i, g.Location())
				}
				perDay[g.Format("2006-01-02")]++
			}
			if strings.HasPrefix(tc.spec, "30 ") {
				for day, n := range perDay {
					if n != 1 {
						t.Errorf("%s fired %d times", day, n)
					}
				}
			}
		})
	}
}

func TestHourlyFollowsRealHoursAcrossDaylightSaving(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, spec, tz, day string
		wantFires           int
		wantGap             time.Duration // between consecutive fires, real time
	}{
		// The hour 02:00-03:00 does not exist: 23 fires, one real hour apart.
		{"Berlin spring forward", "0 * * * *", "Europe/Berlin", "2025-03-30", 23, time.Hour},
		// 02:00 happens twice, both instants fire: 25 fires, one real hour apart.
		{"Berlin fall back", "0 * * * *", "Europe/Berlin", "2025-10-26", 25, time.Hour},
		{"New York spring forward", "0 * * * *", "America/New_York", "2025-03-09", 23, time.Hour},
		{"New York fall back", "0 * * * *", "America/New_York", "2025-11-02", 25, time.Hour},
		{"@hourly fall back", "@hourly", "Europe/Berlin", "2025-10-26", 25, time.Hour},
		{"quarter hours fall back", "*/15 * * * *", "Europe/Berlin", "2025-10-26", 100, 15 * time.Minute},
		{"quarter hours spring forward", "*/15 * * * *", "America/New_York", "2025-03-09", 92, 15 * time.Minute},
		// @every is real time: the fall-back day has 25 hours and 25 ticks.
		{"@every 1h fall back", "@every 1h", "Europe/Berlin", "2025-10-26", 25, time.Hour},
		{"@every 1h spring forward", "@every 1h", "America/New_York", "2025-03-09", 23, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := MustParse(tc.spec, tc.tz)
			start := at(t, tc.tz, tc.day+" 00:00:00")
			end := start.AddDate(0, 0, 1)
			got := fires(s, start.Add(-time.Nanosecond), end.Add(-time.Nanosecond))
			if len(got) != tc.wantFires {
				t.Fatalf("got %d fires, want %d: %v", len(got), tc.wantFires, got)
			}
			if !got[0].Equal(start) {
				t.Errorf("first fire %s, want %s", got[0], start)
			}
			for i := 1; i < len(got); i++ {
				if d := got[i].Sub(got[i-1]); d != tc.wantGap {
					t.Errorf("fires %s and %s are %s apart, want %s", got[i-1], got[i], d, tc.wantGap)
				}
			}
		})
	}
}

func TestEveryIsAnchoredToTheUnixEpoch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		spec, tz, after string
		want            []string // UTC
	}{
		{"@every 5m", "", "2025-06-01 10:02:17", []string{"2025-06-01 10:05:00", "2025-06-01 10:10:00", "2025-06-01 10:15:00"}},
		{"@every 5m", "", "2025-06-01 10:05:00", []string{"2025-06-01 10:10:00", "2025-06-01 10:15:00", "2025-06-01 10:20:00"}},
		{"@every 90m", "", "2025-06-01 00:00:00", []string{"2025-06-01 01:30:00", "2025-06-01 03:00:00", "2025-06-01 04:30:00"}},
		// The zone does not move the ticks: every process agrees.
		{"@every 90m", "Asia/Kolkata", "2025-06-01 00:00:00", []string{"2025-06-01 01:30:00", "2025-06-01 03:00:00", "2025-06-01 04:30:00"}},
		{"@every 7s", "", "1970-01-01 00:00:00", []string{"1970-01-01 00:00:07", "1970-01-01 00:00:14", "1970-01-01 00:00:21"}},
		{"@every 7s", "", "1969-12-31 23:59:59", []string{"1970-01-01 00:00:00", "1970-01-01 00:00:07", "1970-01-01 00:00:14"}},
	} {
		s := MustParse(tc.spec, tc.tz)
		got := s.NextN(at(t, "UTC", tc.after), len(tc.want))
		for i, w := range tc.want {
			if want := at(t, "UTC", w); i >= len(got) || !got[i].Equal(want) {
				t.Errorf("%s from %s: got %v, want %v", tc.spec, tc.after, got, tc.want)
				break
			}
		}
	}
	if d, ok := MustParse("@every 1h30m", "").Interval(); !ok || d != 90*time.Minute {
		t.Errorf("Interval() = %s, %v", d, ok)
	}
	if _, ok := MustParse("@hourly", "").Interval(); ok {
		t.Error("@hourly has no Interval")
	}
}

func TestNextIsStrictlyAfterAndWholeSeconds(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{"0 9 * * *", "*/10 * * * * *", "@every 1m", "30 2 * * *"} {
		s := MustParse(spec, "Europe/Berlin")
		tick := s.Next(at(t, "UTC", "2025-03-29 12:00:00"))
		if got := s.Next(tick); !got.After(tick) {
			t.Errorf("%s: Next(%s) = %s, not after it", spec, tick, got)
		}
		if got := s.Next(tick.Add(-time.Nanosecond)); !got.Equal(tick) {
			t.Errorf("%s: Next(tick-1ns) = %s, want %s", spec, got, tick)
		}
		if got := s.Next(tick.Add(-time.Nanosecond)); got.Nanosecond() != 0 {
			t.Errorf("%s: fire time %s is not a whole second", spec, got)
		}
	}
}

func TestNextN(t *testing.T) {
	t.Parallel()
	s := MustParse("0 9 * * 1-5", "Europe/Berlin")
	got := s.NextN(at(t, "Europe/Berlin", "2025-06-06 09:00:00"), 5) // a Friday, at the tick
	want := []string{"2025-06-09 09:00:00", "2025-06-10 09:00:00", "2025-06-11 09:00:00", "2025-06-12 09:00:00", "2025-06-13 09:00:00"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if w := at(t, "Europe/Berlin", want[i]); !got[i].Equal(w) {
			t.Errorf("fire %d = %s, want %s", i, got[i], w)
		}
	}
	if got := s.NextN(time.Now(), 0); got != nil {
		t.Errorf("NextN(0) = %v", got)
	}
	never := MustParse("0 0 30 2 *", "")
	if got := never.NextN(time.Now(), 5); len(got) != 0 {
		t.Errorf("30 February fired: %v", got)
	}
	if got := never.Next(time.Now()); !got.IsZero() {
		t.Errorf("30 February: Next = %s", got)
	}
}

// Go reports zone bounds from the POSIX TZ rule (beyond the transition
// table, 2037 and later) one day short in leap years; Next must neither
// loop nor skip there.
func TestNextFarBeyondTheTransitionTable(t *testing.T) {
	t.Parallel()
	leap := MustParse("0 0 29 2 *", "Europe/Berlin")
	got := leap.NextN(at(t, "UTC", "2025-10-25 22:10:00"), 8)
	for i, year := range []int{2028, 2032, 2036, 2040, 2044, 2048, 2052, 2056} {
		if want := time.Date(year, 2, 29, 0, 0, 0, 0, leap.Location()); i >= len(got) || !got[i].Equal(want) {
			t.Fatalf("got %v, want 29 February of leap years from 2028", got)
		}
	}
	for _, tz := range []string{"Europe/Berlin", "Australia/Sydney", "America/New_York"} {
		daily := MustParse("0 0 * * *", tz)
		got := daily.NextN(at(t, tz, "2040-12-29 12:00:00"), 4)
		for i, day := range []string{"2040-12-30", "2040-12-31", "2041-01-01", "2041-01-02"} {
			if want := at(t, tz, day+" 00:00:00"); i >= len(got) || !got[i].Equal(want) {
				t.Fatalf("%s: got %v, want midnights from 2040-12-30", tz, got)
			}
		}
	}
}

// TestNextMatchesBruteForce checks Next against a reference that walks
// every minute of real time and applies the documented rules directly,
// without zone bounds: hourly-or-finer schedules fire at each instant whose
// wall-clock reading matches; wall-clock schedules fire at the first
// instant showing a matching reading, and at the end of a gap that swallowed
// a matching reading.
func TestNextMatchesBruteForce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ spec, tz, from, to string }{
		{"30 2 * * *", "Europe/Berlin", "2025-03-25", "2025-04-05"},
		{"30 2 * * *", "Europe/Berlin", "2025-10-20", "2025-11-01"},
		{"0 * * * *", "Europe/Berlin", "2025-03-28", "2025-04-01"},
		{"0 * * * *", "Europe/Berlin", "2025-10-24", "2025-10-28"},
		{"*/20 * * * *", "Europe/Berlin", "2025-10-25", "2025-10-27"},
		{"*/5 2 * * *", "Europe/Berlin", "2025-03-29", "2025-04-01"},
		{"*/5 2 * * *", "Europe/Berlin", "2025-10-25", "2025-10-28"},
		{"0 */6 * * *", "Europe/Berlin", "2025-10-24", "2025-10-28"},
		{"0 9 * * 1-5", "America/New_York", "2025-03-01", "2025-03-20"},
		{"30 1 * * *", "America/New_York", "2025-10-28", "2025-11-08"},
		{"45 1 * * *", "America/New_York", "2025-03-05", "2025-03-12"},
		{"*/30 * * * *", "Australia/Sydney", "2025-04-04", "2025-04-08"},
		{"30 2 * * *", "Australia/Sydney", "2025-10-02", "2025-10-08"},
		// Lord Howe Island moves its clocks by 30 minutes.
		{"15 2 * * *", "Australia/Lord_Howe", "2025-10-02", "2025-10-08"},
		{"45 1 * * *", "Australia/Lord_Howe", "2025-04-03", "2025-04-09"},
		{"15 * * * *", "Australia/Lord_Howe", "2025-10-04", "2025-10-06"},
		// São Paulo changed clocks at midnight: midnight was skipped, and
		// 23:00-24:00 repeated.
		{"0 0 * * *", "America/Sao_Paulo", "2018-11-01", "2018-11-08"},
		{"30 23 * * *", "America/Sao_Paulo", "2019-02-13", "2019-02-20"},
		// Samoa skipped 30 December 2011 entirely.
		{"30 2 * * *", "Pacific/Apia", "2011-12-26", "2012-01-03"},
		{"0 12 * * *", "Pacific/Apia", "2011-12-26", "2012-01-03"},
		{"0 0 1 * *", "Asia/Kolkata", "2025-01-01", "2025-04-01"},
	} {
		t.Run(tc.spec+" "+tc.tz+" "+tc.from, func(t *testing.T) {
			t.Parallel()
			s := MustParse(tc.spec, tc.tz)
			from, to := at(t, tc.tz, tc.from+" 00:00:00"), at(t, tc.tz, tc.to+" 00:00:00")
			want := bruteForce(s, from, to)
			got := fires(s, from, to)
			if len(want) == 0 {
				t.Fatal("reference found no fires; bad case")
			}
			if len(got) != len(want) {
				t.Fatalf("got %d fires, reference %d\ngot  %v\nwant %v", len(got), len(want), got, want)
			}
			for i := range want {
				if !got[i].Equal(want[i]) {
					t.Errorf("fire %d = %s, reference %s", i, got[i], want[i])
				}
			}
		})
	}
}

// bruteForce lists fire times in (from, to] for minute-resolution specs.
func bruteForce(s *Schedule, from, to time.Time) []time.Time {
	wall := func(t time.Time) time.Time {
		l := t.In(s.loc)
		return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), 0, 0, time.UTC)
	}
	matches := func(w time.Time) bool { return s.cron.Next(w.Add(-time.Second)).Equal(w) }
	seen := map[time.Time]bool{}
	var out []time.Time
	for i := from.Add(-48 * time.Hour).Truncate(time.Minute); !i.After(to); i = i.Add(time.Minute) {
		w, prev := wall(i), wall(i.Add(-time.Minute))
		fire := false
		if s.wallClock {
			// A gap: the reading jumped by more than a minute.
			for g := prev.Add(time.Minute); g.Before(w); g = g.Add(time.Minute) {
				fire = fire || matches(g)
			}
			fire = fire || (matches(w) && !seen[w])
		} else {
			fire = matches(w)
		}
		seen[w] = true
		if fire && i.After(from) {
			out = append(out, i)
		}
	}
	return out
}
