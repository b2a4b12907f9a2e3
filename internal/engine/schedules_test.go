package engine_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/trigger/schedule"
)

// The schedulers run in a synctest bubble: time moves only when every
// goroutine in it waits, and synctest.Wait returns once the schedulers have
// done all they will do, so "nothing fired" is a fact, not a hope.
func TestTwoSchedulersOnOneDatabaseFireEachTickOnce(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		opts := storetest.Options(t, dialect) // the database is made (and dropped) outside the bubble
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			st1, err := store.Open(ctx, opts)
			storetest.Must(t, err, "open 1")
			defer st1.Close()
			_, err = st1.Migrate(ctx)
			storetest.Must(t, err, "migrate")
			st2, err := store.Open(ctx, opts) // a second "process" on the same database
			storetest.Must(t, err, "open 2")
			defer st2.Close()
			e1, e2 := newInsertOnlyEngine(t, st1), newInsertOnlyEngine(t, st2)

			v, err := newFlows(st1).Create(ctx, []byte(`{"schema":"switchboard/v1","name":"every 5 min","trigger":{"type":"schedule",
			"schedule":{"cron":"*/5 * * * *","timezone":"Europe/Berlin"}},"steps":[{"id":"m","type":"map","fields":{"at":"{{ trigger.fired_at }}"}}]}`), true)
			storetest.Must(t, err, "create")
			w, _ := st1.GetWorkflow(ctx, v.ID)
			// The first tick after the workflow's activation, so nothing
			// counts as missed.
			start := w.UpdatedAt.Truncate(5 * time.Minute).Add(5 * time.Minute)
			var done []chan struct{}
			for _, s := range []*schedule.Scheduler{
				schedule.New(schedule.FromEngine(e1.Schedules()), e1.Schedules(), schedule.Options{Reload: time.Hour}),
				schedule.New(schedule.FromEngine(e2.Schedules()), e2.Schedules(), schedule.Options{Reload: time.Hour}),
			} {
				ch := make(chan struct{})
				done = append(done, ch)
				go func() { defer close(ch); _ = s.Run(ctx) }()
			}
			count := func() int {
				runs, _, err := st1.ListRuns(ctx, store.RunFilter{WorkflowID: w.ID, Page: store.Page{Limit: 200}})
				storetest.Must(t, err, "runs")
				return len(runs)
			}
			const ticks = 12 // one hour
			for i := 1; i <= ticks; i++ {
				// 1 s past the i-th tick, then until both schedulers are idle.
				time.Sleep(time.Until(start.Add(time.Duration(i-1)*5*time.Minute + time.Second)))
				synctest.Wait()
				if n := count(); n != i {
					t.Fatalf("after %d ticks: %d runs", i, n)
				}
			}
			runs, _, _ := st1.ListRuns(ctx, store.RunFilter{WorkflowID: w.ID, Page: store.Page{Limit: 200}})
			seen := map[string]bool{}
			for _, r := range runs {
				full, _ := st1.GetRun(ctx, r.ID)
				if seen[string(full.Trigger)] {
					t.Fatalf("tick %s fired twice", full.Trigger)
				}
				seen[string(full.Trigger)] = true
				if r.TriggerType != "schedule" {
					t.Fatalf("trigger type %s", r.TriggerType)
				}
			}
			// Deactivating stops it at once, even for a scheduler that has not
			// reloaded: the next tick passes and, once both schedulers are
			// idle, no run was added.
			storetest.Must(t, st1.SetWorkflowActive(ctx, w.ID, false), "deactivate")
			time.Sleep(5 * time.Minute)
			synctest.Wait()
			if n := count(); n != ticks {
				t.Fatalf("a deactivated schedule fired: %d runs", n)
			}
			cancel()
			for _, ch := range done {
				<-ch
			}
		})
	})
}
