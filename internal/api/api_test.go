package api_test

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
	_ "github.com/switchboard-dev/switchboard/connectors/all"
	"github.com/switchboard-dev/switchboard/internal/api"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/flows"
	"github.com/switchboard-dev/switchboard/internal/netguard"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/trigger/form"
	"github.com/switchboard-dev/switchboard/internal/trigger/webhook"
)

type bundle struct {
	st      *store.Store
	srv     *httptest.Server
	key     string // an admin API key, sent by do
	auth    *auth.Service
	handler http.Handler
}

func setup(t *testing.T, dialect string) *bundle {
	t.Helper()
	return setupWith(t, dialect, webhook.Options{MaxBody: 1024})
}

func setupWith(t *testing.T, dialect string, wo webhook.Options) *bundle {
	t.Helper()
	return setupOn(t, storetest.Open(t, dialect), wo)
}

// setupOn builds the API over an already opened store.
func setupOn(t *testing.T, st *store.Store, wo webhook.Options, tweak ...func(*api.Deps)) *bundle {
	t.Helper()
	_, err := engine.MigrateQueue(context.Background(), st)
	storetest.Must(t, err, "queue migrations")
	log := slog.New(slog.DiscardHandler)
	// Insert-only engine: runs stay queued, so tests see exactly what the
	// webhook committed.
	loopback, _ := netguard.ParseAllowList("127.0.0.1")
	eng, err := engine.New(st, engine.Options{Registry: connectors.Default, Logger: log,
		Outbound: netguard.Options{Policy: loopback}})
	storetest.Must(t, err, "engine")
	authSvc := auth.New(st, auth.Options{})
	deps := api.Deps{
		Store: st, Flows: flows.New(st, connectors.Default, "http://sb.test"),
		Webhooks: webhook.New(st, eng, eng, withLogger(wo, log)), Registry: connectors.Default, Runs: eng, Logger: log,
		Forms: form.New(st, eng, form.Options{TrustedProxies: wo.TrustedProxies, Now: wo.Now, Logger: log}),
		Auth:  authSvc, PublicURL: "http://sb.test",
	}
	for _, f := range tweak {
		f(&deps)
	}
	h := api.New(deps)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	_, key, err := authSvc.NewAPIKey(context.Background(), "tests", auth.RoleAdmin, "test")
	storetest.Must(t, err, "API key")
	return &bundle{st: st, srv: srv, key: key, auth: authSvc, handler: h}
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (b *bundle) do(t *testing.T, method, path, contentType, body string) response {
	t.Helper()
	return b.doAs(t, b.key, method, path, contentType, body)
}

// doAs sends a request with an API key ("" sends none).
func (b *bundle) doAs(t *testing.T, key, method, path, contentType, body string) response {
	t.Helper()
	req, _ := http.NewRequest(method, b.srv.URL+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
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

const validDoc = `{"schema":"switchboard/v1","name":"orders","trigger":{"type":"webhook","webhook":{"methods":["POST"]}},"steps":[
 {"id":"big","type":"filter","if":"trigger.body.total > 100"},
 {"id":"msg","type":"map","fields":{"text":"Order {{ trigger.body.id }}"}}]}`

func (b *bundle) createWorkflow(t *testing.T) (id, hookPath string) {
	t.Helper()
	r := b.do(t, "POST", "/api/v1/workflows", "application/json", validDoc)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	url, _ := r.body["webhook_url"].(string)
	if !strings.HasPrefix(url, "http://sb.test/hooks/") || len(url) < len("http://sb.test/hooks/")+32 {
		t.Fatalf("webhook_url = %q, want an unguessable /hooks/ URL", url)
	}
	return r.body["id"].(string), strings.TrimPrefix(url, "http://sb.test")
}

func (b *bundle) runCount(t *testing.T, workflowID string) int {
	t.Helper()
	runs, _, err := b.st.ListRuns(context.Background(), store.RunFilter{WorkflowID: workflowID})
	storetest.Must(t, err, "list runs")
	return len(runs)
}

func TestInvalidWorkflowGets422NamingTheFieldPath(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		doc := `{"schema":"switchboard/v1","name":"x","trigger":{"type":"webhook"},"steps":[
		 {"id":"big","type":"filter","if":"trigger.body.totl >"},
		 {"id":"msg","type":"map","fields":{"text":"{{ trigger.body. }}"}}]}`
		r := b.do(t, "POST", "/api/v1/workflows", "application/json", doc)
		if r.status != 422 || r.header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("status %d, type %q: %s", r.status, r.header.Get("Content-Type"), r.raw)
		}
		paths := map[string]map[string]any{}
		for _, e := range r.body["errors"].([]any) {
			fe := e.(map[string]any)
			paths[fe["path"].(string)] = fe
		}
		if fe := paths["steps[0].if"]; fe == nil || fe["step"] != "big" || fe["column"] == nil {
			t.Fatalf("no positioned error for steps[0].if: %s", r.raw)
		}
		if paths["steps[1].fields.text"] == nil {
			t.Fatalf("no error for steps[1].fields.text: %s", r.raw)
		}
		list := b.do(t, "GET", "/api/v1/workflows", "", "")
		if n := len(list.body["items"].([]any)); n != 0 {
			t.Fatalf("an invalid workflow was stored (%d listed)", n)
		}
	})
}

