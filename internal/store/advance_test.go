package store_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// A run's execution write is all or nothing: the claim, its step records
// and the delivery "sending"; then the final state with the completed
// delivery replacing it. Another process's live lease writes nothing.
func TestAdvanceAndSaveWritesTheRunAndItsRecordsTogether(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := context.Background()
		tok := "tok-adv"
		w := &store.Workflow{Name: "wf", Active: true, TriggerType: "webhook", WebhookToken: &tok}
		v, err := s.CreateWorkflow(ctx, w, store.JSON(`{"name":"wf"}`))
		storetest.Must(t, err, "create")
		run := &store.Run{WorkflowID: w.ID, VersionID: v.ID, Version: 1, TriggerType: "webhook", Trigger: store.JSON(`{"body":{}}`)}
		storetest.Must(t, s.CreateRun(ctx, run), "run")
		now := time.Now().UTC().Truncate(time.Millisecond)
		step := func(id, state string) *store.StepRun {
			fin := now
			return &store.StepRun{RunID: run.ID, StepID: id, State: state, Input: store.JSON(`{"a":1}`),
				Output: store.JSON(`{"ok":true}`), Attempts: 1, StartedAt: now, FinishedAt: &fin, Seq: 1}
		}
		del := &store.Delivery{ID: store.NewID(), State: store.DeliverySending, RunID: run.ID, StepID: "notify", Attempt: 1,
			Method: "POST", URL: "http://x/hook", RequestHeaders: store.JSON(`{"A":"b"}`), RequestBody: `{"x":1}`, CreatedAt: now}

		// Another process holds a live lease: nothing is written.
		other := store.Advance{ID: run.ID, Owner: "other", Now: now, Claim: true, State: store.RunRunning, LeaseUntil: now.Add(time.Minute)}
		storetest.Must(t, s.AdvanceRun(ctx, other), "other claims")
		mine := store.Advance{ID: run.ID, Owner: "me", Now: now, Claim: true, State: store.RunRunning, LeaseUntil: now.Add(time.Minute)}
		err = s.AdvanceAndSave(ctx, mine, []*store.StepRun{step("big", store.StepSucceeded)}, []*store.Delivery{del})
		if !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("claim under another's lease: %v, want ErrLeaseLost", err)
		}
		if srs, _ := s.ListStepRuns(ctx, run.ID); len(srs) != 0 {
			t.Fatalf("steps written under another's lease: %+v", srs)
		}
		if ds, _ := s.ListDeliveries(ctx, run.ID); len(ds) != 0 {
			t.Fatalf("deliveries written under another's lease: %+v", ds)
		}

		// Once it lapses, the claim and its records go out together.
		mine.Now = now.Add(2 * time.Minute)
		mine.LeaseUntil = mine.Now.Add(time.Minute)
		storetest.Must(t, s.AdvanceAndSave(ctx, mine, []*store.StepRun{step("big", store.StepSucceeded), step("msg", store.StepSucceeded)},
			[]*store.Delivery{del}), "claim")
		r, err := s.GetRun(ctx, run.ID)
		storetest.Must(t, err, "get run")
		if r.State != store.RunRunning || r.Attempt != 2 || r.LeaseOwner == nil || *r.LeaseOwner != "me" || r.StartedAt == nil {
			t.Fatalf("run after claim = %+v", r)
		}
		ds, err := s.ListDeliveries(ctx, run.ID)
		storetest.Must(t, err, "deliveries")
		if len(ds) != 1 || ds[0].State != store.DeliverySending || ds[0].RequestBody != `{"x":1}` {
			t.Fatalf("deliveries after claim = %+v", ds)
		}

		// The final write: state, the action's record, the completed delivery.
		done := *del
		done.State, done.Status, done.ResponseBody, done.ResponseHeaders, done.LatencyMS = store.DeliveryCompleted, 200, "ok", store.JSON(`{"C":"d"}`), 7
		done.Error, done.ErrorKind, done.ItemKey = "went wrong", "retryable", ""
		fin := store.Advance{ID: run.ID, Owner: "me", Now: mine.Now, State: store.RunSucceeded}
		notify := step("notify", store.StepSucceeded)
		notify.Seq = 3
		storetest.Must(t, s.AdvanceAndSave(ctx, fin, []*store.StepRun{notify}, []*store.Delivery{&done}), "finish")
		r, err = s.GetRun(ctx, run.ID)
		storetest.Must(t, err, "get run")
		if r.State != store.RunSucceeded || r.FinishedAt == nil || r.LeaseOwner != nil || r.Attempt != 2 {
			t.Fatalf("run after finish = %+v", r)
		}
		srs, err := s.ListStepRuns(ctx, run.ID)
		storetest.Must(t, err, "steps")
		if len(srs) != 3 || srs[2].StepID != "notify" || srs[0].FinishedAt == nil || !srs[0].StartedAt.Equal(now) {
			t.Fatalf("steps = %+v", srs)
		}
		ds, err = s.ListDeliveries(ctx, run.ID)
		storetest.Must(t, err, "deliveries")
		if len(ds) != 1 {
			t.Fatalf("deliveries after finish = %+v", ds)
		}
		// Every field written comes back (a column left out of the write shows here).
		got, want := ds[0], done
		for _, j := range []*store.JSON{&got.RequestHeaders, &got.ResponseHeaders, &want.RequestHeaders, &want.ResponseHeaders} {
			*j = store.JSON(strings.ReplaceAll(string(*j), " ", ""))
		}
		got.CreatedAt, want.CreatedAt = got.CreatedAt.UTC(), want.CreatedAt.UTC()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("delivery read back\n %+v\nwant\n %+v", got, want)
		}
		// A final run takes no more writes.
		if err := s.AdvanceAndSave(ctx, fin, nil, nil); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("write after the end: %v, want ErrLeaseLost", err)
		}
	})
}
