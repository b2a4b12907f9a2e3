package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/switchboard-dev/switchboard/internal/api"
	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/trigger/webhook"
)

// openAPI validates answers against the committed OpenAPI document (the one
// the frontend's types are generated from), made strict: an object schema
// with properties admits no others, so a field the server sends that the
// document lacks fails as surely as a required one it omits.
type openAPI struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
}

func loadOpenAPI(t *testing.T) *openAPI {
	t.Helper()
	raw, err := os.ReadFile("../../frontend/src/api/openapi.json")
	storetest.Must(t, err, "read the document")
	var doc map[string]any
	storetest.Must(t, json.Unmarshal(raw, &doc), "parse the document")
	closeObjects(doc["components"])
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	storetest.Must(t, c.AddResource("openapi.json", doc), "add the document")
	return &openAPI{doc: doc, compiler: c}
}

// closeObjects sets additionalProperties: false on every object schema that
// lists properties and says nothing of others.
func closeObjects(v any) {
	switch v := v.(type) {
	case map[string]any:
		if _, ok := v["properties"].(map[string]any); ok {
			if _, set := v["additionalProperties"]; !set {
				v["additionalProperties"] = false
			}
		}
		for _, c := range v {
			closeObjects(c)
		}
	case []any:
		for _, c := range v {
			closeObjects(c)
		}
	}
}

// check validates one answer of route ("GET /api/v1/runs/{id}") with its
// status against the document's schema for it.
func (o *openAPI) check(t *testing.T, route string, r response) {
	t.Helper()
	if err := o.validate(route, r); err != nil {
		t.Errorf("%v\nanswer: %.2000s", err, r.raw)
	}
}

