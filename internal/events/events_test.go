package events_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/switchboard-dev/switchboard/connectors"
	_ "github.com/switchboard-dev/switchboard/connectors/all"
	"github.com/switchboard-dev/switchboard/internal/connections"
	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/events"
	"github.com/switchboard-dev/switchboard/internal/flows"
	"github.com/switchboard-dev/switchboard/internal/netguard"
	"github.com/switchboard-dev/switchboard/internal/secrets"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/trigger/webhook"
	"github.com/switchboard-dev/switchboard/internal/waitfor"
)

// received is one request a subscriber got.
type received struct {
	header http.Header
	body   []byte
}

// subscriber is a local endpoint; answer decides each response.
type subscriber struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int, w http.ResponseWriter)
	signal chan struct{}
}

func newSubscriber(t *testing.T, answer func(n int, w http.ResponseWriter)) *subscriber {
	s := &subscriber{answer: answer, signal: make(chan struct{}, 100)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.got = append(s.got, received{header: r.Header.Clone(), body: body})
		n := len(s.got)
		answer := s.answer
		s.mu.Unlock()
		if answer != nil {
			answer(n, w)
		} else {
			w.WriteHeader(http.StatusNoContent)
		}
		s.signal <- struct{}{}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *subscriber) requests() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.got...)
}

type bundle struct {
	st    *store.Store
	ring  *secrets.Keyring
	svc   *events.Service
	disp  *events.Dispatcher
	flows *flows.Service
}

