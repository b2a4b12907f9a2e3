package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/connections"
	"github.com/switchboard-dev/switchboard/internal/secrets"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/trigger/webhook"
	"github.com/switchboard-dev/switchboard/internal/webhooksig"
)

var clock = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

const (
	oldSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	newSecret = "whsec_c2VjcmV0LWtleS1mb3Itc3dpdGNoYm9hcmQ="
)

func (b *bundle) createDoc(t *testing.T, doc string) (id, hook string) {
	t.Helper()
	r := b.do(t, "POST", "/api/v1/workflows", "application/json", doc)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	return r.body["id"].(string), strings.TrimPrefix(r.body["webhook_url"].(string), "http://sb.test")
}

func (b *bundle) send(t *testing.T, path string, body string, h http.Header) response {
	t.Helper()
	req, _ := http.NewRequest("POST", b.srv.URL+path, strings.NewReader(body))
	if h != nil {
		req.Header = h.Clone()
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func signed(t *testing.T, secret, body string, at time.Time, id string) http.Header {
	t.Helper()
	h, err := webhooksig.Sign(webhooksig.Config{Scheme: webhooksig.SchemeStandardWebhooks}, secret, []byte(body), at, id)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestWebhookVerificationDedupeLimitsAndInbox(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setupWith(t, dialect, webhook.Options{MaxBody: 4096, Now: func() time.Time { return clock }})
		id, hook := b.createDoc(t, `{"schema":"switchboard/v1","name":"signed","trigger":{"type":"webhook","webhook":{
			"verify":{"scheme":"standard-webhooks","secrets":["`+oldSecret+`","`+newSecret+`"],"tolerance":"5m"},
			"rate_limit":600}},
			"steps":[{"id":"m","type":"map","fields":{"t":"{{ trigger.body.total }}"}}]}`)
		body := `{"total":250}`
		type tc struct {
			name    string
			body    string
			header  http.Header
			status  int
			verdict string
			reason  string
		}
		first := signed(t, newSecret, body, clock, "msg_1")
		tampered := signed(t, newSecret, body, clock, "msg_2")
		huge := `{"pad":"` + strings.Repeat("x", 5000) + `"}`
		cases := []tc{
			{"valid, current secret", body, first, 202, store.VerdictAccepted, ""},
			{"valid, rotated-out secret still accepted", body, signed(t, oldSecret, body, clock, "msg_3"), 202, store.VerdictAccepted, ""},
			{"duplicate delivery", body, first, 200, store.VerdictDuplicate, "already received"},
			{"tampered body", `{"total":25000}`, tampered, 401, store.VerdictRejected, "signature"},
			{"stale timestamp", body, signed(t, newSecret, body, clock.Add(-10*time.Minute), "msg_4"), 401, store.VerdictRejected, "old"},
			{"future timestamp", body, signed(t, newSecret, body, clock.Add(10*time.Minute), "msg_5"), 401, store.VerdictRejected, "future"},
			{"unsigned", body, http.Header{}, 401, store.VerdictRejected, "webhook-"},
			{"wrong secret", body, signed(t, "whsec_YS13cm9uZy1zZWNyZXQtb2YtMTYrYnl0ZXM=", body, clock, "msg_6"), 401, store.VerdictRejected, "signature"},
			{"oversize body", huge, signed(t, newSecret, huge, clock, "msg_7"), 413, store.VerdictRejected, "larger than"},
		}
		accepted := 0
		for _, c := range cases {
			r := b.send(t, hook, c.body, c.header)
			if r.status != c.status {
				t.Fatalf("%s: status %d %s, want %d", c.name, r.status, r.raw, c.status)
			}
			if c.status == 202 {
				accepted++
			}
			if c.status == 200 && r.body["duplicate"] != true {
				t.Fatalf("%s: %s", c.name, r.raw)
			}
			inbox := b.do(t, "GET", "/api/v1/workflows/"+id+"/inbox?limit=1", "", "")
			entry := inbox.body["items"].([]any)[0].(map[string]any)
			if entry["verdict"] != c.verdict || !strings.Contains(strings.ToLower(entry["reason"].(string)), c.reason) {
				t.Fatalf("%s: inbox entry %v, want verdict %s with reason containing %q", c.name, entry, c.verdict, c.reason)
			}
		}
		if n := b.runCount(t, id); n != accepted {
			t.Fatalf("%d runs for %d accepted requests", n, accepted)
		}
	})
}

func TestWebhookIPRateEventsAndTestURL(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setupWith(t, dialect, webhook.Options{MaxBody: 4096, Now: func() time.Time { return clock }})
		ipID, ipHook := b.createDoc(t, `{"schema":"switchboard/v1","name":"ip","trigger":{"type":"webhook","webhook":{
			"verify":{"scheme":"none","allow_ips":["10.0.0.0/8"]}}},"steps":[{"id":"m","type":"map","fields":{"a":1}}]}`)
		if r := b.send(t, ipHook, `{}`, nil); r.status != 403 {
			t.Fatalf("refused IP: %d %s", r.status, r.raw)
		}
		if n := b.runCount(t, ipID); n != 0 {
			t.Fatalf("refused IP started %d runs", n)
		}
		b.lastInbox(t, ipID, store.VerdictRejected, "not allowed")

		rlID, rlHook := b.createDoc(t, `{"schema":"switchboard/v1","name":"limited","trigger":{"type":"webhook","webhook":{"rate_limit":6}},
			"steps":[{"id":"m","type":"map","fields":{"a":1}}]}`)
		ok, limited := 0, 0
		for i := 0; i < 15; i++ {
			r := b.send(t, rlHook, `{}`, nil)
			switch r.status {
			case 202:
				ok++
			case 429:
				limited++
				if r.header.Get("Retry-After") == "" {
					t.Fatal("429 without Retry-After")
				}
			default:
				t.Fatalf("rate-limited endpoint answered %d", r.status)
			}
		}
		if ok != 10 || limited != 5 {
			t.Fatalf("%d accepted and %d limited, want 10 (the burst) and 5", ok, limited)
		}
		if n := b.runCount(t, rlID); n != ok {
			t.Fatalf("%d runs for %d accepted", n, ok)
		}
		b.lastInbox(t, rlID, store.VerdictRejected, "rate limit")

		evID, evHook := b.createDoc(t, `{"schema":"switchboard/v1","name":"events","trigger":{"type":"webhook","webhook":{
			"events":{"header":"X-GitHub-Event","accept":["push"]}}},"steps":[{"id":"m","type":"map","fields":{"a":1}}]}`)
		if r := b.send(t, evHook, `{}`, http.Header{"X-Github-Event": {"issues"}}); r.status != 202 || r.body["ignored"] != true {
			t.Fatalf("ignored event: %d %s", r.status, r.raw)
		}
		if r := b.send(t, evHook, `{}`, http.Header{"X-Github-Event": {"push"}}); r.status != 202 || r.body["run_id"] == nil {
			t.Fatalf("accepted event: %d %s", r.status, r.raw)
		}
		if n := b.runCount(t, evID); n != 1 {
			t.Fatalf("event filter: %d runs, want 1", n)
		}
		if r := b.do(t, "GET", "/api/v1/workflows/"+evID+"/inbox?verdict=ignored", "", ""); len(r.body["items"].([]any)) != 1 {
			t.Fatalf("ignored event not in the inbox: %s", r.raw)
		}

		// The test URL keeps the request as sample data and runs nothing.
		if r := b.send(t, evHook+"/test", `<order id="7"><total>250</total><item>a</item><item>b</item></order>`,
			http.Header{"Content-Type": {"application/xml"}}); r.status != 200 || r.body["captured"] != true {
			t.Fatalf("test URL: %d %s", r.status, r.raw)
		}
		s := b.do(t, "GET", "/api/v1/workflows/"+evID+"/sample", "", "")
		order := s.body["sample"].(map[string]any)["body"].(map[string]any)["order"].(map[string]any)
		if order["@id"] != "7" || order["total"] != "250" || len(order["item"].([]any)) != 2 {
			t.Fatalf("XML sample = %v", order)
		}
		if n := b.runCount(t, evID); n != 1 {
			t.Fatal("the test URL started a run")
		}

		// Rotating the token retires the old URL.
		rot := b.do(t, "POST", "/api/v1/workflows/"+evID+"/webhook/rotate", "", "")
		if rot.status != 200 || strings.HasSuffix(rot.body["webhook_url"].(string), evHook) {
			t.Fatalf("rotate: %d %s", rot.status, rot.raw)
		}
		if r := b.send(t, evHook, `{}`, http.Header{"X-Github-Event": {"push"}}); r.status != 404 {
			t.Fatalf("old URL after rotation: %d", r.status)
		}
	})
}

