package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// BenchmarkConsoleQueries times the dashboard and runs-list queries over
// 100,000 recorded runs (20 workflows, a week of history) on both
// databases. Results are in docs/console-benchmark.md:
//
//	go test -run '^$' -bench ConsoleQueries -benchtime 20x ./internal/store/
func BenchmarkConsoleQueries(b *testing.B) {
	const runs = 100_000
	for _, dialect := range storetest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			s := storetest.Open(b, dialect)
			ctx := context.Background()
			now := time.Now().UTC()
			wfIDs := seedRuns(b, s, runs, now)
			queries := []struct {
				name string
				fn   func() error
			}{
				{"dashboard_hour", func() error {
					_, err := s.DashboardStats(ctx, now.Add(-time.Hour), now, 5*time.Minute)
					return err
				}},
				{"dashboard_day", func() error {
					_, err := s.DashboardStats(ctx, now.Add(-24*time.Hour), now, time.Hour)
					return err
				}},
				{"dashboard_week", func() error {
					_, err := s.DashboardStats(ctx, now.Add(-7*24*time.Hour), now, 6*time.Hour)
					return err
				}},
				{"list_newest", func() error {
					_, _, err := s.ListRuns(ctx, store.RunFilter{Page: store.Page{Limit: 50}})
					return err
				}},
				{"list_failed", func() error {
					_, _, err := s.ListRuns(ctx, store.RunFilter{State: store.RunFailed, Page: store.Page{Limit: 50}})
					return err
				}},
				{"list_workflow_failed_day", func() error {
					_, _, err := s.ListRuns(ctx, store.RunFilter{WorkflowID: wfIDs[3], State: store.RunFailed,
						Since: now.Add(-24 * time.Hour), Page: store.Page{Limit: 50}})
					return err
				}},
				{"list_trigger_schedule", func() error {
					_, _, err := s.ListRuns(ctx, store.RunFilter{TriggerType: "schedule", Page: store.Page{Limit: 50}})
					return err
				}},
				{"list_search_rare", func() error {
					// The one query that reads payloads: a value only one run has.
					_, _, err := s.ListRuns(ctx, store.RunFilter{Search: "customer-77777@", Page: store.Page{Limit: 50}})
					return err
				}},
				{"count_failed_week", func() error {
					_, _, err := s.CountRuns(ctx, store.RunFilter{State: store.RunFailed, Since: now.Add(-7 * 24 * time.Hour)}, 100_000)
					return err
				}},
			}
			if dialect == store.Postgres {
				if _, err := s.SQLDB().Exec("ANALYZE runs"); err != nil {
					b.Fatal(err)
				}
			}
			for _, q := range queries {
				b.Run(q.name, func(b *testing.B) {
					for b.Loop() {
						if err := q.fn(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// seedRuns inserts n finished runs spread over the week before now with
// multi-row INSERTs (the engine's own path would take minutes).
func seedRuns(b testing.TB, s *store.Store, n int, now time.Time) []string {
	b.Helper()
	ctx := context.Background()
	var wfIDs, verIDs []string
	for i := range 20 {
		w := &store.Workflow{Name: fmt.Sprintf("wf-%02d", i), Active: true, TriggerType: "webhook"}
		v, err := s.CreateWorkflow(ctx, w, store.JSON(`{}`))
		if err != nil {
			b.Fatal(err)
		}
		wfIDs, verIDs = append(wfIDs, w.ID), append(verIDs, v.ID)
	}
	states := []string{store.RunSucceeded, store.RunSucceeded, store.RunSucceeded, store.RunSucceeded, store.RunSucceeded,
		store.RunSucceeded, store.RunSucceeded, store.RunFailed, store.RunFiltered, store.RunSucceeded}
	const batch = 500
	tx, err := s.SQLDB().Begin()
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	span := 7 * 24 * time.Hour
	for start := 0; start < n; start += batch {
		var sb strings.Builder
		sb.WriteString("INSERT INTO runs (id, workflow_id, version_id, version, state, trigger_type, trigger, error, attempt, created_at, started_at, finished_at) VALUES ")
		args := make([]any, 0, batch*12)
		for i := start; i < start+batch && i < n; i++ {
			if i > start {
				sb.WriteString(",")
			}
			sb.WriteString("(")
			for c := range 12 {
				if c > 0 {
					sb.WriteString(",")
				}
				if s.Dialect() == store.Postgres {
					fmt.Fprintf(&sb, "$%d", len(args)+c+1)
				} else {
					sb.WriteString("?")
				}
			}
			sb.WriteString(")")
			created := now.Add(-span + time.Duration(int64(span)/int64(n)*int64(i)))
			started := created.Add(2 * time.Millisecond)
			finished := started.Add(time.Duration(50+i%950) * time.Millisecond)
			state := states[i%len(states)]
			errMsg, trig := "", "webhook"
			if state == store.RunFailed {
				errMsg = "step notify: retryable: HTTP 500 Internal Server Error"
			}
			if i%10 == 3 {
				trig = "schedule"
			}
			w := i % len(wfIDs)
			args = append(args, store.NewID(), wfIDs[w], verIDs[w], 1, state, trig,
				fmt.Sprintf(`{"body":{"order":%d,"email":"customer-%d@example.com"}}`, i, i), errMsg, 1,
				timeArg(s, created), timeArg(s, started), timeArg(s, finished))
		}
		if _, err := tx.Exec(sb.String(), args...); err != nil {
			b.Fatalf("seeding runs: %v", err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return wfIDs
}

// timeArg is a time as the store writes it (SQLite keeps Go's text form).
func timeArg(s *store.Store, t time.Time) any {
	if s.Dialect() == store.SQLite {
		return t.UTC().String()
	}
	return t.UTC()
}
