package api_test

import (
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store"
)

// /metrics comes from client_golang: the webhook reply histogram, the
// database gauges and the standard Go and process metrics.
func TestMetricsHistogramsAndStandardCollectors(t *testing.T) {
	b := setup(t, store.SQLite)
	_, hook := b.createWorkflow(t)
	b.do(t, "POST", hook, "application/json", `{"total":500}`)
	r := b.doAs(t, "", "GET", "/metrics", "", "")
	for _, want := range []string{
		`switchboard_webhook_reply_seconds_bucket{code="202",le="0.001"}`,
		`switchboard_webhook_reply_seconds_count{code="202"} 1`,
		"# TYPE switchboard_webhook_reply_seconds histogram",
		`switchboard_runs{state="queued"} 1`,
		`switchboard_queue_jobs{state="available"} 1`,
		`switchboard_http_responses_total{code="5xx"} 0`,
		"go_goroutines ", "process_start_time_seconds ", "switchboard_uptime_seconds ",
	} {
		if !strings.Contains(r.raw, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("%d\n%s", r.status, r.raw)
	}
}
