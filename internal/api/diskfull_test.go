package api_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/trigger/webhook"
)

// A full SQLite disk (max_page_count caps the file where it is) through the
// real handler: webhooks answer 503 with Retry-After, nothing is half
// written (every run has its accepted inbox row and its queue job, and no
// row is left without the others), and once there is room again the next
// request is accepted with no restart.
func TestWebhooksOnAFullSQLiteDisk(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t, store.SQLite)
	b := setupOn(t, st, webhook.Options{MaxBody: 256 << 10})
	_, hook := b.createWorkflow(t)
	body := `{"total":500,"pad":"` + strings.Repeat("x", 60<<10) + `"}`
	if r := b.send(t, hook, body, nil); r.status != 202 {
		t.Fatalf("before the disk fills: %d %s", r.status, r.raw)
	}
	db := st.SQLDB() // one connection (store.openSQLite): the pragma holds for every statement
	exec := func(q string) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("PRAGMA incremental_vacuum") // no free pages left to write into
	var pages int
	storetest.Must(t, db.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages), "page_count")
	exec("PRAGMA max_page_count = " + strconv.Itoa(pages))
	consistent := func(when string) (runs int) {
		t.Helper()
		var orphanRuns, orphanInbox, jobless, jobs int
		storetest.Must(t, db.QueryRowContext(ctx, "SELECT count(*) FROM runs").Scan(&runs), "runs")
		storetest.Must(t, db.QueryRowContext(ctx, `SELECT count(*) FROM runs r WHERE NOT EXISTS
			(SELECT 1 FROM inbound_requests i WHERE i.run_id = r.id AND i.verdict = 'accepted')`).Scan(&orphanRuns), "orphan runs")
		storetest.Must(t, db.QueryRowContext(ctx, `SELECT count(*) FROM inbound_requests i WHERE i.verdict = 'accepted'
			AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = i.run_id)`).Scan(&orphanInbox), "orphan inbox")
		storetest.Must(t, db.QueryRowContext(ctx, `SELECT count(*) FROM runs r WHERE NOT EXISTS
			(SELECT 1 FROM river_job j WHERE j.kind = 'run' AND json_extract(j.args, '$.run_id') = r.id)`).Scan(&jobless), "jobless runs")
		storetest.Must(t, db.QueryRowContext(ctx, "SELECT count(*) FROM river_job WHERE kind = 'run'").Scan(&jobs), "jobs")
		if orphanRuns != 0 || orphanInbox != 0 || jobless != 0 || jobs != runs {
			t.Fatalf("%s: half written: %d runs without an accepted inbox row, %d accepted rows without a run, %d runs without a job, %d jobs for %d runs",
				when, orphanRuns, orphanInbox, jobless, jobs, runs)
		}
		return runs
	}
	before := consistent("before")
	full := 0
	for i := 0; i < 40 && full == 0; i++ {
		r := b.send(t, hook, body, nil)
		switch r.status {
		case 202:
		case 503:
			full++
			if r.header.Get("Retry-After") == "" || !strings.Contains(r.raw, "retry later") {
				t.Fatalf("503 without Retry-After or advice: %v %s", r.header, r.raw)
			}
		default:
			t.Fatalf("request %d on a full disk: %d %s, want 202 or 503", i, r.status, r.raw)
		}
	}
	if full == 0 {
		t.Fatalf("the disk never filled (max_page_count %d)", pages)
	}
	// Several more while full: all 503, nothing written.
	during := consistent("full")
	for i := 0; i < 3; i++ {
		if r := b.send(t, hook, body, nil); r.status != 503 {
			t.Fatalf("still full: %d %s", r.status, r.raw)
		}
	}
	if n := consistent("still full"); n != during || n < before {
		t.Fatalf("runs went from %d to %d while the disk was full", during, n)
	}
	// Room again: accepted with no restart.
	exec("PRAGMA max_page_count = 1073741823")
	r := b.send(t, hook, body, nil)
	if r.status != 202 {
		t.Fatalf("after space returned: %d %s", r.status, r.raw)
	}
	if n := consistent("after"); n != during+1 {
		t.Fatalf("runs = %d after recovery, want %d", n, during+1)
	}
}
