package engine_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// BenchmarkFiveStepRun measures the engine's own overhead for a 5-step run
// (filter, map, paths with one branch, map): load, compile cache, expression
// evaluation and recording every step, without the queue.
func BenchmarkFiveStepRun(b *testing.B) {
	for _, dialect := range storetest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			ctx := context.Background()
			st := storetest.Open(b, dialect)
			eng := newInsertOnlyEngine(b, st)
			v, err := newFlows(st).Create(ctx, []byte(`{"schema":"switchboard/v1","name":"five","trigger":{"type":"webhook"},"steps":[
			 {"id":"big","type":"filter","if":"trigger.body.total > 100"},
			 {"id":"msg","type":"map","fields":{"text":"Order #{{ trigger.body.id }} from {{ trigger.body.name }}"}},
			 {"id":"route","type":"paths","paths":[{"name":"vip","if":"trigger.body.total > 200","steps":[
			   {"id":"vip","type":"map","fields":{"tag":"vip"}}]}]},
			 {"id":"out","type":"map","fields":{"summary":"{{ steps.msg.text }} ({{ steps.vip.tag }})"}}]}`), true)
			if err != nil {
				b.Fatal(err)
			}
			w, _ := st.GetWorkflow(ctx, v.ID)
			ver, _ := st.GetCurrentVersion(ctx, w)
			ids := make([]string, b.N)
			for i := range ids {
				r := &store.Run{WorkflowID: w.ID, VersionID: ver.ID, Version: 1, TriggerType: "webhook",
					Trigger: store.MustJSON(map[string]any{"body": map[string]any{"id": i, "total": 250, "name": "Ada"}})}
				if err := st.InTx(ctx, func(tx *store.Store, _ *sql.Tx) error { return tx.CreateRun(ctx, r) }); err != nil {
					b.Fatal(err)
				}
				ids[i] = r.ID
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := eng.Execute(ctx, ids[i]); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if r, _ := st.GetRun(ctx, ids[b.N-1]); r.State != store.RunSucceeded {
				b.Fatalf("last run = %s %s", r.State, r.Error)
			}
		})
	}
}