func setup(t *testing.T, dialect string, o events.DispatcherOptions) *bundle {
	t.Helper()
	st := storetest.Open(t, dialect)
	st.SetHooks(events.StoreHooks())
	ring, _, err := secrets.LoadOrCreateFile(filepath.Join(t.TempDir(), "secret.key"))
	storetest.Must(t, err, "keys")
	loopback, _ := netguard.ParseAllowList("127.0.0.1")
	o.Client = netguard.NewClient(netguard.Options{Policy: loopback, Timeout: 5 * time.Second}, nil)
	o.Poll = 20 * time.Millisecond
	o.Logger = slog.New(slog.DiscardHandler)
	d := events.NewDispatcher(st, ring, o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return &bundle{st: st, ring: ring, svc: events.NewService(st, ring, d.Nudge), disp: d,
		flows: flows.New(st, connectors.Default, "http://sb.test")}
}

func (b *bundle) subscribe(t *testing.T, url string, evs ...string) *events.View {
	t.Helper()
	v, err := b.svc.Create(context.Background(), events.Input{URL: &url, Events: evs})
	storetest.Must(t, err, "subscribe")
	if !strings.HasPrefix(v.Secret, "whsec_") {
		t.Fatalf("secret %q, want whsec_…", v.Secret)
	}
	return v
}

const hookDoc = `{"schema":"switchboard/v1","name":"orders","trigger":{"type":"webhook","webhook":{"methods":["POST"]}},
 "steps":[{"id":"m","type":"map","fields":{"x":"1"}}]}`

// finishedRun stores a run of workflow wf and ends it in state through the
// store's final-state write, the one the engine uses.
func finishedRun(t *testing.T, st *store.Store, wf, state string) string {
	t.Helper()
	ctx := context.Background()
	w, err := st.GetWorkflow(ctx, wf)
	storetest.Must(t, err, "workflow")
	v, err := st.GetCurrentVersion(ctx, w)
	storetest.Must(t, err, "version")
	r := &store.Run{WorkflowID: wf, VersionID: v.ID, Version: v.Version, TriggerType: "webhook", Trigger: store.JSON(`{}`)}
	storetest.Must(t, st.CreateRun(ctx, r), "run")
	_, err = st.StartRun(ctx, r.ID, 0)
	storetest.Must(t, err, "start")
	changed, err := st.FinishRun(ctx, r.ID, state, map[string]string{store.RunFailed: "boom"}[state])
	storetest.Must(t, err, "finish")
	if !changed {
		t.Fatal("run not finished")
	}
	return r.ID
}

func TestEachEventTypeIsDeliveredOnceAndVerifiesWithTheOfficialLibrary(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		b := setup(t, dialect, events.DispatcherOptions{})
		sub := newSubscriber(t, nil)
		s := b.subscribe(t, sub.srv.URL+"/events", "*")

		// workflow.saved (twice: created, edited), deactivated, activated.
		wf, err := b.flows.Create(ctx, []byte(hookDoc), true)
		storetest.Must(t, err, "create")
		_, err = b.flows.Update(ctx, wf.ID, []byte(strings.Replace(hookDoc, `"orders"`, `"orders 2"`, 1)), 0)
		storetest.Must(t, err, "update")
		_, err = b.flows.SetActive(ctx, wf.ID, false)
		storetest.Must(t, err, "deactivate")
		_, err = b.flows.SetActive(ctx, wf.ID, false) // no change: no event
		storetest.Must(t, err, "deactivate again")
		_, err = b.flows.SetActive(ctx, wf.ID, true)
		storetest.Must(t, err, "activate")

		// run.succeeded, run.failed, run.canceled; a filtered run has none.
		runs := map[string]string{}
		for _, state := range []string{store.RunSucceeded, store.RunFailed, store.RunCanceled, store.RunFiltered} {
			runs[state] = finishedRun(t, b.st, wf.ID, state)
		}

		// webhook.rejected: a GET to a POST-only webhook, through the receiver.
		_, err = engine.MigrateQueue(ctx, b.st)
		storetest.Must(t, err, "queue migrations")
		eng, err := engine.New(b.st, engine.Options{Registry: connectors.Default, Logger: slog.New(slog.DiscardHandler)})
		storetest.Must(t, err, "engine")
		recv := webhook.New(b.st, eng, eng, webhook.Options{MaxBody: 1 << 20, Logger: slog.New(slog.DiscardHandler)})
		w, err := b.st.GetWorkflow(ctx, wf.ID)
		storetest.Must(t, err, "workflow")
		req := httptest.NewRequest(http.MethodGet, "/hooks/"+*w.WebhookToken, nil)
		if _, err := recv.Receive(ctx, *w.WebhookToken, req, false); err == nil {
			t.Fatal("GET to a POST webhook was accepted")
		}

		// connection.needs_attention: the mark an OAuth2 refusal sets.
		conns := connections.New(b.st, connectors.Default, b.ring)
		cv, err := conns.Create(ctx, connections.Input{Name: "crm", Connector: "http", OAuth2: &connections.OAuthConfig{
			ClientID: "c", ClientSecret: "s", AuthURL: "https://idp.example/authorize", TokenURL: "https://idp.example/token"}})
		storetest.Must(t, err, "connection")
		for range 2 { // marked twice: one event per breakage
			storetest.Must(t, conns.LockOAuth(ctx, cv.ID, func(r *connections.OAuthRecord) (bool, error) {
				r.Status, r.Error = connections.OAuthNeedsAttention, "invalid_grant"
				return true, nil
			}), "mark")
		}

		// connector.uploaded goes through the same outbox call as the API.
		storetest.Must(t, events.Record(ctx, b.st, events.ConnectorUploaded, "", events.ConnectorData{ConnectorID: "acme", Name: "Acme", Actions: []string{"acme.x"}}), "record")

		want := map[string]int{events.WorkflowSaved: 2, events.WorkflowDeactivated: 1, events.WorkflowActivated: 1,
			events.RunSucceeded: 1, events.RunFailed: 1, events.RunCanceled: 1, events.WebhookRejected: 1,
			events.ConnectionNeedsAttention: 1, events.ConnectorUploaded: 1}
		total := 0
		for _, n := range want {
			total += n
		}
		waitfor.Until(t, 20*time.Second, "every event", func() bool { return len(sub.requests()) >= total })

		verifier, err := standardwebhooks.NewWebhook(s.Secret)
		storetest.Must(t, err, "official verifier")
		got := map[string]int{}
		ids := map[string]bool{}
		for _, r := range sub.requests() {
			if err := verifier.Verify(r.body, r.header); err != nil {
				t.Fatalf("official library refused a delivery: %v\n%s", err, r.body)
			}
			var env struct {
				ID      string          `json:"id"`
				Type    string          `json:"type"`
				Version int             `json:"version"`
				Data    json.RawMessage `json:"data"`
			}
			storetest.Must(t, json.Unmarshal(r.body, &env), "envelope")
			if env.ID == "" || env.ID != r.header.Get("webhook-id") || env.Version != events.PayloadVersion {
				t.Fatalf("envelope id %q / header %q / version %d", env.ID, r.header.Get("webhook-id"), env.Version)
			}
			if ids[env.ID] {
				t.Fatalf("event %s delivered twice", env.ID)
			}
			ids[env.ID] = true
			got[env.Type]++
			switch env.Type {
			case events.RunFailed:
				var d events.RunData
				_ = json.Unmarshal(env.Data, &d)
				if d.RunID != runs[store.RunFailed] || d.Error != "boom" || d.WorkflowName != "orders 2" || d.FinishedAt == nil {
					t.Fatalf("run.failed data %s", env.Data)
				}
			case events.WebhookRejected:
				var d events.WebhookRejectedData
				_ = json.Unmarshal(env.Data, &d)
				if d.WorkflowID != wf.ID || d.Method != "GET" || !strings.Contains(d.Reason, "GET") {
					t.Fatalf("webhook.rejected data %s", env.Data)
				}
			case events.ConnectionNeedsAttention:
				var d events.ConnectionData
				_ = json.Unmarshal(env.Data, &d)
				if d.ConnectionName != "crm" || d.Reason != "invalid_grant" {
					t.Fatalf("connection.needs_attention data %s", env.Data)
				}
			}
		}
		for typ, n := range want {
			if got[typ] != n {
				t.Errorf("%s delivered %d times, want %d (all: %v)", typ, got[typ], n, got)
			}
		}
		if len(got) != len(want) {
			t.Errorf("unexpected event types: %v", got)
		}
		// A tampered body must fail the same verifier (the check can fail).
		r0 := sub.requests()[0]
		if err := verifier.Verify(append([]byte(" "), r0.body...), r0.header); err == nil {
			t.Fatal("official verifier accepted a tampered body")
		}
	})
}

