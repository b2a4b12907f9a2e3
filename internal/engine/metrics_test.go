package engine_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/metrics"
	"github.com/switchboard-dev/switchboard/internal/netguard"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// A run observes its steps' durations and its deliveries' latencies, and
// the engine counts River's jobs by state.
func TestRunObservesStepAndDeliveryHistograms(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		st := storetest.Open(t, dialect)
		_, err := engine.MigrateQueue(ctx, st)
		storetest.Must(t, err, "queue migrations")
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) }))
		defer srv.Close()
		m := metrics.New()
		policy, _ := netguard.ParseAllowList("127.0.0.1")
		eng, err := engine.New(st, engine.Options{Registry: connectors.Default, Logger: slog.New(slog.DiscardHandler),
			Outbound: netguard.Options{Policy: policy}, Metrics: m})
		storetest.Must(t, err, "engine")
		v, err := newFlows(st).Create(ctx, []byte(`{"schema":"switchboard/v1","name":"m","trigger":{"type":"webhook"},"steps":[
		 {"id":"msg","type":"map","fields":{"a":"1"}},
		 {"id":"post","type":"action","action":"http.request","input":{"method":"POST","url":"`+srv.URL+`"}}]}`), true)
		storetest.Must(t, err, "workflow")
		w, _ := st.GetWorkflow(ctx, v.ID)
		ver, _ := st.GetCurrentVersion(ctx, w)
		r := &store.Run{WorkflowID: w.ID, VersionID: ver.ID, Version: 1, TriggerType: "webhook", Trigger: store.MustJSON(map[string]any{})}
		storetest.Must(t, eng.StartRuns(ctx, func(tx *engine.StartTx) error { return tx.Run(ctx, r) }), "run")
		storetest.Must(t, eng.Execute(ctx, r.ID), "execute")

		if n := testutil.CollectAndCount(m.StepDuration); n != 2 { // map/succeeded, action/succeeded
			t.Errorf("step duration series = %d, want 2", n)
		}
		if n := sampleCount(t, m, "switchboard_step_duration_seconds", "type", "action"); n != 1 {
			t.Errorf("action steps observed = %d, want 1", n)
		}
		if n := sampleCount(t, m, "switchboard_delivery_latency_seconds", "outcome", "2xx"); n != 1 {
			t.Errorf("2xx deliveries observed = %d, want 1", n)
		}
		jobs, err := eng.CountJobsByState(ctx)
		storetest.Must(t, err, "count jobs")
		if jobs["available"] != 1 { // Execute ran it without the queue: the job is still there
			t.Errorf("jobs by state = %v", jobs)
		}
	})
}

// sampleCount is how many observations the histogram name holds in the
// series with label=value.
func sampleCount(t *testing.T, m *metrics.Metrics, name, label, value string) uint64 {
	t.Helper()
	families, err := m.Registry.Gather()
	storetest.Must(t, err, "gather")
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return s.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return 0
}
