package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// A shared commit keeps each call's outcome: a call with a savepoint that
// fails rolls back alone; a clean call (a run's execution writes) that loses
// its lease before writing leaves the others as they are; a clean call that
// fails after writing makes every call of the batch run again on its own.
func TestSharedCommitKeepsEachCallsOutcome(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		st := storetest.Open(t, dialect)
		_, err := MigrateQueue(ctx, st)
		storetest.Must(t, err, "queue migrations")
		e, err := New(st, Options{Logger: slog.New(slog.DiscardHandler)})
		storetest.Must(t, err, "engine")
		boom := errors.New("boom")
		calls := map[string]*atomic.Int32{}
		create := func(name string, fail error) func(*StartTx) error {
			calls[name] = &atomic.Int32{}
			return func(tx *StartTx) error {
				calls[name].Add(1)
				w := &store.Workflow{Name: name, TriggerType: "manual"}
				if _, err := tx.Store().CreateWorkflow(ctx, w, store.JSON(`{}`)); err != nil {
					return err
				}
				return fail
			}
		}
		lost := func(*StartTx) error { return fmt.Errorf("run x: %w", store.ErrLeaseLost) }
		dup := func(*StartTx) error { return fmt.Errorf("duplicate: %w", ErrNoWrites) }
		req := func(fn func(*StartTx) error, clean bool) *startReq {
			return &startReq{ctx: ctx, fn: fn, clean: clean, done: make(chan struct{})}
		}
		names := func() []string {
			ids, err := st.WorkflowIDs(ctx)
			storetest.Must(t, err, "workflow ids")
			var out []string
			for _, id := range ids {
				w, err := st.GetWorkflow(ctx, id)
				storetest.Must(t, err, "workflow")
				out = append(out, w.Name)
			}
			slices.Sort(out)
			return out
		}
		errsOf := func(b []*startReq) []error {
			var out []error
			for _, r := range b {
				<-r.done
				out = append(out, r.err)
			}
			return out
		}

		b1 := []*startReq{req(create("a", nil), true), req(create("b", boom), false), req(lost, true), req(dup, true), req(create("c", nil), false)}
		e.commitBatch(b1)
		errs := errsOf(b1)
		if errs[0] != nil || !errors.Is(errs[1], boom) || !errors.Is(errs[2], store.ErrLeaseLost) || !errors.Is(errs[3], ErrNoWrites) || errs[4] != nil {
			t.Fatalf("outcomes = %v, want nil, boom, lease lost, no writes, nil", errs)
		}
		if got := names(); fmt.Sprint(got) != "[a c]" {
			t.Fatalf("workflows = %v, want [a c]", got)
		}
		for _, n := range []string{"a", "b", "c"} {
			if c := calls[n].Load(); c != 1 {
				t.Fatalf("%s ran %d times, want once (no redo)", n, c)
			}
		}

		b2 := []*startReq{req(create("d", nil), true), req(create("e", boom), true), req(create("f", nil), false)}
		e.commitBatch(b2)
		errs = errsOf(b2)
		if errs[0] != nil || !errors.Is(errs[1], boom) || errs[2] != nil {
			t.Fatalf("outcomes = %v, want nil, boom, nil", errs)
		}
		if got := names(); fmt.Sprint(got) != "[a c d f]" {
			t.Fatalf("workflows = %v, want [a c d f] (e rolled back)", got)
		}
		for n, want := range map[string]int32{"d": 2, "e": 2, "f": 1} { // f came after the failure
			if c := calls[n].Load(); c != want {
				t.Fatalf("%s ran %d times, want %d (in the batch until it failed, then each alone)", n, c, want)
			}
		}
	})
}