func TestFailingSubscriberGetsTheRetryScheduleAndEveryAttemptIsRecorded(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		// The published schedule, compressed 20,000× (28 h in about 5 s).
		schedule := make([]time.Duration, len(events.DefaultSchedule))
		for i, d := range events.DefaultSchedule {
			schedule[i] = d / 20000
		}
		b := setup(t, dialect, events.DispatcherOptions{Schedule: schedule})
		sub := newSubscriber(t, func(n int, w http.ResponseWriter) {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, "down for maintenance")
		})
		s := b.subscribe(t, sub.srv.URL, events.WorkflowSaved)
		_, err := b.flows.Create(ctx, []byte(hookDoc), true)
		storetest.Must(t, err, "create")

		var d *events.DeliveryView
		waitfor.Until(t, 20*time.Second, "the delivery to give up", func() bool {
			list, _, err := b.svc.Deliveries(ctx, s.ID, store.Page{})
			if err != nil || len(list) != 1 {
				return false
			}
			d, err = b.svc.Delivery(ctx, s.ID, list[0].ID)
			return err == nil && d.State == store.DeliveryFailed
		})
		attempts := len(events.DefaultSchedule) + 1
		if len(d.AttemptList) != attempts || len(sub.requests()) != attempts {
			t.Fatalf("%d attempts recorded, %d received, want %d", len(d.AttemptList), len(sub.requests()), attempts)
		}
		for i, a := range d.AttemptList {
			if a.Attempt != i+1 || a.Status != 500 || a.ResponseBody != "down for maintenance" || a.URL != sub.srv.URL {
				t.Fatalf("attempt %d: %+v", i, a)
			}
			if i > 0 {
				gap := a.At.Sub(d.AttemptList[i-1].At)
				if min := time.Duration(float64(schedule[i-1]) * 0.8); gap < min-5*time.Millisecond {
					t.Fatalf("retry %d came after %v, before the schedule's %v (-20%% jitter)", i, gap, schedule[i-1])
				}
			}
		}
		// Same event id on every attempt, so the receiver can deduplicate.
		for _, r := range sub.requests() {
			if r.header.Get("webhook-id") != d.EventID {
				t.Fatalf("webhook-id %q, want %q", r.header.Get("webhook-id"), d.EventID)
			}
		}

		// Resend: one more attempt, recorded after the others.
		sub.mu.Lock()
		sub.answer = nil
		sub.mu.Unlock()
		_, err = b.svc.Resend(ctx, s.ID, d.ID)
		storetest.Must(t, err, "resend")
		waitfor.Until(t, 20*time.Second, "the resend", func() bool {
			d, err = b.svc.Delivery(ctx, s.ID, d.ID)
			return err == nil && d.State == store.DeliverySucceeded
		})
		if n := len(d.AttemptList); n != attempts+1 || d.AttemptList[n-1].Status != 204 || d.AttemptList[n-1].Attempt != attempts+1 {
			t.Fatalf("after resend: %+v", d.AttemptList)
		}
	})
}

