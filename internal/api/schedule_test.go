package api_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store"
)

// The editor describes the spec being typed with the server's describer,
// so the words it shows are the ones the saved schedule gets.
func TestDescribeScheduleForTheEditor(t *testing.T) {
	b := setup(t, store.SQLite)
	get := func(cron, tz string) response {
		q := url.Values{"cron": {cron}}
		if tz != "" {
			q.Set("timezone", tz)
		}
		return b.do(t, "GET", "/api/v1/schedules/describe?"+q.Encode(), "", "")
	}
	r := get("0 9,17 * * 1-5", "Europe/Berlin")
	next, _ := r.body["next"].([]any)
	if r.status != 200 || r.body["description"] != "Every weekday at 09:00 and 17:00" || r.body["timezone"] != "Europe/Berlin" || len(next) != 5 {
		t.Fatalf("describe: %d %s", r.status, r.raw)
	}
	if s := next[0].(string); !strings.Contains(s, "T09:00:00+0") && !strings.Contains(s, "T17:00:00+0") {
		t.Fatalf("first fire time %s is not 09:00 or 17:00 Berlin time", s)
	}
	if r := get("@every 90m", ""); r.status != 200 || r.body["description"] != "Every 90 minutes" || r.body["timezone"] != "UTC" {
		t.Fatalf("@every: %d %s", r.status, r.raw)
	}
	for _, tc := range []struct{ cron, tz, field, says string }{
		{"61 * * * *", "", "cron", "minute"},
		{"0 9 * * *", "Mars/Base", "timezone", "Mars/Base"},
		{"", "", "cron", "required"},
	} {
		r := get(tc.cron, tc.tz)
		if r.status != 422 || r.header.Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(r.raw, `"path":"`+tc.field+`"`) || !strings.Contains(r.raw, tc.says) {
			t.Fatalf("%q %q: %d %s, want 422 naming %s", tc.cron, tc.tz, r.status, r.raw, tc.field)
		}
	}
}
