package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// consoleFixture records runs with known times: per workflow a mix of
// states, durations of whole milliseconds and trigger inputs to search.
func consoleFixture(t *testing.T, s *store.Store, base time.Time) (a, b *store.Workflow) {
	t.Helper()
	ctx := context.Background()
	mk := func(name string) (*store.Workflow, *store.WorkflowVersion) {
		w := &store.Workflow{Name: name, Active: true, TriggerType: "webhook"}
		v, err := s.CreateWorkflow(ctx, w, store.JSON(`{"name":"`+name+`"}`))
		storetest.Must(t, err, "create workflow")
		return w, v
	}
	a, va := mk("Orders")
	b, vb := mk("Signups")
	add := func(w *store.Workflow, v *store.WorkflowVersion, at time.Duration, state string, ms int, trigger, replayOf string) *store.Run {
		created := base.Add(at)
		r := &store.Run{WorkflowID: w.ID, VersionID: v.ID, Version: 1, State: state, TriggerType: "webhook",
			Trigger: store.JSON(trigger), CreatedAt: created}
		if replayOf != "" {
			r.ReplayOf = &replayOf
		}
		if ms >= 0 {
			st := created.Add(time.Millisecond)
			fin := st.Add(time.Duration(ms) * time.Millisecond)
			r.StartedAt, r.FinishedAt = &st, &fin
		}
		storetest.Must(t, s.CreateRun(ctx, r), "create run")
		return r
	}
	// Workflow a: 10 runs in the first hour, durations 100..1000 ms; 3 failed.
	for i := range 10 {
		state := store.RunSucceeded
		if i%3 == 0 && i > 0 {
			state = store.RunFailed
		}
		add(a, va, time.Duration(i)*5*time.Minute, state, (i+1)*100, fmt.Sprintf(`{"body":{"customer":"Ada %d","n":%d}}`, i, i), "")
	}
	// Workflow b: one failed run in the second hour, replayed once; one queued, one waiting.
	orig := add(b, vb, 70*time.Minute, store.RunFailed, 50, `{"body":{"email":"grace@example.com"}}`, "")
	add(b, vb, 80*time.Minute, store.RunSucceeded, 60, `{"body":{"email":"grace@example.com"}}`, orig.ID)
	add(b, vb, 90*time.Minute, store.RunQueued, -1, `{"body":{"email":"100%_sure@example.com"}}`, "")
	add(b, vb, 95*time.Minute, store.RunWaiting, -1, `{"body":{}}`, "")
	return a, b
}

func TestConsoleRunFiltersCountAndReplays(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := context.Background()
		base := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
		a, b := consoleFixture(t, s, base)

		// Text search over the trigger input, case-insensitive.
		runs, _, err := s.ListRuns(ctx, store.RunFilter{Search: "ada 4"})
		storetest.Must(t, err, "search")
		if len(runs) != 1 || runs[0].WorkflowID != a.ID {
			t.Fatalf("search 'ada 4' = %+v, want one run of Orders", runs)
		}
		// % and _ are literal characters, not wildcards.
		runs, _, err = s.ListRuns(ctx, store.RunFilter{Search: "100%_sure"})
		storetest.Must(t, err, "search literal")
		if len(runs) != 1 || runs[0].State != store.RunQueued {
			t.Fatalf("search '100%%_sure' = %+v, want the queued run", runs)
		}
		if runs, _, _ = s.ListRuns(ctx, store.RunFilter{Search: "1_0%"}); len(runs) != 0 {
			t.Fatalf("search '1_0%%' matched %d runs, want none", len(runs))
		}
		// Search combines with the other filters and pages newest first.
		page1, next, err := s.ListRuns(ctx, store.RunFilter{Search: "grace", WorkflowID: b.ID, Page: store.Page{Limit: 1}})
		storetest.Must(t, err, "search page 1")
		page2, _, err := s.ListRuns(ctx, store.RunFilter{Search: "grace", WorkflowID: b.ID, Page: store.Page{Limit: 1, Cursor: next}})
		storetest.Must(t, err, "search page 2")
		if len(page1) != 1 || len(page2) != 1 || page1[0].ReplayOf == nil || page2[0].ReplayOf != nil {
			t.Fatalf("pages = %+v / %+v, want the replay then its original", page1, page2)
		}

		n, capped, err := s.CountRuns(ctx, store.RunFilter{State: store.RunFailed}, 0)
		storetest.Must(t, err, "count")
		if n != 4 || capped {
			t.Fatalf("failed runs = %d (capped %v), want 4", n, capped)
		}
		n, capped, err = s.CountRuns(ctx, store.RunFilter{State: store.RunFailed}, 2)
		storetest.Must(t, err, "count capped")
		if n != 2 || !capped {
			t.Fatalf("capped count = %d (capped %v), want 2, true", n, capped)
		}
		n, _, err = s.CountRuns(ctx, store.RunFilter{WorkflowID: a.ID, Since: base.Add(20 * time.Minute), Until: base.Add(40 * time.Minute)}, 100)
		storetest.Must(t, err, "count range")
		if n != 4 {
			t.Fatalf("runs of Orders in [20m, 40m) = %d, want 4", n)
		}

		replays, err := s.ListReplays(ctx, page2[0].ID)
		storetest.Must(t, err, "replays")
		if len(replays) != 1 || replays[0].ID != page1[0].ID || replays[0].State != store.RunSucceeded {
			t.Fatalf("replays = %+v, want the one replay", replays)
		}
	})
}

