package api_test

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/connectors/declarative"
	"github.com/switchboard-dev/switchboard/connectors/declarative/builtin"
	"github.com/switchboard-dev/switchboard/internal/api"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/connections"
	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/flows"
	"github.com/switchboard-dev/switchboard/internal/netguard"
	"github.com/switchboard-dev/switchboard/internal/secrets"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/trigger/webhook"
)

// connectorsBundle is a server whose API, engine and connections share one
// registry that a declarative Loader fills, as `switchboard serve` wires it.
type connectorsBundle struct {
	*bundle
	reg *connectors.Registry
	dir string
}

// setupConnectors starts a server with a running engine (runs execute) that
// may reach 127.0.0.1. The registry lacks the embedded Pipedrive, so the test
// can upload it as an admin would on an instance that does not ship it.
func setupConnectors(t *testing.T, dialect string) *connectorsBundle {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t, dialect)
	_, err := engine.MigrateQueue(ctx, st)
	storetest.Must(t, err, "queue migrations")
	log := slog.New(slog.DiscardHandler)
	reg := connectors.Default.Clone()
	reg.Remove("pipedrive")
	dir := filepath.Join(t.TempDir(), "connectors")
	loader := declarative.NewLoader(reg, declarative.Options{Dir: dir, Logger: log})
	storetest.Must(t, loader.Start(t.Context()), "loader")
	ring, _, err := secrets.LoadOrCreateFile(filepath.Join(t.TempDir(), "secret.key"))
	storetest.Must(t, err, "keys")
	conns := connections.New(st, reg, ring)
	policy, _ := netguard.ParseAllowList("127.0.0.1")
	eng, err := engine.New(st, engine.Options{Queue: engine.QueueOptions{Workers: 2}, Registry: reg, Credentials: conns,
		Outbound: netguard.Options{Policy: policy}, Logger: log})
	storetest.Must(t, err, "engine")
	storetest.Must(t, eng.Start(ctx), "start engine")
	t.Cleanup(func() { eng.Stop(context.Background()) })
	authSvc := auth.New(st, auth.Options{})
	h := api.New(api.Deps{
		Store: st, Flows: flows.New(st, reg, "http://sb.test"), Registry: reg, Connectors: loader, Runs: eng,
		Webhooks:    webhook.New(st, eng, eng, webhook.Options{MaxBody: 1 << 20, Logger: log}),
		Connections: conns, Auth: authSvc, PublicURL: "http://sb.test", Logger: log,
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	_, key, err := authSvc.NewAPIKey(ctx, "tests", auth.RoleAdmin, "test")
	storetest.Must(t, err, "API key")
	return &connectorsBundle{bundle: &bundle{st: st, srv: srv, key: key, auth: authSvc, handler: h}, reg: reg, dir: dir}
}

// crmLite is a connector written only in YAML, here; its base URL is set
// when the test knows its receiver.
const crmLite = `id: crm_lite
name: CRM Lite
icon: users
version: 0.1.0
description: A CRM that exists only in this test.
base_url: BASE/api
auth:
  type: header
  header: X-Api-Key
  credential: key
  fields:
    - {key: key, label: API key, secret: true, required: true}
actions:
  - id: add_lead
    name: Add a lead
    input:
      - {key: email, label: E-mail, required: true}
      - {key: score, label: Score, type: number}
    method: PUT
    path: /leads/{{ input.email }}
    body: {score: "{{ input.score }}", source: switchboard}
    output: {lead: "{{ response.body.lead_id }}"}
    sample_output: {lead: L1}
tests:
  - action: add_lead
    input: {email: a@b.c, score: 3}
    credentials: {key: k}
    expect:
      method: PUT
      path: /api/leads/a@b.c
      headers: {X-Api-Key: k}
      body: {score: 3, source: switchboard}
    response: {body: {lead_id: L9}}
    output: {lead: L9}
`

func pipedriveYAML(t *testing.T) string {
	t.Helper()
	b, err := fs.ReadFile(builtin.Files(), "pipedrive.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAdminUploadsDeclarativeConnectors(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setupConnectors(t, dialect)

		r := b.do(t, "POST", "/api/v1/connectors", "application/yaml", pipedriveYAML(t))
		if r.status != 201 || r.body["id"] != "pipedrive" || r.body["origin"] != "file" || r.body["version"] != "1.0.0" ||
			!strings.HasPrefix(r.body["hash"].(string), "sha256:") {
			t.Fatalf("upload pipedrive: %d %s", r.status, r.raw)
		}
		if spec := r.body["spec"].(map[string]any); len(spec["actions"].([]any)) != 2 {
			t.Fatalf("spec %v", spec)
		}
		if _, err := os.Stat(filepath.Join(b.dir, "pipedrive.yaml")); err != nil {
			t.Fatalf("the upload was not kept in the connectors folder: %v", err)
		}
		lite := strings.Replace(crmLite, "BASE", "https://crm-lite.example", 1)
		if r := b.do(t, "POST", "/api/v1/connectors", "application/x-yaml", lite); r.status != 201 || r.body["tests"] != 1.0 {
			t.Fatalf("upload crm_lite: %d %s", r.status, r.raw)
		}

		// A broken file is refused naming its line; the good version stays.
		broken := strings.Replace(lite, "method: PUT", "method: SEND", 1)
		r = b.do(t, "POST", "/api/v1/connectors", "application/yaml", broken)
		if r.status != 422 || r.header.Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(r.body["detail"].(string), `crm_lite.yaml:19: actions[0].method: must be GET, POST, PUT, PATCH or DELETE (got "SEND")`) {
			t.Fatalf("broken upload: %d %s", r.status, r.raw)
		}
		fe := r.body["errors"].([]any)[0].(map[string]any)
		if fe["path"] != "actions[0].method" || fe["line"] != 19.0 {
			t.Fatalf("field error %v", fe)
		}
		// So is one whose inline test fails.
		r = b.do(t, "POST", "/api/v1/connectors", "application/yaml", strings.Replace(lite, "output: {lead: L9}", "output: {lead: L8}", 1))
		if r.status != 422 || !strings.Contains(r.raw, `inline test`) || !strings.Contains(r.raw, `"line":25`) {
			t.Fatalf("failing inline test: %d %s", r.status, r.raw)
		}
		if c, _ := b.reg.Get("crm_lite"); c == nil || c.Spec().Version != "0.1.0" {
			t.Fatal("a refused upload changed the registered connector")
		}
		jsonDoc := `{"id":"pinger","name":"Pinger","version":"1","base_url":"https://ping.example",
		 "actions":[{"id":"ping","name":"Ping","method":"GET","path":"/ping","sample_output":{}}]}`
		if r := b.do(t, "POST", "/api/v1/connectors", "application/json", jsonDoc); r.status != 201 || r.body["file"] != "pinger.json" {
			t.Fatalf("JSON upload: %d %s", r.status, r.raw)
		}
		if r := b.do(t, "POST", "/api/v1/connectors", "text/plain", lite); r.status != 415 {
			t.Fatalf("text/plain upload: %d", r.status)
		}
		if r := b.do(t, "POST", "/api/v1/connectors", "application/yaml", strings.Replace(lite, "id: crm_lite", "id: http", 1)); r.status != 409 {
			t.Fatalf("upload over a built-in: %d %s", r.status, r.raw)
		}
		if r := b.do(t, "DELETE", "/api/v1/connectors/http", "", ""); r.status != 403 {
			t.Fatalf("delete a built-in: %d %s", r.status, r.raw)
		}

		list := b.do(t, "GET", "/api/v1/connectors", "", "")
		if !strings.Contains(list.raw, `"id":"pipedrive"`) || !strings.Contains(list.raw, `"id":"crm_lite"`) {
			t.Fatalf("connector list: %s", list.raw)
		}
		doc := `{"schema":"switchboard/v1","name":"leads","trigger":{"type":"webhook"},"steps":[
		 {"id":"person","type":"action","action":"pipedrive.add_person","connection":"pd","input":{"name":"{{ trigger.body.name }}"}},
		 {"id":"lead","type":"action","action":"crm_lite.add_lead","connection":"lite","input":{"email":"{{ trigger.body.email }}"}}]}`
		// Saved switched off: its connections "pd" and "lite" do not exist here (activation
		// would refuse it, naming both steps).
		if r := b.do(t, "POST", "/api/v1/workflows?active=false", "application/json", doc); r.status != 201 {
			t.Fatalf("workflow with uploaded connectors: %d %s", r.status, r.raw)
		}

		// Disabled, a connector cannot be used; enabled, it can again.
		if r := b.do(t, "POST", "/api/v1/connectors/crm_lite/disable", "", ""); r.status != 200 || r.body["enabled"] != false {
			t.Fatalf("disable: %d %s", r.status, r.raw)
		}
		if r := b.do(t, "POST", "/api/v1/workflows?active=false", "application/json", doc); r.status != 422 || !strings.Contains(r.raw, "crm_lite") {
			t.Fatalf("workflow with a disabled connector: %d %s", r.status, r.raw)
		}
		if r := b.do(t, "POST", "/api/v1/connectors/crm_lite/enable", "", ""); r.status != 200 || r.body["enabled"] != true {
			t.Fatalf("enable: %d %s", r.status, r.raw)
		}
		if r := b.do(t, "POST", "/api/v1/connectors/nope/disable", "", ""); r.status != 404 {
			t.Fatalf("disable unknown: %d", r.status)
		}
		if r := b.do(t, "DELETE", "/api/v1/connectors/pinger", "", ""); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.raw)
		}
		if _, ok := b.reg.Get("pinger"); ok {
			t.Fatal("a deleted connector is still registered")
		}
		if _, err := os.Stat(filepath.Join(b.dir, "pinger.json")); !os.IsNotExist(err) {
			t.Fatal("a deleted connector's file is still in the folder")
		}

		audit := b.do(t, "GET", "/api/v1/audit", "", "")
		for _, want := range []string{"connector.upload", "connector.disable", "connector.enable", "connector.delete"} {
			if !strings.Contains(audit.raw, `"`+want+`"`) {
				t.Errorf("audit log lacks %s: %s", want, audit.raw)
			}
		}
		if !strings.Contains(audit.raw, `"target_id":"crm_lite"`) {
			t.Errorf("audit entries do not name the connector: %s", audit.raw)
		}
	})
}

