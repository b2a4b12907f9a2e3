package cronspec

import "testing"

func TestDescribe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ spec, want string }{
		{"30 2 * * *", "Every day at 02:30"},
		{"@daily", "Every day at 00:00"},
		{"@midnight", "Every day at 00:00"},
		{"*/5 * * * *", "Every 5 minutes"},
		{"* * * * *", "Every minute"},
		{"0 * * * *", "Every hour"},
		{"@hourly", "Every hour"},
		{"15 * * * *", "Every hour at minute 15"},
		{"0 */6 * * *", "Every 6 hours"},
		{"30 */2 * * *", "Every 2 hours at minute 30"},
		{"*/10 * * * * *", "Every 10 seconds"},
		{"* * * * * *", "Every second"},
		{"0 9 * * 1", "Every Monday at 09:00"},
		{"0 9 * * mon", "Every Monday at 09:00"},
		{"0 9 * * MON-FRI", "Every weekday at 09:00"},
		{"0 9,17 * * 1-5", "Every weekday at 09:00 and 17:00"},
		{"0 10 * * 6,0", "Every Saturday and Sunday at 10:00"},
		{"0 8 * * 1,3,5", "Every Monday, Wednesday and Friday at 08:00"},
		{"@weekly", "Every Sunday at 00:00"},
		{"0,30 9 * * *", "Every day at 09:00 and 09:30"},
		{"30 0 9 * * *", "Every day at 09:00:30"},
		{"0 0 1 * *", "On day 1 of every month at 00:00"},
		{"@monthly", "On day 1 of every month at 00:00"},
		{"0 12 1,15 * *", "On days 1 and 15 of every month at 12:00"},
		{"@yearly", "Every year on January 1 at 00:00"},
		{"0 9 15 mar *", "Every year on March 15 at 09:00"},
		{"@every 5m", "Every 5 minutes"},
		{"@every 1m", "Every minute"},
		{"@every 1h", "Every hour"},
		{"@every 2h", "Every 2 hours"},
		{"@every 90m", "Every 90 minutes"},
		{"@every 45s", "Every 45 seconds"},
		// No sentence: the spec itself.
		{"*/7 * * * *", "*/7 * * * *"},
		{"0 9 1 * 1", "0 9 1 * 1"}, // day-of-month OR day-of-week
		{"*/5 9-17 * * 1-5", "*/5 9-17 * * 1-5"},
		{"0 9 * 1,7 *", "0 9 * 1,7 *"},
		{"not a spec", "not a spec"},
		{"  @daily  ", "Every day at 00:00"},
	} {
		if got := Describe(tc.spec); got != tc.want {
			t.Errorf("Describe(%q) = %q, want %q", tc.spec, got, tc.want)
		}
	}
}
