package api_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store"
)

// The editor shows an unsaved cron spec in the same words as a saved one:
// both come from the one Go describer.
func TestDescribeACronSpecBeingEdited(t *testing.T) {
	b := setup(t, store.SQLite)
	r := b.do(t, "GET", "/api/v1/schedules/describe?cron="+url.QueryEscape("0 9,17 * * 1-5")+"&timezone=Europe/Berlin", "", "")
	next, _ := r.body["next"].([]any)
	if r.status != 200 || r.body["description"] != "Every weekday at 09:00 and 17:00" || r.body["timezone"] != "Europe/Berlin" || len(next) != 5 {
		t.Fatalf("describe: %d %s", r.status, r.raw)
	}
	if first, _ := next[0].(string); !strings.HasSuffix(first, "+01:00") && !strings.HasSuffix(first, "+02:00") {
		t.Fatalf("fire times not in the schedule's zone: %v", next)
	}
	if r := b.do(t, "GET", "/api/v1/schedules/describe?cron="+url.QueryEscape("*/15 * * * *"), "", ""); r.body["description"] != "Every 15 minutes" || r.body["timezone"] != "UTC" {
		t.Fatalf("every 15 minutes: %d %s", r.status, r.raw)
	}
	bad := b.do(t, "GET", "/api/v1/schedules/describe?cron="+url.QueryEscape("61 * * * *"), "", "")
	if bad.status != 422 || !strings.Contains(bad.raw, `"path":"cron"`) || !strings.Contains(bad.header.Get("Content-Type"), "problem+json") {
		t.Fatalf("bad cron: %d %s", bad.status, bad.raw)
	}
	if r := b.do(t, "GET", "/api/v1/schedules/describe", "", ""); r.status != 400 {
		t.Fatalf("no cron: %d %s", r.status, r.raw)
	}
}