func TestWebhookParsesFormAndMultipart(t *testing.T) {
	b := setupWith(t, store.SQLite, webhook.Options{MaxBody: 4096})
	id, hook := b.createDoc(t, `{"schema":"switchboard/v1","name":"forms","trigger":{"type":"webhook"},
		"steps":[{"id":"m","type":"map","fields":{"a":1}}]}`)
	b.send(t, hook+"/test", "name=Ada&tag=a&tag=b", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	s := b.do(t, "GET", "/api/v1/workflows/"+id+"/sample", "", "")
	form := s.body["sample"].(map[string]any)["body"].(map[string]any)
	if form["name"] != "Ada" || len(form["tag"].([]any)) != 2 {
		t.Fatalf("form sample = %v", form)
	}
	mp := "--XX\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nada@example.com\r\n" +
		"--XX\r\nContent-Disposition: form-data; name=\"cv\"; filename=\"cv.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1\r\n--XX--\r\n"
	b.send(t, hook+"/test", mp, http.Header{"Content-Type": {"multipart/form-data; boundary=XX"}})
	s = b.do(t, "GET", "/api/v1/workflows/"+id+"/sample", "", "")
	fields := s.body["sample"].(map[string]any)["body"].(map[string]any)
	if fields["email"] != "ada@example.com" || fields["cv"].(map[string]any)["filename"] != "cv.pdf" {
		t.Fatalf("multipart sample = %v", fields)
	}
}

func TestFormTokenOpensNoWebhook(t *testing.T) {
	b := setupWith(t, store.SQLite, webhook.Options{MaxBody: 4096})
	r := b.do(t, "POST", "/api/v1/workflows", "application/json", `{"schema":"switchboard/v1","name":"form","trigger":{"type":"form",
		"form":{"fields":[{"key":"email","label":"E-mail","type":"email","required":true}]}},
		"steps":[{"id":"m","type":"map","fields":{"a":1}}]}`)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	token := strings.TrimPrefix(r.body["form_url"].(string), "http://sb.test/forms/")
	if res := b.send(t, "/hooks/"+token, `{"email":"x@y.z"}`, nil); res.status != 404 {
		t.Fatalf("POST /hooks/<form token> = %d, want 404: the form's checks must not be skipped", res.status)
	}
	if n := b.runCount(t, r.body["id"].(string)); n != 0 {
		t.Fatalf("%d runs started through the webhook door", n)
	}
}

func TestScheduleTriggerValidationAndNextFireTimes(t *testing.T) {
	b := setup(t, store.SQLite)
	bad := b.do(t, "POST", "/api/v1/workflows", "application/json", `{"schema":"switchboard/v1","name":"s","trigger":{"type":"schedule",
		"schedule":{"cron":"61 * * *","timezone":"Mars/Base","misfire":"sometimes"}},"steps":[{"id":"m","type":"map","fields":{"a":1}}]}`)
	if bad.status != 422 {
		t.Fatalf("bad schedule: %d %s", bad.status, bad.raw)
	}
	for _, p := range []string{"trigger.schedule.timezone", "trigger.schedule.misfire"} {
		if !strings.Contains(bad.raw, `"path":"`+p+`"`) {
			t.Fatalf("no error at %s: %s", p, bad.raw)
		}
	}
	badCron := b.do(t, "POST", "/api/v1/workflows", "application/json", `{"schema":"switchboard/v1","name":"s","trigger":{"type":"schedule",
		"schedule":{"cron":"61 * * *"}},"steps":[{"id":"m","type":"map","fields":{"a":1}}]}`)
	if badCron.status != 422 || !strings.Contains(badCron.raw, `"path":"trigger.schedule.cron"`) {
		t.Fatalf("bad cron: %d %s", badCron.status, badCron.raw)
	}
	ok := b.do(t, "POST", "/api/v1/workflows", "application/json", `{"schema":"switchboard/v1","name":"s","trigger":{"type":"schedule",
		"schedule":{"cron":"30 2 * * *","timezone":"Europe/Berlin","misfire":"run_once"}},"steps":[{"id":"m","type":"map","fields":{"a":1}}]}`)
	if ok.status != 201 {
		t.Fatalf("create: %d %s", ok.status, ok.raw)
	}
	info := b.do(t, "GET", "/api/v1/workflows/"+ok.body["id"].(string)+"/schedule", "", "")
	next, _ := info.body["next"].([]any)
	if info.status != 200 || len(next) != 5 || !strings.Contains(next[0].(string), "T02:30:00+0") || info.body["description"] == "" {
		t.Fatalf("schedule info: %d %s", info.status, info.raw)
	}
}

// lastInbox checks the newest inbox entry's verdict and reason.
func (b *bundle) lastInbox(t *testing.T, workflowID, verdict, reason string) {
	t.Helper()
	r := b.do(t, "GET", "/api/v1/workflows/"+workflowID+"/inbox?limit=1", "", "")
	items, _ := r.body["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("inbox empty: %s", r.raw)
	}
	e := items[0].(map[string]any)
	if e["verdict"] != verdict || !strings.Contains(strings.ToLower(e["reason"].(string)), reason) {
		t.Fatalf("inbox entry %v, want %s with %q", e, verdict, reason)
	}
}

func TestWebhookSecretsFromAConnection(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ring, _, err := secrets.LoadOrCreateFile(filepath.Join(t.TempDir(), "secret.key"))
		storetest.Must(t, err, "keys")
		conns := connections.New(st, connectors.Default, ring)
		b := setupOn(t, st, webhook.Options{MaxBody: 4096, Now: func() time.Time { return clock }, Secrets: conns})
		c, err := conns.Create(context.Background(), connections.Input{Name: "shop-secret", Connector: "webhook",
			Fields: map[string]string{"secret": oldSecret}})
		storetest.Must(t, err, "connection")
		id, hook := b.createDoc(t, `{"schema":"switchboard/v1","name":"signed","trigger":{"type":"webhook","webhook":{
			"verify":{"scheme":"standard-webhooks","connection":"shop-secret"}}},
			"steps":[{"id":"m","type":"map","fields":{"a":1}}]}`)
		body := `{"total":1}`
		if r := b.send(t, hook, body, signed(t, oldSecret, body, clock, "msg_a")); r.status != 202 {
			t.Fatalf("signed with the connection's secret: %d %s", r.status, r.raw)
		}
		if r := b.send(t, hook, body, signed(t, newSecret, body, clock, "msg_b")); r.status != 401 {
			t.Fatalf("signed with another secret: %d", r.status)
		}
		// Rotating the secret in the connection applies at once.
		_, err = conns.Update(context.Background(), c.ID, connections.Input{Fields: map[string]string{"secret": newSecret}})
		storetest.Must(t, err, "rotate")
		if r := b.send(t, hook, body, signed(t, newSecret, body, clock, "msg_c")); r.status != 202 {
			t.Fatalf("after rotation, new secret: %d %s", r.status, r.raw)
		}
		if r := b.send(t, hook, body, signed(t, oldSecret, body, clock, "msg_d")); r.status != 401 {
			t.Fatalf("after rotation, old secret: %d", r.status)
		}
		if n := b.runCount(t, id); n != 2 {
			t.Fatalf("%d runs, want 2", n)
		}
	})
}
