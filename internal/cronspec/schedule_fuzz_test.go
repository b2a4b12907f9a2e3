package cronspec

import (
	"testing"
	"time"
)

// Any cron spec and time zone parse or fail; a parsed schedule's next fire
// time is after the start.
func FuzzParse(f *testing.F) {
	for _, s := range [][2]string{{"*/5 * * * *", "UTC"}, {"0 9 * * MON-FRI", "Europe/Paris"}, {"@hourly", ""},
		{"0 0 31 2 *", "America/New_York"}, {"* * * * * *", "Local"}, {"61 25 32 13 8", "Nowhere/City"}, {"@every 1s", ""}} {
		f.Add(s[0], s[1])
	}
	start := time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, spec, tz string) {
		s, err := Parse(spec, tz)
		if err != nil {
			return
		}
		if next := s.Next(start); !next.IsZero() && !next.After(start) {
			t.Fatalf("%q in %q: next %s is not after %s", spec, tz, next, start)
		}
	})
}
