package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

func TestRetentionSettingAppliesOnTheNextPassWithoutRestart(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		st := storetest.Open(t, dialect)
		b := &bundle{st: st, eng: newInsertOnlyEngine(t, st), flows: newFlows(st)}
		v, err := b.flows.Create(ctx, []byte(`{"schema":"switchboard/v1","name":"plain",
		 "trigger":{"type":"webhook"},"steps":[{"id":"m","type":"map","fields":{"a":1}}]}`), true)
		storetest.Must(t, err, "create")
		w, _ := st.GetWorkflow(ctx, v.ID)
		ver, _ := st.GetCurrentVersion(ctx, w)
		for i := 0; i < 10; i++ {
			storetest.Must(t, st.CreateRun(ctx, &store.Run{WorkflowID: w.ID, VersionID: ver.ID, Version: 1,
				State: store.RunSucceeded, TriggerType: "webhook", Trigger: store.JSON(`{}`)}), "run")
		}
		// The engine was built with no retention: nothing goes.
		n, err := b.eng.Prune(ctx)
		storetest.Must(t, err, "prune")
		if n != 0 {
			t.Fatalf("pruned %d runs with no retention, want 0", n)
		}
		storetest.Must(t, st.PutSetting(ctx, &store.Setting{Key: engine.RetentionKey, Value: store.JSON(`{"max_age":"0","max_runs":3}`)}), "setting")
		n, err = b.eng.Prune(ctx)
		storetest.Must(t, err, "prune")
		if n != 7 {
			t.Fatalf("pruned %d runs after the setting kept 3, want 7", n)
		}
		r, set, err := engine.LoadRetention(ctx, st, engine.Retention{MaxRuns: 99})
		storetest.Must(t, err, "load")
		if !set || r.MaxRuns != 3 || r.MaxAge != 0 {
			t.Fatalf("LoadRetention = %+v set=%v", r, set)
		}
	})
}

func TestRetentionSettingCheckNamesTheBadField(t *testing.T) {
	for _, c := range []struct {
		in    engine.RetentionSetting
		field string
	}{
		{engine.RetentionSetting{MaxAge: "soon"}, "max_age"},
		{engine.RetentionSetting{MaxAge: "30s"}, "max_age"},
		{engine.RetentionSetting{MaxAge: "-1h"}, "max_age"},
		{engine.RetentionSetting{MaxAge: "720h", MaxRuns: -1}, "max_runs"},
	} {
		if _, p := c.in.Check(); p[c.field] == "" {
			t.Errorf("%+v: problems %v, want one on %s", c.in, p, c.field)
		}
	}
	if r, p := (engine.RetentionSetting{MaxAge: "24h", MaxRuns: 5}).Check(); p != nil || r.MaxAge.Hours() != 24 || r.MaxRuns != 5 {
		t.Fatalf("good setting: %+v %v", r, p)
	}
}

func TestRetentionPrunesOldEventsOnceTheirDeliveryEnded(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		st := storetest.Open(t, dialect)
		eng := newInsertOnlyEngine(t, st)
		sub := &store.Subscription{URL: "https://receiver.example/events", Events: store.JSON(`["*"]`), Headers: store.JSON(`{}`), Enabled: true}
		storetest.Must(t, st.CreateSubscription(ctx, sub), "subscription")
		old := time.Now().Add(-48 * time.Hour)
		record := func(id string, at time.Time) {
			t.Helper()
			n, err := st.RecordEvent(ctx, store.Event{ID: id, Type: "run.failed", Payload: []byte(`{}`), CreatedAt: at, Only: sub.ID})
			storetest.Must(t, err, "event %s", id)
			if n != 1 {
				t.Fatalf("event %s: %d deliveries, want 1", id, n)
			}
		}
		record("evt_old_done", old)
		record("evt_old_pending", old)
		record("evt_new_done", time.Now())
		due, err := st.DueDeliveries(ctx, time.Now().Add(time.Minute), 10)
		storetest.Must(t, err, "due")
		var oldDelivery string
		for _, d := range due {
			if d.EventID == "evt_old_pending" {
				continue
			}
			if d.EventID == "evt_old_done" {
				oldDelivery = d.ID
			}
			storetest.Must(t, st.FinishAttempt(ctx, &d, store.DeliveryOutcome{State: store.DeliverySucceeded,
				Attempt: store.EventAttempt{URL: sub.URL, Status: 204}}), "finish %s", d.EventID)
		}
		if oldDelivery == "" {
			t.Fatal("the old event's delivery was not due")
		}

		storetest.Must(t, st.PutSetting(ctx, &store.Setting{Key: engine.RetentionKey, Value: store.JSON(`{"max_age":"24h","max_runs":0}`)}), "setting")
		_, err = eng.Prune(ctx)
		storetest.Must(t, err, "prune")

		if _, err := st.GetEvent(ctx, "evt_old_done"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an old delivered event is still there after pruning: err = %v", err)
		}
		if attempts, err := st.ListEventAttempts(ctx, oldDelivery); err != nil || len(attempts) != 0 {
			t.Fatalf("the old delivery's attempts: %d left, err %v; want none", len(attempts), err)
		}
		for _, id := range []string{"evt_old_pending", "evt_new_done"} {
			if _, err := st.GetEvent(ctx, id); err != nil {
				t.Fatalf("event %s was pruned (still pending, or recent): %v", id, err)
			}
		}
	})
}