func TestWebhookAcceptsAndRejects(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		id, hook := b.createWorkflow(t)

		cases := []struct {
			name, method, path, ctype, body string
			status                          int
			detail                          string
		}{
			{"unknown token", "POST", "/hooks/not-a-token", "application/json", `{}`, 404, "no webhook endpoint"},
			{"not JSON", "POST", hook, "application/json", `{"total": 25`, 400, "not valid JSON"},
			{"wrong method", "PUT", hook, "application/json", `{}`, 405, "method PUT"},
			{"too large", "POST", hook, "application/json", `{"pad":"` + strings.Repeat("x", 2000) + `"}`, 413, "larger than"},
		}
		for _, c := range cases {
			r := b.do(t, c.method, c.path, c.ctype, c.body)
			if r.status != c.status || !strings.Contains(r.raw, c.detail) {
				t.Errorf("%s: %d %s, want %d containing %q", c.name, r.status, r.raw, c.status, c.detail)
			}
		}
		if n := b.runCount(t, id); n != 0 {
			t.Fatalf("rejected requests started %d runs", n)
		}
		r := b.do(t, "POST", hook, "application/json", `{"id":1,"total":250}`)
		if r.status != 202 || r.body["run_id"] == nil {
			t.Fatalf("valid webhook: %d %s", r.status, r.raw)
		}
		run, err := b.st.GetRun(context.Background(), r.body["run_id"].(string))
		storetest.Must(t, err, "the acknowledged run is not stored")
		if run.State != store.RunQueued || !strings.Contains(string(run.Trigger), `"total"`) {
			t.Fatalf("run = %+v", run)
		}
		var jobs int
		storetest.Must(t, b.st.SQLDB().QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'run'`).Scan(&jobs), "count jobs")
		if jobs != 1 {
			t.Fatalf("%d queue jobs, want 1", jobs)
		}
		detail := b.do(t, "GET", "/api/v1/runs/"+run.ID, "", "")
		if detail.status != 200 || detail.body["state"] != "queued" {
			t.Fatalf("run detail: %d %s", detail.status, detail.raw)
		}
		list := b.do(t, "GET", "/api/v1/runs?workflow="+id, "", "")
		if items := list.body["items"].([]any); len(items) != 1 {
			t.Fatalf("runs list: %s", list.raw)
		}
	})
}

func TestWebhookAnswers503WhenDatabaseIsDown(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		_, hook := b.createWorkflow(t)
		b.st.Close()
		r := b.do(t, "POST", hook, "application/json", `{"total":1}`)
		if r.status != 503 || r.header.Get("Retry-After") == "" {
			t.Fatalf("webhook with the database down: %d %s, want 503 with Retry-After", r.status, r.raw)
		}
		if rz := b.do(t, "GET", "/readyz", "", ""); rz.status != 503 {
			t.Fatalf("readyz with the database down: %d", rz.status)
		}
	})
}

func TestWorkflowUpdateMakesANewVersionAndExportRoundTrips(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		id, _ := b.createWorkflow(t)
		upd := b.do(t, "PUT", "/api/v1/workflows/"+id, "application/json", strings.Replace(validDoc, `"orders"`, `"orders v2"`, 1))
		if upd.status != 200 || upd.body["version"] != 2.0 || upd.body["name"] != "orders v2" {
			t.Fatalf("update: %d %s", upd.status, upd.raw)
		}
		exp := b.do(t, "GET", "/api/v1/workflows/"+id+"/export", "", "")
		imp := b.do(t, "POST", "/api/v1/workflows", "application/json", exp.raw)
		if imp.status != 201 {
			t.Fatalf("re-import of export: %d %s", imp.status, imp.raw)
		}
		again := b.do(t, "GET", "/api/v1/workflows/"+imp.body["id"].(string)+"/export", "", "")
		if again.raw != exp.raw {
			t.Fatalf("export → import → export changed the document:\n%s\n%s", exp.raw, again.raw)
		}
		if r := b.do(t, "GET", "/api/v1/workflows/nope", "", ""); r.status != 404 {
			t.Fatalf("unknown workflow: %d", r.status)
		}
		if r := b.do(t, "GET", "/api/v1/nothing", "", ""); r.status != 404 || r.header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("unknown API route: %d %s", r.status, r.header.Get("Content-Type"))
		}
	})
}

func TestCancelAndReplayRuns(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		id, hook := b.createWorkflow(t)
		r := b.do(t, "POST", hook, "application/json", `{"id":1,"total":250}`)
		runID := r.body["run_id"].(string)

		c := b.do(t, "POST", "/api/v1/runs/"+runID+"/cancel", "", "")
		if c.status != 200 || c.body["state"] != "canceled" {
			t.Fatalf("cancel: %d %s", c.status, c.raw)
		}
		if again := b.do(t, "POST", "/api/v1/runs/"+runID+"/cancel", "", ""); again.status != 409 {
			t.Fatalf("second cancel: %d %s", again.status, again.raw)
		}
		if bad := b.do(t, "POST", "/api/v1/runs/"+runID+"/replay", "application/json", `{"from":"failed"}`); bad.status != 409 {
			t.Fatalf("replay of a canceled run from its failed step: %d %s", bad.status, bad.raw)
		}
		rp := b.do(t, "POST", "/api/v1/runs/"+runID+"/replay", "application/json", `{"from":"start","version":"current"}`)
		if rp.status != 202 || rp.body["replay_of"] != runID || rp.body["state"] != "queued" {
			t.Fatalf("replay: %d %s", rp.status, rp.raw)
		}
		orig, _ := b.st.GetRun(context.Background(), runID)
		copyRun, _ := b.st.GetRun(context.Background(), rp.body["id"].(string))
		if string(copyRun.Trigger) != string(orig.Trigger) {
			t.Fatal("the replay did not reuse the recorded trigger input")
		}
		if bulk := b.do(t, "POST", "/api/v1/runs/replay", "application/json", `{"state":"canceled"}`); bulk.status != 400 {
			t.Fatalf("bulk replay without workflow: %d", bulk.status)
		}
		bulk := b.do(t, "POST", "/api/v1/runs/replay", "application/json", `{"workflow":"`+id+`","state":"canceled"}`)
		if bulk.status != 202 || bulk.body["replayed"] != 1.0 {
			t.Fatalf("bulk replay: %d %s", bulk.status, bulk.raw)
		}
		if nf := b.do(t, "POST", "/api/v1/runs/nope/cancel", "", ""); nf.status != 404 {
			t.Fatalf("cancel of an unknown run: %d", nf.status)
		}
	})
}

func withLogger(o webhook.Options, log *slog.Logger) webhook.Options {
	o.Logger = log
	return o
}

func TestMetricsCountRunsAndResponses(t *testing.T) {
	b := setup(t, store.SQLite)
	_, hook := b.createWorkflow(t)
	b.do(t, "POST", hook, "application/json", `{"total":500}`)
	r := b.doAs(t, "", "GET", "/metrics", "", "")
	if r.status != 200 || !strings.Contains(r.raw, `switchboard_runs{state="queued"} 1`) ||
		!strings.Contains(r.raw, `switchboard_http_responses_total{code="2xx"}`) || !strings.Contains(r.raw, "switchboard_queue_jobs") {
		t.Fatalf("metrics: %d\n%s", r.status, r.raw)
	}
}

func TestTestOneActionStep(t *testing.T) {
	b := setup(t, store.SQLite)
	var got string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		got = string(raw)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"reserved":true}`)
	}))
	defer rcv.Close()
	step := `{"id":"post","type":"action","action":"http.request","input":{"method":"POST","url":"` + rcv.URL + `","json":{"sku":"{{ trigger.body.sku }}"}}}`
	r := b.do(t, "POST", "/api/v1/steps/test", "application/json", `{"step":`+step+`,"data":{"trigger":{"body":{"sku":"A-1"}}}}`)
	out, _ := r.body["output"].(map[string]any)
	if r.status != 200 || r.body["ok"] != true || got != `{"sku":"A-1"}` || out["body"].(map[string]any)["reserved"] != true {
		t.Fatalf("test step: %d %s (receiver got %q)", r.status, r.raw, got)
	}
	bad := b.do(t, "POST", "/api/v1/steps/test", "application/json", `{"step":{"id":"post","type":"action","action":"http.request","input":{}},"data":{}}`)
	if bad.status != 200 || bad.body["ok"] != false || !strings.Contains(bad.raw, "bad_input") || !strings.Contains(bad.raw, "url") {
		t.Fatalf("missing url: %d %s", bad.status, bad.raw)
	}
	if r := b.do(t, "POST", "/api/v1/steps/test", "application/json", `{"step":{"id":"m","type":"map","fields":{"a":1}}}`); r.status != 400 {
		t.Fatalf("a map step: %d", r.status)
	}
}

