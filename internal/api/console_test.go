package api_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/api"
	"github.com/switchboard-dev/switchboard/internal/connections"
	"github.com/switchboard-dev/switchboard/internal/secrets"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/trigger/webhook"
)

func TestConsoleRunsSearchCountAndDetailLinks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		id, hook := b.createWorkflow(t)
		var runIDs []string
		for _, who := range []string{"Ada Lovelace", "Grace Hopper", "Ada Byron"} {
			r := b.do(t, "POST", hook, "application/json", `{"id":1,"total":500,"customer":"`+who+`"}`)
			if r.status != 202 {
				t.Fatalf("hook: %d %s", r.status, r.raw)
			}
			runIDs = append(runIDs, r.body["run_id"].(string))
		}

		r := b.do(t, "GET", "/api/v1/runs?q="+url.QueryEscape("ada"), "", "")
		items, _ := r.body["items"].([]any)
		if r.status != 200 || len(items) != 2 {
			t.Fatalf("runs?q=ada: %d %s, want 2 runs", r.status, r.raw)
		}
		first := items[0].(map[string]any)
		if first["id"] != runIDs[2] || first["workflow_name"] != "orders" {
			t.Fatalf("first run = %v, want the newest Ada run with its workflow's name", first)
		}
		r = b.do(t, "GET", "/api/v1/runs/count?state=queued&workflow="+id+"&q=hopper", "", "")
		if r.status != 200 || r.body["count"] != 1.0 || r.body["capped"] != false {
			t.Fatalf("count: %d %s, want 1", r.status, r.raw)
		}
		if r = b.do(t, "GET", "/api/v1/runs/count?state=bogus", "", ""); r.status != 400 || !strings.Contains(r.raw, "state must be one of") {
			t.Fatalf("bad state: %d %s", r.status, r.raw)
		}
		if r = b.do(t, "GET", "/api/v1/runs?q="+strings.Repeat("x", 201), "", ""); r.status != 400 || !strings.Contains(r.raw, "at most 200") {
			t.Fatalf("long q: %d %s", r.status, r.raw)
		}

		// A run the queue will work on later says when; one replayed links to its replay.
		due := time.Now().UTC().Add(90 * time.Second).Truncate(time.Second)
		if err := b.st.SetRunState(context.Background(), runIDs[0], store.RunWaiting); err != nil {
			t.Fatal(err)
		}
		q := `UPDATE river_job SET state = 'scheduled', scheduled_at = ? WHERE kind = 'run' AND json_extract(args, '$.run_id') = ?`
		arg := any(due.Format("2006-01-02T15:04:05.000Z")) // as River writes it on SQLite
		if dialect == store.Postgres {
			q = `UPDATE river_job SET state = 'scheduled', scheduled_at = $1 WHERE kind = 'run' AND args->>'run_id' = $2`
			arg = due
		}
		if _, err := b.st.SQLDB().Exec(q, arg, runIDs[0]); err != nil {
			t.Fatalf("scheduling the job: %v", err)
		}
		r = b.do(t, "GET", "/api/v1/runs/"+runIDs[0], "", "")
		next, _ := time.Parse(time.RFC3339, r.body["next_attempt_at"].(string))
		if r.status != 200 || !next.Equal(due) || r.body["workflow_name"] != "orders" {
			t.Fatalf("run detail: %d %s, want next_attempt_at %s", r.status, r.raw, due)
		}
		if reps, _ := r.body["replays"].([]any); len(reps) != 0 {
			t.Fatalf("replays = %v, want none", reps)
		}

		if _, err := b.st.FinishRun(context.Background(), runIDs[1], store.RunFailed, "step ping: the receiver answered 500"); err != nil {
			t.Fatal(err)
		}
		rep := b.do(t, "POST", "/api/v1/runs/"+runIDs[1]+"/replay", "application/json", `{"from":"start"}`)
		if rep.status != 202 {
			t.Fatalf("replay: %d %s", rep.status, rep.raw)
		}
		r = b.do(t, "GET", "/api/v1/runs/"+runIDs[1], "", "")
		reps, _ := r.body["replays"].([]any)
		if len(reps) != 1 || reps[0].(map[string]any)["id"] != rep.body["id"] || r.body["next_attempt_at"] != nil {
			t.Fatalf("original run: %s, want one replay %v and no next attempt", r.raw, rep.body["id"])
		}
		r = b.do(t, "GET", "/api/v1/runs/"+rep.body["id"].(string), "", "")
		if r.body["replay_of"] != runIDs[1] {
			t.Fatalf("replay: %s, want replay_of %s", r.raw, runIDs[1])
		}
	})
}