func TestGoneDisablesTheSubscriptionAndTellsTheAdmin(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		b := setup(t, dialect, events.DispatcherOptions{Schedule: []time.Duration{time.Millisecond}})
		sub := newSubscriber(t, func(n int, w http.ResponseWriter) { w.WriteHeader(http.StatusGone) })
		s := b.subscribe(t, sub.srv.URL, events.WorkflowSaved)
		_, err := b.flows.Create(ctx, []byte(hookDoc), true)
		storetest.Must(t, err, "create")
		waitfor.Until(t, 20*time.Second, "the subscription to be disabled", func() bool {
			v, err := b.svc.Get(ctx, s.ID)
			return err == nil && !v.Enabled
		})
		v, _ := b.svc.Get(ctx, s.ID)
		if !strings.Contains(v.DisabledReason, "410") {
			t.Fatalf("reason %q", v.DisabledReason)
		}
		entries, _, err := b.st.ListAudit(ctx, store.Page{})
		storetest.Must(t, err, "audit")
		if len(entries) != 1 || entries[0].Action != "subscription.disabled" || entries[0].TargetID != s.ID {
			t.Fatalf("audit %+v", entries)
		}
		// No retry after 410, and a disabled subscription gets nothing new.
		_, err = b.flows.Create(ctx, []byte(hookDoc), true)
		storetest.Must(t, err, "create 2")
		list, _, err := b.svc.Deliveries(ctx, s.ID, store.Page{})
		storetest.Must(t, err, "deliveries")
		if len(list) != 1 || list[0].State != store.DeliveryFailed || list[0].Attempts != 1 || len(sub.requests()) != 1 {
			t.Fatalf("deliveries %+v, %d requests", list, len(sub.requests()))
		}
	})
}

func TestFailingForDaysDisablesTheSubscription(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		b := setup(t, dialect, events.DispatcherOptions{Schedule: []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond},
			DisableAfter: 30 * time.Millisecond})
		sub := newSubscriber(t, func(n int, w http.ResponseWriter) {
			time.Sleep(20 * time.Millisecond) // the failures span the window
			w.WriteHeader(http.StatusBadGateway)
		})
		s := b.subscribe(t, sub.srv.URL, events.WorkflowSaved)
		_, err := b.flows.Create(ctx, []byte(hookDoc), true)
		storetest.Must(t, err, "create")
		waitfor.Until(t, 20*time.Second, "the subscription to be disabled", func() bool {
			v, err := b.svc.Get(ctx, s.ID)
			return err == nil && !v.Enabled && strings.Contains(v.DisabledReason, "without a success since")
		})
		entries, _, _ := b.st.ListAudit(ctx, store.Page{})
		if len(entries) != 1 || entries[0].Action != "subscription.disabled" {
			t.Fatalf("audit %+v", entries)
		}
	})
}