// A filter's expression and a map's template are not stored per run: the
// run detail shows them as each record's input, from the run's version.
func TestRunDetailShowsStaticStepInputsFromTheVersion(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		_, hook := b.createWorkflow(t)
		r := b.do(t, "POST", hook, "application/json", `{"id":1,"total":250}`)
		if r.status != 202 {
			t.Fatalf("webhook: %d %s", r.status, r.raw)
		}
		runID := r.body["run_id"].(string)
		now := time.Now().UTC()
		rec := func(step, state string, out string) *store.StepRun {
			return &store.StepRun{RunID: runID, StepID: step, State: state, Output: store.JSON(out), Attempts: 1, StartedAt: now, FinishedAt: &now}
		}
		storetest.Must(t, b.st.SaveRecords(context.Background(), []*store.StepRun{
			rec("big", store.StepSucceeded, `{"passed":true}`), rec("msg", store.StepSucceeded, `{"text":"Order 1"}`)}, nil), "records")
		detail := b.do(t, "GET", "/api/v1/runs/"+runID, "", "")
		if detail.status != 200 {
			t.Fatalf("run detail: %d %s", detail.status, detail.raw)
		}
		inputs := map[string]string{}
		for _, s := range detail.body["steps"].([]any) {
			m := s.(map[string]any)
			in, _ := json.Marshal(m["input"])
			inputs[m["step_id"].(string)] = string(in)
		}
		if inputs["big"] != `{"if":"trigger.body.total \u003e 100"}` || inputs["msg"] != `{"text":"Order {{ trigger.body.id }}"}` {
			t.Fatalf("step inputs = %v, want the filter's expression and the map's template", inputs)
		}
	})
}
