package engine_test

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/connections"
	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/netguard"
	"github.com/switchboard-dev/switchboard/internal/secrets"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// A step whose call the service refuses (401) marks its connection as
// needing attention, naming the step and workflow; the next step that
// succeeds with it clears the mark. Another failure (500) leaves it alone.
func TestARefusedStepMarksItsConnectionUntilOneSucceeds(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		st := storetest.Open(t, dialect)
		ring, _, err := secrets.LoadOrCreateFile(filepath.Join(t.TempDir(), "secret.key"))
		storetest.Must(t, err, "keys")
		conns := connections.New(st, connectors.Default, ring)
		created, err := conns.Create(ctx, connections.Input{Name: "signer", Connector: "webhook",
			Fields: map[string]string{"secret": "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))}})
		storetest.Must(t, err, "connection")
		var answer atomic.Int32
		answer.Store(http.StatusUnauthorized)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(int(answer.Load())) }))
		t.Cleanup(srv.Close)
		policy, _ := netguard.ParseAllowList("127.0.0.1")
		b := startEngine(t, st, engine.Options{Queue: engine.QueueOptions{Workers: 2}, Registry: connectors.Default, Outbound: netguard.Options{Policy: policy},
			Credentials: conns, Logger: slog.New(slog.DiscardHandler)})
		doc := `{"schema":"switchboard/v1","name":"Notify partner","trigger":{"type":"webhook"},"steps":[
		 {"id":"call","type":"action","action":"webhook.send","connection":"signer","input":{"url":"` + srv.URL + `","payload":{"a":1}}}]}`
		status := func(want string) *connections.View {
			t.Helper()
			v, err := conns.Get(ctx, created.ID)
			storetest.Must(t, err, "get")
			if v.Status != want {
				t.Fatalf("status %s (%s), want %s", v.Status, v.Attention, want)
			}
			return v
		}

		answer.Store(http.StatusInternalServerError)
		if run := b.waitFinal(t, b.trigger(t, doc, map[string]any{})); run.State != store.RunFailed {
			t.Fatalf("500: run %s", run.State)
		}
		status(connections.StatusConnected) // the service failed, not the credentials

		answer.Store(http.StatusUnauthorized)
		run := b.waitFinal(t, b.trigger(t, doc, map[string]any{}))
		if run.State != store.RunFailed {
			t.Fatalf("401: run %s", run.State)
		}
		wf, err := st.GetWorkflow(ctx, run.WorkflowID)
		storetest.Must(t, err, "workflow")
		v := status(connections.StatusNeedsAttention)
		if v.Failure == nil || v.Failure.Source != connections.FailedStep || v.Failure.At.IsZero() ||
			!strings.Contains(v.Attention, "HTTP 401") || !strings.Contains(v.Attention, `step call of workflow "`+wf.Name+`"`) {
			t.Fatalf("after a 401: attention %q, failure %+v", v.Attention, v.Failure)
		}
		attention, err := conns.NeedingAttention(ctx)
		storetest.Must(t, err, "needing attention")
		if len(attention) != 1 || attention[0].Attention != v.Attention {
			t.Fatalf("the dashboard's list: %+v", attention)
		}

		answer.Store(http.StatusOK)
		if run := b.waitFinal(t, b.trigger(t, doc, map[string]any{})); run.State != store.RunSucceeded {
			t.Fatalf("200: run %s", run.State)
		}
		if v := status(connections.StatusConnected); v.Failure != nil || v.Attention != "" {
			t.Fatalf("after a success: attention %q, failure %+v", v.Attention, v.Failure)
		}
	})
}
