package connectors_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/connectors/connectortest"
	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/flows"
	"github.com/switchboard-dev/switchboard/internal/netguard"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/waitfor"
)

// shout is written the way a third party would: only the SDK.
type shout struct{}

func (shout) Spec() connectors.Spec {
	return connectors.Spec{
		ID: "shout", Name: "Shout", Icon: "megaphone", Version: "0.1.0", Description: "Upper-cases text and posts it.",
		Auth: connectors.AuthSpec{Kind: connectors.AuthNone},
		Actions: []connectors.ActionSpec{{ID: "post", Name: "Post loudly", Input: []connectors.Field{
			{Key: "url", Label: "URL", Type: connectors.TypeString, Required: true},
			{Key: "text", Label: "Text", Type: connectors.TypeText, Required: true},
		}, SampleOutput: map[string]any{"sent": "HELLO"}}},
	}
}

func (shout) Execute(ctx context.Context, req connectors.Request) (connectors.Result, error) {
	loud := strings.ToUpper(req.Input["text"].(string))
	hreq, _ := http.NewRequestWithContext(ctx, http.MethodPost, req.Input["url"].(string), strings.NewReader(loud))
	hreq.Header.Set("Idempotency-Key", req.IdempotencyKey)
	resp, err := req.HTTP.Do(hreq)
	if err != nil {
		return connectors.Result{}, connectors.Retryable(err)
	}
	resp.Body.Close()
	return connectors.Result{Output: map[string]any{"sent": loud, "status": resp.StatusCode}}, nil
}

func TestRegistryRefusesBadAndDuplicateConnectors(t *testing.T) {
	reg := connectors.NewRegistry()
	if err := reg.Add(shout{}); err != nil {
		t.Fatal(err)
	}
	if err := reg.Add(shout{}); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Fatalf("duplicate id: %v", err)
	}
	if _, _, err := reg.Resolve("shout.nope"); err == nil {
		t.Fatal("unknown action resolved")
	}
	clone := reg.Clone()
	if _, ok := clone.Get("shout"); !ok {
		t.Fatal("clone lost a connector")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Register of an invalid spec did not panic")
		}
	}()
	connectors.Register(badSpec{})
}

type badSpec struct{ shout }

func (badSpec) Spec() connectors.Spec { return connectors.Spec{ID: "Bad Id", Name: "x"} }

func TestThirdPartyConnectorRunsInAWorkflow(t *testing.T) {
	connectortest.CheckSpec(t, shout{})
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		got := make(chan string, 1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			got <- string(b)
		}))
		defer srv.Close()
		ctx := context.Background()
		reg := connectors.Default.Clone()
		if err := reg.Add(shout{}); err != nil {
			t.Fatal(err)
		}
		st := storetest.Open(t, dialect)
		_, err := engine.MigrateQueue(ctx, st)
		storetest.Must(t, err, "queue")
		policy, _ := netguard.ParseAllowList("127.0.0.1")
		eng, err := engine.New(st, engine.Options{Queue: engine.QueueOptions{Workers: 2}, Registry: reg,
			Outbound: netguard.Options{Policy: policy}, Logger: slog.New(slog.DiscardHandler)})
		storetest.Must(t, err, "engine")
		storetest.Must(t, eng.Start(ctx), "start")
		defer eng.Stop(ctx)
		v, err := flows.New(st, reg, "http://x").Create(ctx, []byte(`{"schema":"switchboard/v1","name":"loud","trigger":{"type":"webhook"},
		 "steps":[{"id":"s","type":"action","action":"shout.post","input":{"url":"`+srv.URL+`","text":"hello {{ trigger.body.name }}"}}]}`), true)
		storetest.Must(t, err, "workflow")
		w, _ := st.GetWorkflow(ctx, v.ID)
		ver, _ := st.GetCurrentVersion(ctx, w)
		run := &store.Run{ID: store.NewID(), WorkflowID: w.ID, VersionID: ver.ID, Version: 1, TriggerType: "webhook",
			Trigger: store.MustJSON(map[string]any{"body": map[string]any{"name": "ada"}})}
		storetest.Must(t, eng.StartRuns(ctx, func(tx *engine.StartTx) error { return tx.Run(ctx, run) }), "enqueue")
		select {
		case body := <-got:
			if body != "HELLO ADA" {
				t.Fatalf("receiver got %q", body)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the third-party action never ran")
		}
		var r *store.Run
		waitfor.Until(t, 10*time.Second, "the run to finish", func() bool {
			r, _ = st.GetRun(ctx, run.ID)
			return r != nil && (r.State == store.RunSucceeded || r.State == store.RunFailed)
		})
		if r.State != store.RunSucceeded {
			t.Fatalf("run ended %s: %s", r.State, r.Error)
		}
		steps, _ := st.ListStepRuns(ctx, run.ID)
		var out map[string]any
		_ = json.Unmarshal(steps[0].Output, &out)
		if out["sent"] != "HELLO ADA" {
			t.Fatalf("output %v", out)
		}
	})
}