// TestUploadedConnectorsRunInAWorkflow uploads Pipedrive and a YAML-only
// connector through the API, with no rebuild, and runs a workflow that uses
// both against local receivers, through the engine that shares the API's
// registry.
func TestUploadedConnectorsRunInAWorkflow(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setupConnectors(t, dialect)
		var mu sync.Mutex
		got := map[string]*http.Request{}
		bodies := map[string]string{}
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw, _ := io.ReadAll(r.Body)
			mu.Lock()
			got[r.URL.Path], bodies[r.URL.Path] = r, string(raw)
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			switch {
			case r.URL.Path == "/v1/persons" && r.URL.Query().Get("api_token") == "pd-secret":
				w.WriteHeader(201)
				io.WriteString(w, `{"success":true,"data":{"id":42,"name":"Ada","primary_email":"ada@example.com","org_id":null,"add_time":"2024-05-01 09:30:00"}}`)
			case strings.HasPrefix(r.URL.Path, "/api/leads/") && r.Header.Get("X-Api-Key") == "lite-key":
				io.WriteString(w, `{"lead_id":"L-77"}`)
			default:
				w.WriteHeader(401)
				io.WriteString(w, `{"success":false,"error":"unauthorized access"}`)
			}
		}))
		defer recv.Close()

		for _, up := range []string{pipedriveYAML(t), strings.Replace(crmLite, "BASE", recv.URL, 1)} {
			if r := b.do(t, "POST", "/api/v1/connectors", "application/yaml", up); r.status != 201 {
				t.Fatalf("upload: %d %s", r.status, r.raw)
			}
		}
		for _, c := range []string{
			`{"name":"pd","connector":"pipedrive","fields":{"api_token":"pd-secret","base_url":"` + recv.URL + `/v1"}}`,
			`{"name":"lite","connector":"crm_lite","fields":{"key":"lite-key"}}`,
		} {
			if r := b.do(t, "POST", "/api/v1/connections", "application/json", c); r.status != 201 {
				t.Fatalf("connection: %d %s", r.status, r.raw)
			}
		}
		doc := `{"schema":"switchboard/v1","name":"leads","trigger":{"type":"webhook"},"steps":[
		 {"id":"person","type":"action","action":"pipedrive.add_person","connection":"pd",
		  "input":{"name":"{{ trigger.body.name }}","email":"{{ trigger.body.email }}"}},
		 {"id":"lead","type":"action","action":"crm_lite.add_lead","connection":"lite",
		  "input":{"email":"{{ trigger.body.email }}","score":"{{ steps.person.id }}"}}]}`
		wf := b.do(t, "POST", "/api/v1/workflows", "application/json", doc)
		if wf.status != 201 {
			t.Fatalf("workflow: %d %s", wf.status, wf.raw)
		}
		hook := strings.TrimPrefix(wf.body["webhook_url"].(string), "http://sb.test")
		r := b.do(t, "POST", hook, "application/json", `{"name":"Ada","email":"ada@example.com"}`)
		if r.status != 202 {
			t.Fatalf("webhook: %d %s", r.status, r.raw)
		}
		runID := r.body["run_id"].(string)
		if run := waitRunEnd(t, b.st, runID); run.State != store.RunSucceeded {
			detail := b.do(t, "GET", "/api/v1/runs/"+runID, "", "")
			t.Fatalf("run did not succeed: %s", detail.raw)
		}
		mu.Lock()
		defer mu.Unlock()
		p := got["/v1/persons"]
		if p == nil || p.Method != "POST" || p.URL.RawQuery != "api_token=pd-secret" || p.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("Pipedrive request %+v", p)
		}
		var person map[string]any
		_ = json.Unmarshal([]byte(bodies["/v1/persons"]), &person)
		if b, _ := json.Marshal(person); string(b) != `{"email":[{"label":"work","primary":true,"value":"ada@example.com"}],"name":"Ada"}` {
			t.Fatalf("Pipedrive body %s", b)
		}
		if l := got["/api/leads/ada@example.com"]; l == nil || l.Method != "PUT" || bodies["/api/leads/ada@example.com"] != `{"score":42,"source":"switchboard"}` {
			t.Fatalf("CRM Lite request %+v %q", l, bodies["/api/leads/ada@example.com"])
		}
		steps, _ := b.st.ListStepRuns(context.Background(), runID)
		var out map[string]any
		_ = json.Unmarshal(steps[len(steps)-1].Output, &out)
		if out["lead"] != "L-77" {
			t.Fatalf("last step output %v", out)
		}
		detail := b.do(t, "GET", "/api/v1/runs/"+runID, "", "")
		if strings.Contains(detail.raw, "pd-secret") || strings.Contains(detail.raw, "lite-key") {
			t.Fatalf("a credential appears in the run record: %s", detail.raw)
		}
	})
}
