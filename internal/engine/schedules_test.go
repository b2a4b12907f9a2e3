package engine_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/trigger/schedule"
)

// fakeClock drives schedulers without waiting for the calendar.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	c       chan time.Time
	stopped bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }
func (t *fakeTimer) Stop() bool          { t.stopped = true; return true }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) schedule.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), c: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	return t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	keep := c.timers[:0]
	for _, t := range c.timers {
		if !t.stopped && !t.at.After(c.now) {
			t.c <- c.now
			continue
		}
		if !t.stopped {
			keep = append(keep, t)
		}
	}
	c.timers = keep
}

func TestTwoSchedulersOnOneDatabaseFireEachTickOnce(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		opts := storetest.Options(t, dialect)
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
		// Start the fake clock on a tick boundary after the workflow's
		// activation, so nothing counts as missed.
		start := w.UpdatedAt.Truncate(5 * time.Minute).Add(5 * time.Minute)
		clock := &fakeClock{now: start.Add(-time.Second)}
		for _, s := range []*schedule.Scheduler{
			schedule.New(e1.Schedules(), e1.Schedules(), schedule.Options{Clock: clock, Reload: time.Hour}),
			schedule.New(e2.Schedules(), e2.Schedules(), schedule.Options{Clock: clock, Reload: time.Hour}),
		} {
			go s.Run(ctx)
		}
		count := func() int {
			runs, _, err := st1.ListRuns(ctx, store.RunFilter{WorkflowID: w.ID, Page: store.Page{Limit: 200}})
			storetest.Must(t, err, "runs")
			return len(runs)
		}
		const ticks = 12 // one hour
		for i := 1; i <= ticks; i++ {
			if i == 1 {
				clock.advance(2 * time.Second) // 1 s past the first tick
			} else {
				clock.advance(5 * time.Minute)
			}
			deadline := time.Now().Add(10 * time.Second)
			for count() < i && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
				clock.advance(0) // deliver timers created after the advance
			}
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
		// reloaded.
		storetest.Must(t, st1.SetWorkflowActive(ctx, w.ID, false), "deactivate")
		clock.advance(5 * time.Minute)
		time.Sleep(100 * time.Millisecond)
		clock.advance(0)
		if n := count(); n != ticks {
			t.Fatalf("a deactivated schedule fired: %d runs", n)
		}
	})
}