func (o *openAPI) validate(route string, r response) error {
	method, path, _ := strings.Cut(route, " ")
	op, ok := o.doc["paths"].(map[string]any)[path].(map[string]any)[strings.ToLower(method)].(map[string]any)
	if !ok {
		return fmt.Errorf("%s is not in the document", route)
	}
	status := strconv.Itoa(r.status)
	resp, ok := op["responses"].(map[string]any)[status].(map[string]any)
	if !ok {
		return fmt.Errorf("%s: the document has no %s answer", route, status)
	}
	media := "application/json"
	if r.status >= 400 {
		media = "application/problem+json"
	}
	if _, ok := resp["content"].(map[string]any)[media]; !ok {
		return fmt.Errorf("%s %s: the document has no %s body", route, status, media)
	}
	if got := r.header.Get("Content-Type"); !strings.HasPrefix(got, media) {
		return fmt.Errorf("%s %s: Content-Type %q, the document says %s", route, status, got, media)
	}
	pointer := "openapi.json#/paths/" + strings.ReplaceAll(strings.ReplaceAll(path, "~", "~0"), "/", "~1") +
		"/" + strings.ToLower(method) + "/responses/" + status + "/content/" + strings.ReplaceAll(media, "/", "~1") + "/schema"
	sch, err := o.compiler.Compile(pointer)
	if err != nil {
		return fmt.Errorf("%s: compiling its schema: %w", route, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(r.raw)))
	if err != nil {
		return fmt.Errorf("%s: the answer is not JSON: %w", route, err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("%s %s does not match the document:\n%w", route, status, err)
	}
	return nil
}

// The answers of the main routes, with every kind of record filled in
// (a run that executed its steps and a delivery, an inbox entry, versions,
// problems), match the document field for field on both databases.
func TestAnswersMatchTheOpenAPIDocument(t *testing.T) {
	oa := loadOpenAPI(t)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	}))
	defer rcv.Close()
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		var eng *engine.Engine
		b := setupOn(t, storetest.Open(t, dialect), webhook.Options{MaxBody: 4096}, func(d *api.Deps) {
			eng = d.Runs.(*engine.Engine)
		})
		ctx := context.Background()
		doc := `{"schema":"switchboard/v1","name":"orders","trigger":{"type":"webhook"},"steps":[
		 {"id":"msg","type":"map","fields":{"text":"Order {{ trigger.body.id }}"}},
		 {"id":"post","type":"action","action":"http.request","input":{"method":"POST","url":"` + rcv.URL + `","json":"{{ steps.msg }}"}}]}`
		created := b.do(t, "POST", "/api/v1/workflows", "application/json", doc)
		oa.check(t, "POST /api/v1/workflows", created)
		id, _ := created.body["id"].(string)
		hook := strings.TrimPrefix(created.body["webhook_url"].(string), "http://sb.test")
		sent := b.do(t, "POST", hook, "application/json", `{"id":7}`)
		runID, _ := sent.body["run_id"].(string)
		if sent.status != 202 || runID == "" {
			t.Fatalf("webhook: %d %s", sent.status, sent.raw)
		}
		storetest.Must(t, eng.Execute(ctx, runID), "execute the run")
		b.do(t, "POST", hook, "text/plain", "not json") // a rejected request in the inbox, too
		schedule := b.do(t, "POST", "/api/v1/workflows", "application/json", `{"schema":"switchboard/v1","name":"daily",
			"trigger":{"type":"schedule","schedule":{"cron":"@daily"}},"steps":[{"id":"m","type":"map","fields":{"a":1}}]}`)

		for route, path := range map[string]string{
			"GET /api/v1/workflows":                         "/api/v1/workflows",
			"GET /api/v1/workflows/{id}":                    "/api/v1/workflows/" + id,
			"GET /api/v1/workflows/{id}/versions":           "/api/v1/workflows/" + id + "/versions",
			"GET /api/v1/workflows/{id}/versions/{version}": "/api/v1/workflows/" + id + "/versions/1",
			"GET /api/v1/workflows/{id}/inbox":              "/api/v1/workflows/" + id + "/inbox",
			"GET /api/v1/workflows/{id}/export":             "/api/v1/workflows/" + id + "/export",
			"GET /api/v1/workflows/{id}/sample":             "/api/v1/workflows/" + id + "/sample",
			"GET /api/v1/workflows/{id}/schedule":           "/api/v1/workflows/" + schedule.body["id"].(string) + "/schedule",
			"GET /api/v1/runs":                              "/api/v1/runs",
			"GET /api/v1/runs/{id}":                         "/api/v1/runs/" + runID,
			"GET /api/v1/runs/count":                        "/api/v1/runs/count",
			"GET /api/v1/dashboard":                         "/api/v1/dashboard",
			"GET /api/v1/auth/me":                           "/api/v1/auth/me",
			"GET /api/v1/auth/status":                       "/api/v1/auth/status",
			"GET /api/v1/connectors":                        "/api/v1/connectors",
			"GET /api/v1/api-keys":                          "/api/v1/api-keys",
			"GET /api/v1/audit":                             "/api/v1/audit",
			"GET /api/v1/event-types":                       "/api/v1/event-types",
			"GET /api/v1/schedules/describe":                "/api/v1/schedules/describe?cron=0+9+*+*+1-5&timezone=Europe/Berlin",
		} {
			r := b.do(t, "GET", path, "", "")
			if r.status != 200 {
				t.Fatalf("%s: %d %s", route, r.status, r.raw)
			}
			oa.check(t, route, r)
		}
		// Every one-workflow answer carries the document the schema requires.
		oa.check(t, "PUT /api/v1/workflows/{id}", b.do(t, "PUT", "/api/v1/workflows/"+id, "application/json", doc))
		for _, change := range []string{"deactivate", "activate", "duplicate", "webhook/rotate", "versions/{version}/restore"} {
			path := "/api/v1/workflows/" + id + "/" + strings.Replace(change, "{version}", "1", 1)
			oa.check(t, "POST /api/v1/workflows/{id}/"+change, b.do(t, "POST", path, "", ""))
		}
		run := b.do(t, "GET", "/api/v1/runs/"+runID, "", "")
		if steps, _ := run.body["steps"].([]any); len(steps) != 2 || len(run.body["deliveries"].([]any)) != 1 {
			t.Fatalf("the run did not record its steps and delivery: %s", run.raw)
		}
		// The check bites: a field the document lacks, or a required one
		// missing, deep in the answer, fails it.
		for what, edit := range map[string]func(m map[string]any){
			"an extra delivery field":  func(m map[string]any) { m["deliveries"].([]any)[0].(map[string]any)["extra"] = 1 },
			"a step without its state": func(m map[string]any) { delete(m["steps"].([]any)[0].(map[string]any), "state") },
		} {
			var m map[string]any
			storetest.Must(t, json.Unmarshal([]byte(run.raw), &m), "run")
			edit(m)
			raw, _ := json.Marshal(m)
			if err := oa.validate("GET /api/v1/runs/{id}", response{status: 200, header: run.header, raw: string(raw)}); err == nil {
				t.Errorf("an answer with %s passed the check", what)
			}
		}
		// Problems: a document with field errors, an unknown id.
		oa.check(t, "POST /api/v1/workflows", b.do(t, "POST", "/api/v1/workflows", "application/json", `{"schema":"switchboard/v1","name":""}`))
		oa.check(t, "GET /api/v1/runs/{id}", b.do(t, "GET", "/api/v1/runs/"+strings.Repeat("0", 8)+"-0000-0000-0000-000000000000", "", ""))
		oa.check(t, "GET /api/v1/schedules/describe", b.do(t, "GET", "/api/v1/schedules/describe?cron=61+*+*+*+*", "", ""))
	})
}