func TestConsoleDashboardRoute(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		_, hook := b.createWorkflow(t)
		var ids []string
		for range 3 {
			r := b.do(t, "POST", hook, "application/json", `{"id":1,"total":500}`)
			ids = append(ids, r.body["run_id"].(string))
		}
		ctx := context.Background()
		for _, id := range ids[:2] {
			if _, err := b.st.StartRun(ctx, id, 0); err != nil {
				t.Fatal(err)
			}
		}
		b.st.FinishRun(ctx, ids[0], store.RunSucceeded, "")
		b.st.FinishRun(ctx, ids[1], store.RunFailed, "boom")

		r := b.do(t, "GET", "/api/v1/dashboard?range=hour", "", "")
		if r.status != 200 {
			t.Fatalf("dashboard: %d %s", r.status, r.raw)
		}
		if got := r.body["buckets"].([]any); len(got) != 12 || r.body["bucket_seconds"] != 300.0 {
			t.Fatalf("hour: %d buckets of %v s, want 12 of 300", len(got), r.body["bucket_seconds"])
		}
		totals := r.body["totals"].(map[string]any)
		if totals["succeeded"] != 1.0 || totals["failed"] != 1.0 || totals["queued"] != 1.0 || r.body["success_rate"] != 0.5 {
			t.Fatalf("totals %v, success %v", totals, r.body["success_rate"])
		}
		if r.body["p50_ms"] == nil || r.body["p95_ms"] == nil {
			t.Fatalf("no durations: %s", r.raw)
		}
		failing := r.body["failing_workflows"].([]any)
		if len(failing) != 1 || failing[0].(map[string]any)["name"] != "orders" {
			t.Fatalf("failing = %v", failing)
		}
		queue := r.body["queue"].(map[string]any)
		if queue["queued"] != 1.0 || queue["oldest_queued_id"] != ids[2] {
			t.Fatalf("queue = %v, want the third run waiting", queue)
		}
		if r = b.do(t, "GET", "/api/v1/dashboard?range=year", "", ""); r.status != 400 || !strings.Contains(r.raw, "hour, day or week") {
			t.Fatalf("bad range: %d %s", r.status, r.raw)
		}
	})
}

// A step without its connection (the "Webhook → Slack" template as it comes), or naming one
// that does not exist or is for another connector, saves as a draft; validation reports it
// and activation refuses it, naming the step.
func TestConsoleMissingConnectionRefusedOnActivation(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ring, err := secrets.NewKeyring("k1", map[string][]byte{"k1": []byte("0123456789abcdef0123456789abcdef")})
		storetest.Must(t, err, "keyring")
		b := setupOn(t, st, webhook.Options{MaxBody: 1024}, func(d *api.Deps) {
			d.Connections = connections.New(st, connectors.Default, ring)
		})
		doc := func(conn string) string {
			c := ""
			if conn != "" {
				c = `,"connection":"` + conn + `"`
			}
			return `{"schema":"switchboard/v1","name":"to slack","trigger":{"type":"webhook"},"steps":[
			 {"id":"say","type":"action","action":"slack.post_message"` + c + `,"input":{"channel":"#x","text":"hi"}}]}`
		}
		for _, tc := range []struct{ conn, want string }{
			{"", "step say (slack.post_message) needs a Slack connection"},
			{"conn_0123", `step say names the connection "conn_0123", and no connection has that name`},
			{"hooks", `step say names the connection "hooks", which is for webhook, not Slack`},
		} {
			if tc.conn == "hooks" {
				if r := b.do(t, "POST", "/api/v1/connections", "application/json",
					`{"name":"hooks","connector":"webhook","fields":{"secret":"whsec_MDEyMzQ1Njc4OWFiY2RlZg=="}}`); r.status != 201 {
					t.Fatalf("connection: %d %s", r.status, r.raw)
				}
			}
			r := b.do(t, "POST", "/api/v1/workflows/validate", "application/json", doc(tc.conn))
			if r.status != 422 || !strings.Contains(firstFieldError(r.body), tc.want) || !strings.Contains(r.raw, `"path":"steps[0].connection"`) || !strings.Contains(r.raw, `"step":"say"`) {
				t.Fatalf("validate %q: %d %s, want 422 with %q", tc.conn, r.status, r.raw, tc.want)
			}
			// Created active: refused, nothing stored.
			before := b.do(t, "GET", "/api/v1/workflows", "", "")
			if r = b.do(t, "POST", "/api/v1/workflows", "application/json", doc(tc.conn)); r.status != 422 || !strings.Contains(firstFieldError(r.body), tc.want) {
				t.Fatalf("create active %q: %d %s", tc.conn, r.status, r.raw)
			}
			if after := b.do(t, "GET", "/api/v1/workflows", "", ""); len(after.body["items"].([]any)) != len(before.body["items"].([]any)) {
				t.Fatalf("a refused workflow was stored: %s", after.raw)
			}
			// Saved inactive (a draft), then activation refuses it.
			r = b.do(t, "POST", "/api/v1/workflows?active=false", "application/json", doc(tc.conn))
			if r.status != 201 {
				t.Fatalf("create inactive %q: %d %s", tc.conn, r.status, r.raw)
			}
			id := r.body["id"].(string)
			if r = b.do(t, "POST", "/api/v1/workflows/"+id+"/activate", "", ""); r.status != 422 || !strings.Contains(firstFieldError(r.body), tc.want) {
				t.Fatalf("activate %q: %d %s", tc.conn, r.status, r.raw)
			}
			if r = b.do(t, "GET", "/api/v1/workflows/"+id, "", ""); r.body["active"] != false {
				t.Fatalf("refused activation turned it on: %s", r.raw)
			}
		}

		// With a Slack connection of that name it validates and turns on.
		if r := b.do(t, "POST", "/api/v1/connections", "application/json", `{"name":"team-slack","connector":"slack","fields":{"bot_token":"xoxb-1"}}`); r.status != 201 {
			t.Fatalf("slack connection: %d %s", r.status, r.raw)
		}
		if r := b.do(t, "POST", "/api/v1/workflows/validate", "application/json", doc("team-slack")); r.status != 200 {
			t.Fatalf("validate with connection: %d %s", r.status, r.raw)
		}
		if r := b.do(t, "POST", "/api/v1/workflows", "application/json", doc("team-slack")); r.status != 201 || r.body["active"] != true {
			t.Fatalf("create with connection: %d %s", r.status, r.raw)
		}
	})
}

