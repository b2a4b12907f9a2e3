package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/waitfor"
)

func (b *bundle) waitState(t *testing.T, runID, state string) {
	t.Helper()
	waitfor.Until(t, 30*time.Second, "run "+runID+" to reach "+state, func() bool {
		r, err := b.st.GetRun(context.Background(), runID)
		storetest.Must(t, err, "get run")
		return r.State == state
	})
}

// waitJobDone waits until the run's queue job is finished (completed,
// cancelled or discarded): after that nothing can run for it any more.
func (b *bundle) waitJobDone(t *testing.T, runID string) {
	t.Helper()
	waitfor.Until(t, 30*time.Second, "the job of run "+runID+" to finish", func() bool {
		var open int
		err := b.st.SQLDB().QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'run' AND state NOT IN ('completed','cancelled','discarded') AND CAST(args AS TEXT) LIKE '%' || $1 || '%'`, runID).Scan(&open)
		storetest.Must(t, err, "job state")
		return open == 0
	})
}

func TestCancelDuringDelayPreventsTheNextStep(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		rcv := newReceiver(t)
		doc := `{"schema":"switchboard/v1","name":"delay","trigger":{"type":"webhook"},"steps":[
		 {"id":"wait","type":"delay","for":"1s"},
		 {"id":"post","type":"action","action":"http.request","input":{"method":"POST","url":"` + rcv.URL + `"}}]}`
		id := b.trigger(t, doc, map[string]any{})
		b.waitState(t, id, store.RunWaiting)
		r, err := b.eng.Cancel(context.Background(), id)
		storetest.Must(t, err, "cancel")
		if r.State != store.RunCanceled {
			t.Fatalf("state after cancel = %s", r.State)
		}
		b.waitJobDone(t, id) // the snoozed job woke up and saw the cancel
		if n := rcv.count.Load(); n != 0 {
			t.Fatalf("a canceled run sent %d requests", n)
		}
		if _, err := b.eng.Cancel(context.Background(), id); !errors.Is(err, engine.ErrRunFinal) {
			t.Fatalf("second cancel: err = %v, want ErrRunFinal", err)
		}
		if st := b.steps(t, id); st["post/"].State != "" {
			t.Fatalf("the step after the delay was recorded: %+v", st["post/"])
		}
	})
}

func TestDelayWaitsThenContinues(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		doc := `{"schema":"switchboard/v1","name":"delay","trigger":{"type":"webhook"},"steps":[
		 {"id":"wait","type":"delay","for":"300ms"},{"id":"after","type":"map","fields":{"ok":true}}]}`
		id := b.trigger(t, doc, map[string]any{})
		r := b.waitFinal(t, id)
		steps := b.steps(t, id)
		if r.State != store.RunSucceeded || steps["after/"].StartedAt.Sub(r.CreatedAt) < 300*time.Millisecond {
			t.Fatalf("run %s; the step after the delay started %s after the trigger", r.State, steps["after/"].StartedAt.Sub(r.CreatedAt))
		}
	})
}

func TestReplayFromFailedStepReusesEarlierOutputs(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		var fail atomic.Bool
		fail.Store(true)
		var got atomic.Value
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw, _ := io.ReadAll(r.Body)
			got.Store(string(raw))
			if fail.Load() {
				w.WriteHeader(400)
				return
			}
			w.WriteHeader(200)
		}))
		defer srv.Close()
		doc := `{"schema":"switchboard/v1","name":"replay","trigger":{"type":"webhook"},"steps":[
		 {"id":"stamp","type":"map","fields":{"id":"{{ uuid() }}"}},
		 {"id":"post","type":"action","action":"http.request","input":{"method":"POST","url":"` + srv.URL + `","json":"{{ steps.stamp }}"}}]}`
		id := b.trigger(t, doc, map[string]any{"x": 1})
		if r := b.waitFinal(t, id); r.State != store.RunFailed {
			t.Fatalf("first run = %s", r.State)
		}
		var first map[string]any
		_ = json.Unmarshal(b.steps(t, id)["stamp/"].Output, &first)

		ctx := context.Background()
		if _, err := b.eng.Replay(ctx, id, engine.ReplayOptions{From: "bogus"}); !errors.Is(err, engine.ErrBadReplay) {
			t.Fatalf("bad option: %v", err)
		}
		fail.Store(false)
		nr, err := b.eng.Replay(ctx, id, engine.ReplayOptions{From: "failed"})
		storetest.Must(t, err, "replay")
		if r := b.waitFinal(t, nr.ID); r.State != store.RunSucceeded || r.ReplayOf == nil || *r.ReplayOf != id {
			t.Fatalf("replay = %+v", r)
		}
		var again map[string]any
		_ = json.Unmarshal(b.steps(t, nr.ID)["stamp/"].Output, &again)
		if again["id"] != first["id"] || !strings.Contains(got.Load().(string), first["id"].(string)) {
			t.Fatalf("replay from the failed step recomputed earlier output: %v vs %v (sent %v)", again, first, got.Load())
		}
		fresh, err := b.eng.Replay(ctx, id, engine.ReplayOptions{From: "start"})
		storetest.Must(t, err, "replay from start")
		b.waitFinal(t, fresh.ID)
		var third map[string]any
		_ = json.Unmarshal(b.steps(t, fresh.ID)["stamp/"].Output, &third)
		if third["id"] == first["id"] {
			t.Fatal("replay from the start reused an earlier output")
		}
		// Bulk: every failed run of the workflow (only the original is failed).
		w := mustWorkflowOf(t, b, id)
		ids, err := b.eng.ReplayMatching(ctx, store.RunFilter{WorkflowID: w, State: store.RunFailed}, engine.ReplayOptions{})
		storetest.Must(t, err, "bulk replay")
		if len(ids) != 1 {
			t.Fatalf("bulk replay started %d runs, want 1", len(ids))
		}
		b.waitFinal(t, ids[0])
	})
}

func mustWorkflowOf(t *testing.T, b *bundle, runID string) string {
	r, err := b.st.GetRun(context.Background(), runID)
	storetest.Must(t, err, "run")
	return r.WorkflowID
}

func TestConcurrencyLimitQueuesExtraRuns(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		var inFlight, peak atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := inFlight.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(30 * time.Millisecond)
			inFlight.Add(-1)
		}))
		defer srv.Close()
		doc := `{"schema":"switchboard/v1","name":"one at a time","settings":{"concurrency":1},"trigger":{"type":"webhook"},"steps":[
		 {"id":"post","type":"action","action":"http.request","input":{"method":"POST","url":"` + srv.URL + `"}}]}`
		ctx := context.Background()
		v, err := b.flows.Create(ctx, []byte(doc), true)
		storetest.Must(t, err, "create")
		var ids []string
		for i := 0; i < 4; i++ {
			ids = append(ids, b.triggerExisting(t, v.ID, map[string]any{"i": i}))
		}
		for _, id := range ids {
			if r := b.waitFinal(t, id); r.State != store.RunSucceeded {
				t.Fatalf("run %s = %s", id, r.State)
			}
		}
		if p := peak.Load(); p != 1 {
			t.Fatalf("peak concurrency %d with a limit of 1", p)
		}
	})
}

func TestHugeExpressionFailsTheRunAndTheWorkerLivesOn(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		bad := b.trigger(t, `{"schema":"switchboard/v1","name":"huge","trigger":{"type":"webhook"},"steps":[
		 {"id":"big","type":"map","fields":{"l":"{{ 1..100000000 }}"}}]}`, map[string]any{})
		r := b.waitFinal(t, bad)
		if r.State != store.RunFailed || !strings.Contains(r.Error, "limit") {
			t.Fatalf("huge list run = %s %q", r.State, r.Error)
		}
		ok := b.trigger(t, `{"schema":"switchboard/v1","name":"fine","trigger":{"type":"webhook"},"steps":[
		 {"id":"m","type":"map","fields":{"l":"{{ 1..3 }}"}}]}`, map[string]any{})
		if r := b.waitFinal(t, ok); r.State != store.RunSucceeded {
			t.Fatalf("the next run = %s %q", r.State, r.Error)
		}
	})
}

func TestOversizedOutputIsStoredTruncatedWithItsSize(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		id := b.trigger(t, `{"schema":"switchboard/v1","name":"big","trigger":{"type":"webhook"},"steps":[
		 {"id":"m","type":"map","fields":{"s":"{{ trigger.body.pad }}"}}]}`, map[string]any{"pad": strings.Repeat("x", 300<<10)})
		b.waitFinal(t, id)
		var out map[string]any
		storetest.Must(t, json.Unmarshal(b.steps(t, id)["m/"].Output, &out), "output")
		if out["_truncated"] != true || out["original_size"].(float64) < 300<<10 {
			t.Fatalf("output not truncated with a marker: %.200v", out)
		}
	})
}

func TestRetentionDeletesOldRunsAndSQLiteShrinks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		// No workers: the periodic retention job must not race the call below.
		st := storetest.Open(t, dialect)
		b := &bundle{st: st, eng: newInsertOnlyEngine(t, st), flows: newFlows(st)}
		v, err := b.flows.Create(ctx, []byte(`{"schema":"switchboard/v1","name":"keep 5","settings":{"retention":{"max_runs":5}},
		 "trigger":{"type":"webhook"},"steps":[{"id":"m","type":"map","fields":{"a":1}}]}`), true)
		storetest.Must(t, err, "create")
		w, _ := b.st.GetWorkflow(ctx, v.ID)
		ver, _ := b.st.GetCurrentVersion(ctx, w)
		pad := strings.Repeat("p", 20<<10)
		for i := 0; i < 300; i++ {
			r := &store.Run{WorkflowID: w.ID, VersionID: ver.ID, Version: 1, State: store.RunSucceeded, TriggerType: "webhook",
				Trigger: store.MustJSON(map[string]any{"pad": pad, "i": i})}
			storetest.Must(t, b.st.CreateRun(ctx, r), "run")
			storetest.Must(t, b.st.SaveStepRun(ctx, &store.StepRun{RunID: r.ID, StepID: "m", State: store.StepSucceeded,
				Output: store.MustJSON(map[string]any{"pad": pad}), Attempts: 1, StartedAt: time.Now()}), "step")
		}
		sizeBefore := dbSize(t, b.st)
		n, err := b.eng.Prune(ctx)
		storetest.Must(t, err, "prune")
		if n != 295 {
			t.Fatalf("pruned %d runs, want 295", n)
		}
		runs, _, err := b.st.ListRuns(ctx, store.RunFilter{WorkflowID: w.ID})
		storetest.Must(t, err, "list")
		if len(runs) != 5 {
			t.Fatalf("%d runs left, want 5", len(runs))
		}
		if dialect == store.SQLite {
			after := dbSize(t, b.st)
			if after > sizeBefore/3 {
				t.Fatalf("SQLite file %d bytes before pruning, %d after: space not given back", sizeBefore, after)
			}
		}
	})
}

// dbSize is the SQLite file plus its WAL, after a checkpoint.
func dbSize(t *testing.T, st *store.Store) int64 {
	t.Helper()
	if st.Dialect() != store.SQLite {
		return 0
	}
	var file string
	storetest.Must(t, st.SQLDB().QueryRow("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file), "db path")
	_, err := st.SQLDB().Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	storetest.Must(t, err, "checkpoint")
	var total int64
	for _, f := range []string{file, file + "-wal"} {
		if fi, err := os.Stat(f); err == nil {
			total += fi.Size()
		}
	}
	return total
}

func TestStepTimeoutStopsASlowAction(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer srv.Close()
		defer close(release)
		id := b.trigger(t, `{"schema":"switchboard/v1","name":"slow","trigger":{"type":"webhook"},"steps":[
		 {"id":"post","type":"action","action":"http.request","timeout":"200ms","input":{"url":"`+srv.URL+`"}}]}`, map[string]any{})
		r := b.waitFinal(t, id)
		if r.State != store.RunFailed || !strings.Contains(r.Error, "deadline exceeded") {
			t.Fatalf("run = %s %q, want failed on the step timeout", r.State, r.Error)
		}
	})
}
