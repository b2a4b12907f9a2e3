package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/waitfor"
)

// eventSink is a subscriber endpoint keeping every delivery.
type eventSink struct {
	mu   sync.Mutex
	got  []sunkEvent
	srv  *httptest.Server
	more chan struct{}
}

type sunkEvent struct {
	header http.Header
	body   []byte
	Type   string `json:"type"`
	ID     string `json:"id"`
}

func newEventSink(t *testing.T) *eventSink {
	s := &eventSink{more: make(chan struct{}, 100)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ev := sunkEvent{header: r.Header.Clone(), body: body}
		_ = json.Unmarshal(body, &ev)
		s.mu.Lock()
		s.got = append(s.got, ev)
		s.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		s.more <- struct{}{}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *eventSink) byType() map[string][]sunkEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]sunkEvent{}
	for _, e := range s.got {
		out[e.Type] = append(out[e.Type], e)
	}
	return out
}

// waitType waits until n events of typ arrived (at most 60 s).
func (s *eventSink) waitType(t *testing.T, typ string, n int) []sunkEvent {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		if got := s.byType()[typ]; len(got) >= n {
			return got
		}
		select {
		case <-s.more:
		case <-deadline:
			t.Fatalf("no %s event arrived; got %v", typ, s.byType())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func TestEventCommittedBeforeASigkillIsDeliveredAfterRestart(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		sink := newEventSink(t)
		in := newInstance(t, dialect, "SWITCHBOARD_EVENTS_POLL=50ms", "SWITCHBOARD_EVENTS_RETRY=200ms,200ms")
		// The API role records events but delivers none: an event it
		// commits can only reach the subscriber from the outbox, after the
		// process is gone.
		in.env = append(in.env, "SWITCHBOARD_ROLE=api")
		in.start()
		status, bad, raw := in.postJSON(t, "/api/v1/subscriptions", map[string]any{"url": "ftp://x", "events": []string{"run.exploded"}})
		if status != 422 || !strings.Contains(raw, `"events[0]"`) || !strings.Contains(raw, `"url"`) || bad["type"] == nil {
			t.Fatalf("bad subscription: %d %s", status, raw)
		}
		status, sub, raw := in.postJSON(t, "/api/v1/subscriptions", map[string]any{
			"url": sink.srv.URL + "/sb", "events": []string{"workflow.saved", "run.succeeded", "webhook.rejected"},
			"headers": map[string]string{"X-Team": "ops"}})
		if status != 201 {
			t.Fatalf("subscribe: %d %s", status, raw)
		}
		secret, _ := sub["secret"].(string)
		if !strings.HasPrefix(secret, "whsec_") {
			t.Fatalf("subscription answer %s", raw)
		}
		// The secret is shown once: never again.
		if body := in.getRaw(t, "/api/v1/subscriptions/"+sub["id"].(string)); strings.Contains(body, secret) || strings.Contains(body, "whsec_") {
			t.Fatalf("GET shows the secret: %s", body)
		}
		doc := `{"schema":"switchboard/v1","name":"Events e2e","trigger":{"type":"webhook","webhook":{"methods":["POST"]}},
			"steps":[{"id":"m","type":"map","fields":{"x":"{{ trigger.body.x }}"}}]}`
		status, wf, raw := in.postJSONRaw(t, "/api/v1/workflows", doc)
		if status != 201 {
			t.Fatalf("create workflow: %d %s", status, raw)
		}
		in.kill() // right after the commit that recorded workflow.saved
		if n := len(sink.byType()); n != 0 {
			t.Fatalf("the API role delivered events: %v", sink.byType())
		}

		in.env = append(in.env, "SWITCHBOARD_ROLE=all")
		in.start()
		saved := sink.waitType(t, "workflow.saved", 1)[0]
		verifier, err := standardwebhooks.NewWebhook(secret)
		storetest.Must(t, err, "official verifier")
		if err := verifier.Verify(saved.body, saved.header); err != nil {
			t.Fatalf("official library refused the delivery: %v", err)
		}
		if saved.header.Get("X-Team") != "ops" || !strings.Contains(string(saved.body), wf["id"].(string)) {
			t.Fatalf("delivery headers %v body %s", saved.header, saved.body)
		}

		// The engine's final-state write records run.succeeded; a GET to a
		// POST-only webhook is rejected with the reason.
		hook := wf["webhook_url"].(string)
		if status, _ := postHook(t, hook, `{"x":1}`); status != 202 {
			t.Fatalf("webhook: %d", status)
		}
		run := sink.waitType(t, "run.succeeded", 1)[0]
		storetest.Must(t, verifier.Verify(run.body, run.header), "verify run.succeeded")
		resp, err := http.Get(hook)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		rej := sink.waitType(t, "webhook.rejected", 1)[0]
		storetest.Must(t, verifier.Verify(rej.body, rej.header), "verify webhook.rejected")
		if !strings.Contains(string(rej.body), `"reason":`) || !strings.Contains(string(rej.body), "GET") {
			t.Fatalf("webhook.rejected body %s", rej.body)
		}

		// Each event once, and every attempt is listed by the API.
		var list struct {
			Items []struct {
				ID        string `json:"id"`
				EventType string `json:"event_type"`
				State     string `json:"state"`
				Attempts  int    `json:"attempts"`
			} `json:"items"`
		}
		// The sink answers before the dispatcher records the answer: wait.
		waitfor.Until(t, 30*time.Second, "three deliveries, each succeeded at the first attempt", func() bool {
			done := in.getJSON(t, "/api/v1/subscriptions/"+sub["id"].(string)+"/deliveries", &list) == 200 && len(list.Items) == 3
			for _, d := range list.Items {
				done = done && d.State == "succeeded" && d.Attempts == 1
			}
			return done
		})
		for typ, evs := range sink.byType() {
			if len(evs) != 1 {
				t.Fatalf("%s delivered %d times", typ, len(evs))
			}
		}
	})
}