func firstFieldError(body map[string]any) string {
	errs, _ := body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	m, _ := errs[0].(map[string]any)
	msg, _ := m["message"].(string)
	return msg
}

// A request the webhook refused (no signature) is still in the inbox: "use as sample data"
// makes it the workflow's sample, and "send it again" runs the workflow with it, headers as
// recorded (credentials redacted).
func TestConsoleInboxResendAndUseAsSample(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		r := b.do(t, "POST", "/api/v1/workflows", "application/json", `{"schema":"switchboard/v1","name":"signed","trigger":{"type":"webhook",
		 "webhook":{"verify":{"scheme":"hmac","secrets":["s3cret-signing-key"],"header":"X-Signature","prefix":"sha256="}}},
		 "steps":[{"id":"msg","type":"map","fields":{"text":"{{ trigger.body.order }}"}}]}`)
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		id := r.body["id"].(string)
		hook := strings.TrimPrefix(r.body["webhook_url"].(string), "http://sb.test")
		if h := b.do(t, "POST", hook+"?src=shop", "application/json", `{"order":7,"customer":"Ada"}`); h.status < 400 {
			t.Fatalf("unsigned request answered %d", h.status)
		}
		inbox := b.do(t, "GET", "/api/v1/workflows/"+id+"/inbox", "", "")
		items, _ := inbox.body["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["verdict"] != "rejected" {
			t.Fatalf("inbox: %s", inbox.raw)
		}
		item := items[0].(map[string]any)["id"].(string)
		if n := b.runCount(t, id); n != 0 {
			t.Fatalf("%d runs before the resend", n)
		}

		s := b.do(t, "POST", "/api/v1/workflows/"+id+"/inbox/"+item+"/sample", "", "")
		sample, _ := s.body["sample"].(map[string]any)
		if s.status != 200 || sample["body"].(map[string]any)["customer"] != "Ada" || sample["query"].(map[string]any)["src"] != "shop" {
			t.Fatalf("use as sample: %d %s", s.status, s.raw)
		}
		if got := b.do(t, "GET", "/api/v1/workflows/"+id+"/sample", "", ""); !strings.Contains(got.raw, `"customer":"Ada"`) {
			t.Fatalf("sample afterwards: %s", got.raw)
		}

		rs := b.do(t, "POST", "/api/v1/workflows/"+id+"/inbox/"+item+"/resend", "", "")
		if rs.status != 202 {
			t.Fatalf("resend: %d %s", rs.status, rs.raw)
		}
		run := b.do(t, "GET", "/api/v1/runs/"+rs.body["id"].(string), "", "")
		trig, _ := run.body["trigger"].(map[string]any)
		headers, _ := trig["headers"].(map[string]any)
		if run.status != 200 || trig["body"].(map[string]any)["order"] != 7.0 || trig["resent_from"] != item ||
			headers["authorization"] != "[redacted]" || trig["method"] != "POST" {
			t.Fatalf("resent run: %d %s", run.status, run.raw)
		}
		if n := b.runCount(t, id); n != 1 {
			t.Fatalf("%d runs after one resend", n)
		}

		// A body the inbox kept only in part (too large) cannot be sent again.
		if h := b.do(t, "POST", hook, "application/json", `{"pad":"`+strings.Repeat("x", 3000)+`"}`); h.status != 413 {
			t.Fatalf("large body answered %d", h.status)
		}
		inbox = b.do(t, "GET", "/api/v1/workflows/"+id+"/inbox", "", "")
		big := inbox.body["items"].([]any)[0].(map[string]any)
		if r := b.do(t, "POST", "/api/v1/workflows/"+id+"/inbox/"+big["id"].(string)+"/resend", "", ""); r.status != 409 || !strings.Contains(r.raw, "only part") {
			t.Fatalf("resend of a cut body (%v bytes): %d %s", big["body_size"], r.status, r.raw)
		}

		// Another workflow's item, or none: 404, nothing started.
		other, _ := b.createWorkflow(t)
		if r := b.do(t, "POST", "/api/v1/workflows/"+other+"/inbox/"+item+"/resend", "", ""); r.status != 404 {
			t.Fatalf("resend through another workflow: %d %s", r.status, r.raw)
		}
		if r := b.do(t, "POST", "/api/v1/workflows/"+id+"/inbox/nope/sample", "", ""); r.status != 404 {
			t.Fatalf("unknown item: %d %s", r.status, r.raw)
		}
		if n := b.runCount(t, id) + b.runCount(t, other); n != 1 {
			t.Fatalf("%d runs after refused resends", n)
		}
	})
}