func TestRotationSendsBothSignaturesDuringTheOverlap(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		b := setup(t, dialect, events.DispatcherOptions{})
		sub := newSubscriber(t, nil)
		s := b.subscribe(t, sub.srv.URL, events.WorkflowSaved)
		rotated, err := b.svc.Rotate(ctx, s.ID, time.Hour)
		storetest.Must(t, err, "rotate")
		if rotated.Secret == s.Secret || rotated.PrevSecretUntil == nil {
			t.Fatalf("rotation %+v", rotated)
		}
		_, err = b.flows.Create(ctx, []byte(hookDoc), true)
		storetest.Must(t, err, "create")
		waitfor.Until(t, 20*time.Second, "a delivery", func() bool { return len(sub.requests()) == 1 })
		r := sub.requests()[0]
		if sigs := strings.Fields(r.header.Get("webhook-signature")); len(sigs) != 2 {
			t.Fatalf("webhook-signature %q, want two v1 signatures", r.header.Get("webhook-signature"))
		}
		for _, secret := range []string{s.Secret, rotated.Secret} {
			v, _ := standardwebhooks.NewWebhook(secret)
			if err := v.Verify(r.body, r.header); err != nil {
				t.Fatalf("a receiver holding one of the two secrets refused: %v", err)
			}
		}
		// Without overlap the old secret stops at once.
		again, err := b.svc.Rotate(ctx, s.ID, 0)
		storetest.Must(t, err, "rotate again")
		_, err = b.svc.Test(ctx, s.ID, events.RunFailed)
		storetest.Must(t, err, "test event")
		waitfor.Until(t, 20*time.Second, "the test delivery", func() bool { return len(sub.requests()) == 2 })
		r = sub.requests()[1]
		if sigs := strings.Fields(r.header.Get("webhook-signature")); len(sigs) != 1 {
			t.Fatalf("after a rotation without overlap: %q", r.header.Get("webhook-signature"))
		}
		old, _ := standardwebhooks.NewWebhook(rotated.Secret)
		if err := old.Verify(r.body, r.header); err == nil {
			t.Fatal("the rotated-out secret still verifies")
		}
		cur, _ := standardwebhooks.NewWebhook(again.Secret)
		storetest.Must(t, cur.Verify(r.body, r.header), "current secret")
		if !strings.Contains(string(r.body), `"test":true`) || !strings.Contains(string(r.body), `"type":"run.failed"`) {
			t.Fatalf("test event body %s", r.body)
		}
	})
}

func TestSubscriptionInputIsChecked(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		b := setup(t, dialect, events.DispatcherOptions{})
		bad := "ftp://x"
		nope := "nope"
		_, err := b.svc.Create(ctx, events.Input{URL: &bad, Events: []string{"run.exploded"}, WorkflowID: &nope,
			Headers: &map[string]string{"webhook-signature": "x"}})
		inv, ok := err.(*events.InvalidError)
		if !ok {
			t.Fatalf("err %v", err)
		}
		for _, k := range []string{"url", "events[0]", "workflow_id", "headers.webhook-signature"} {
			if inv.Problems[k] == "" {
				t.Errorf("no problem for %s: %v", k, inv.Problems)
			}
		}
		subs, _ := b.svc.List(ctx)
		if len(subs) != 0 {
			t.Fatalf("a refused subscription was stored: %+v", subs)
		}
	})
}

func TestResealMovesSubscriptionSecretsToTheNewKey(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		st := storetest.Open(t, dialect)
		file := filepath.Join(t.TempDir(), "secret.key")
		ring, _, err := secrets.LoadOrCreateFile(file)
		storetest.Must(t, err, "keys")
		url := "https://example.com/x"
		v, err := events.NewService(st, ring, nil).Create(ctx, events.Input{URL: &url, Events: []string{"*"}})
		storetest.Must(t, err, "create")
		rotated, err := secrets.RotateFile(file)
		storetest.Must(t, err, "rotate key")
		n, err := events.NewService(st, rotated, nil).Reseal(ctx)
		storetest.Must(t, err, "reseal")
		sub, err := st.GetSubscription(ctx, v.ID)
		storetest.Must(t, err, "get")
		if n != 1 || secrets.KeyID(sub.SecretSealed) != rotated.Primary() || secrets.KeyID(sub.SecretSealed) == ring.Primary() {
			t.Fatalf("resealed %d, key %s, primary %s", n, secrets.KeyID(sub.SecretSealed), rotated.Primary())
		}
		if n, _ := events.NewService(st, rotated, nil).Reseal(ctx); n != 0 {
			t.Fatalf("second reseal changed %d", n)
		}
	})
}