func TestConsoleDashboardStats(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := context.Background()
		base := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
		a, b := consoleFixture(t, s, base)

		d, err := s.DashboardStats(ctx, base, base.Add(2*time.Hour), 30*time.Minute)
		storetest.Must(t, err, "dashboard")
		if len(d.Buckets) != 4 {
			t.Fatalf("buckets = %d, want 4", len(d.Buckets))
		}
		// Orders' runs at 0,5,…,45 min: slot 0 holds 0–25 (6 runs, failed at 15), slot 1 holds 30–45.
		want := []map[string]int64{
			{store.RunSucceeded: 5, store.RunFailed: 1},
			{store.RunSucceeded: 2, store.RunFailed: 2},
			{store.RunFailed: 1, store.RunSucceeded: 1},
			{store.RunQueued: 1, store.RunWaiting: 1},
		}
		for i, w := range want {
			if fmt.Sprint(d.Buckets[i].States) != fmt.Sprint(w) {
				t.Errorf("bucket %d (%s) = %v, want %v", i, d.Buckets[i].Start, d.Buckets[i].States, w)
			}
		}
		if d.Totals[store.RunFailed] != 4 || d.Totals[store.RunSucceeded] != 8 {
			t.Errorf("totals = %v", d.Totals)
		}
		// 12 finished runs: 50, 60, 100, …, 1000 ms. Nearest rank: p50 = 6th = 400, p95 = 12th = 1000.
		if d.P50MS != 400 || d.P95MS != 1000 {
			t.Errorf("p50/p95 = %d/%d ms, want 400/1000", d.P50MS, d.P95MS)
		}
		if len(d.Failing) != 2 || d.Failing[0].WorkflowID != a.ID || d.Failing[0].Failed != 3 ||
			d.Failing[0].Name != "Orders" || d.Failing[1].WorkflowID != b.ID {
			t.Errorf("failing = %+v", d.Failing)
		}
		if d.Queued != 1 || d.Waiting != 1 || d.Running != 0 || d.OldestQueuedAt == nil ||
			!d.OldestQueuedAt.Equal(base.Add(90*time.Minute)) {
			t.Errorf("queue = %d queued, %d waiting, oldest %v", d.Queued, d.Waiting, d.OldestQueuedAt)
		}

		// A range with no finished runs has no percentiles.
		empty, err := s.DashboardStats(ctx, base.Add(-time.Hour), base, time.Hour)
		storetest.Must(t, err, "empty range")
		if empty.P50MS != -1 || len(empty.Failing) != 0 || len(empty.Buckets) != 1 {
			t.Errorf("empty range = %+v", empty)
		}
	})
}