// A map step's fields come back in the order they were saved, not sorted.
func TestConsoleMapFieldOrderKeptOnSave(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		doc := `{"schema":"switchboard/v1","name":"order","trigger":{"type":"webhook"},"steps":[
		 {"id":"msg","type":"map","fields":{"subject":"s","body":"b","attachments":"a"}}]}`
		r := b.do(t, "POST", "/api/v1/workflows", "application/json", doc)
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		id := r.body["id"].(string)
		const want = `"fields":{"subject":"s","body":"b","attachments":"a"}`
		for _, path := range []string{"/api/v1/workflows/" + id, "/api/v1/workflows/" + id + "/versions/1", "/api/v1/workflows/" + id + "/export"} {
			if got := b.do(t, "GET", path, "", ""); !strings.Contains(got.raw, want) {
				t.Fatalf("GET %s lost the field order: %s", path, got.raw)
			}
		}
	})
}

// The editor shows a webhook URL before the first save: GET /workflows/webhook-url gives one,
// and creating the workflow with its token makes exactly that URL work.
func TestConsoleWebhookURLBeforeFirstSave(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		u := b.do(t, "GET", "/api/v1/workflows/webhook-url", "", "")
		url, _ := u.body["webhook_url"].(string)
		tok, _ := u.body["token"].(string)
		if u.status != 200 || url != "http://sb.test/hooks/"+tok || len(tok) != 32 {
			t.Fatalf("webhook-url: %d %s", u.status, u.raw)
		}
		if again := b.do(t, "GET", "/api/v1/workflows/webhook-url", "", ""); again.body["token"] == tok {
			t.Fatal("two calls gave the same token")
		}
		r := b.do(t, "POST", "/api/v1/workflows?active=true&webhook_token="+tok, "application/json", validDoc)
		if r.status != 201 || r.body["webhook_url"] != url {
			t.Fatalf("create with the token: %d %s, want webhook_url %s", r.status, r.raw, url)
		}
		if h := b.do(t, "POST", strings.TrimPrefix(url, "http://sb.test"), "application/json", `{"id":1,"total":500}`); h.status != 202 {
			t.Fatalf("the URL shown before saving: %d %s", h.status, h.raw)
		}
		// The same token twice, or one not made by the server: refused, nothing stored.
		before := b.do(t, "GET", "/api/v1/workflows", "", "")
		if r := b.do(t, "POST", "/api/v1/workflows?webhook_token="+tok, "application/json", validDoc); r.status != 409 {
			t.Fatalf("reused token: %d %s", r.status, r.raw)
		}
		if r := b.do(t, "POST", "/api/v1/workflows?webhook_token=short", "application/json", validDoc); r.status != 422 || !strings.Contains(r.raw, `"path":"webhook_token"`) {
			t.Fatalf("bad token: %d %s", r.status, r.raw)
		}
		if after := b.do(t, "GET", "/api/v1/workflows", "", ""); len(after.body["items"].([]any)) != len(before.body["items"].([]any)) {
			t.Fatalf("a refused workflow was stored")
		}
	})
}
