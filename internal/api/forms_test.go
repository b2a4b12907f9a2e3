package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

const formDoc = `{"schema":"switchboard/v1","name":"Workshop sign-up","trigger":{"type":"form","form":{
  "description":"Tell us who you are.",
  "fields":[
    {"key":"name","label":"Full name","required":true,"max_length":40},
    {"key":"email","label":"E-mail","type":"email","required":true,"prefill":true},
    {"key":"seats","label":"Seats","type":"number","min":1,"max":10},
    {"key":"day","label":"Day","type":"date"},
    {"key":"plan","label":"Plan","type":"select","required":true,"options":[{"value":"free","label":"Free"},{"value":"pro","label":"Pro"}]},
    {"key":"agree","label":"I accept the terms","type":"checkbox","required":true},
    {"key":"news","label":"Send me news","type":"checkbox"}],
  "success":{"message":"See you at the workshop!"}}},
  "steps":[{"id":"msg","type":"map","fields":{"text":"{{ trigger.fields.name }} <{{ trigger.fields.email }}>"}}]}`

// createForm creates formDoc (active) and returns its id and form path.
func (b *bundle) createForm(t *testing.T, doc string) (id, path string) {
	t.Helper()
	r := b.do(t, "POST", "/api/v1/workflows", "application/json", doc)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	u, _ := r.body["form_url"].(string)
	if !strings.HasPrefix(u, "http://sb.test/forms/") || len(u) < len("http://sb.test/forms/")+32 {
		t.Fatalf("form_url = %q, want an unguessable /forms/ URL: %s", u, r.raw)
	}
	if r.body["webhook_url"] != nil || r.body["test_url"] != nil {
		t.Fatalf("a form workflow shows webhook URLs: %s", r.raw)
	}
	return r.body["id"].(string), strings.TrimPrefix(u, "http://sb.test")
}

type page struct {
	status int
	header http.Header
	body   string
}

func (b *bundle) get(t *testing.T, path string) page {
	t.Helper()
	resp, err := http.Get(b.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, resp.Header, string(raw)}
}

func (b *bundle) submit(t *testing.T, path string, v url.Values) page {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Post(b.srv.URL+path, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, resp.Header, string(raw)}
}

func (b *bundle) inboxOf(t *testing.T, workflowID string) []map[string]any {
	t.Helper()
	r := b.do(t, "GET", "/api/v1/workflows/"+workflowID+"/inbox", "", "")
	if r.status != 200 {
		t.Fatalf("inbox: %d %s", r.status, r.raw)
	}
	var out []map[string]any
	for _, it := range r.body["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

func validSubmission() url.Values {
	return url.Values{"name": {"Ada Lovelace"}, "email": {"ada@example.com"}, "seats": {"3"}, "day": {"2026-05-04"},
		"plan": {"pro"}, "agree": {"on"}, "website": {""}, "injected": {"ignored"}}
}

func TestFormPageRendersWithPrefill(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		_, path := b.createForm(t, formDoc)
		p := b.get(t, path+"?email=ada%40example.com&name=Mallory")
		if p.status != 200 || !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") {
			t.Fatalf("GET form: %d %s", p.status, p.header.Get("Content-Type"))
		}
		for _, want := range []string{"<h1>Workshop sign-up</h1>", `<label for="f-name">Full name</label>`,
			`name="email" value="ada@example.com"`, `id="f-name" name="name" value=""`, `name="website"`} {
			if !strings.Contains(p.body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("CSP = %q", csp)
		}
		if p.header.Get("Referrer-Policy") != "no-referrer" || p.header.Get("Cache-Control") != "no-store" {
			t.Errorf("headers: %v", p.header)
		}
		if nf := b.get(t, "/forms/not-a-token"); nf.status != 404 || !strings.Contains(nf.body, "Form not found") {
			t.Fatalf("unknown token: %d %s", nf.status, nf.body)
		}
	})
}

func TestFormEmptySubmitGets422WithMessagesAndNoRun(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		id, path := b.createForm(t, formDoc)
		p := b.submit(t, path, url.Values{"name": {"Ada"}, "seats": {"99"}})
		if p.status != 422 {
			t.Fatalf("empty submit: %d %s", p.status, p.body)
		}
		for _, want := range []string{"There is a problem",
			`<a href="#f-email">E-mail: Enter an e-mail address</a>`,
			`<a href="#f-seats">Seats: Must be at most 10</a>`,
			`<a href="#f-plan">Plan: Choose one of the options</a>`,
			`<a href="#f-agree">I accept the terms: Tick this box to continue</a>`,
			`id="f-name" name="name" value="Ada"`, `name="seats" value="99"`} {
			if !strings.Contains(p.body, want) {
				t.Errorf("422 page lacks %q", want)
			}
		}
		if n := b.runCount(t, id); n != 0 {
			t.Fatalf("an invalid submission started %d runs", n)
		}
		inbox := b.inboxOf(t, id)
		if len(inbox) != 1 || inbox[0]["verdict"] != "rejected" || inbox[0]["reason"] != "invalid fields: agree, email, plan, seats" {
			t.Fatalf("inbox: %v", inbox)
		}
	})
}

func TestFormValidSubmitStartsOneRunWithTypedValues(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		id, path := b.createForm(t, formDoc)
		p := b.submit(t, path, validSubmission())
		if p.status != 200 || !strings.Contains(p.body, "See you at the workshop!") {
			t.Fatalf("valid submit: %d %s", p.status, p.body)
		}
		runs, _, err := b.st.ListRuns(context.Background(), store.RunFilter{WorkflowID: id})
		storetest.Must(t, err, "list runs")
		if len(runs) != 1 {
			t.Fatalf("%d runs, want 1", len(runs))
		}
		run, err := b.st.GetRun(context.Background(), runs[0].ID)
		storetest.Must(t, err, "get run")
		if run.TriggerType != "form" || run.State != store.RunQueued || p.header.Get("X-Switchboard-Run-Id") != run.ID {
			t.Fatalf("run = %+v", run)
		}
		var trig struct {
			Fields      map[string]any `json:"fields"`
			SubmittedAt string         `json:"submitted_at"`
			IP          string         `json:"ip"`
		}
		storetest.Must(t, json.Unmarshal(run.Trigger, &trig), "trigger JSON")
		want := map[string]any{"name": "Ada Lovelace", "email": "ada@example.com", "seats": 3.0, "day": "2026-05-04",
			"plan": "pro", "agree": true, "news": false}
		if len(trig.Fields) != len(want) {
			t.Fatalf("fields = %v, want %v", trig.Fields, want)
		}
		for k, v := range want {
			if trig.Fields[k] != v {
				t.Errorf("fields.%s = %#v, want %#v", k, trig.Fields[k], v)
			}
		}
		if trig.SubmittedAt == "" || trig.IP != "127.0.0.1" {
			t.Errorf("trigger = %s", run.Trigger)
		}
		var jobs int
		storetest.Must(t, b.st.SQLDB().QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'run'`).Scan(&jobs), "count jobs")
		if jobs != 1 {
			t.Fatalf("%d queue jobs, want 1", jobs)
		}
		inbox := b.inboxOf(t, id)
		if len(inbox) != 1 || inbox[0]["verdict"] != "accepted" || inbox[0]["run_id"] != run.ID ||
			strings.Contains(inbox[0]["path"].(string), strings.TrimPrefix(path, "/forms/")) {
			t.Fatalf("inbox: %v", inbox)
		}
	})
}

func TestFormRedirectsAfterSuccessWhenConfigured(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		doc := strings.Replace(formDoc, `"success":{"message":"See you at the workshop!"}`, `"success":{"redirect":"https://example.com/thanks"}`, 1)
		id, path := b.createForm(t, doc)
		p := b.submit(t, path, validSubmission())
		if p.status != 303 || p.header.Get("Location") != "https://example.com/thanks" {
			t.Fatalf("submit: %d Location=%q", p.status, p.header.Get("Location"))
		}
		if n := b.runCount(t, id); n != 1 {
			t.Fatalf("%d runs, want 1", n)
		}
		if csp := b.get(t, path).header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://example.com") {
			t.Fatalf("the page's CSP would block the redirect: %q", csp)
		}
	})
}

func TestFormHoneypotPretendsSuccessButStartsNothing(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		id, path := b.createForm(t, formDoc)
		v := validSubmission()
		v.Set("website", "http://spam.example")
		p := b.submit(t, path, v)
		if p.status != 200 || !strings.Contains(p.body, "See you at the workshop!") {
			t.Fatalf("honeypot submit: %d %s", p.status, p.body)
		}
		if n := b.runCount(t, id); n != 0 {
			t.Fatalf("a bot's submission started %d runs", n)
		}
		inbox := b.inboxOf(t, id)
		if len(inbox) != 1 || inbox[0]["verdict"] != "rejected" || inbox[0]["reason"] != "honeypot" || inbox[0]["run_id"] != nil {
			t.Fatalf("inbox: %v", inbox)
		}
	})
}

func TestFormRateLimitPerClientAnswers429(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		id, path := b.createForm(t, formDoc)
		_, other := b.createForm(t, formDoc)
		for i := range 10 {
			if p := b.submit(t, path, url.Values{}); p.status != 422 {
				t.Fatalf("submission %d: %d", i+1, p.status)
			}
		}
		p := b.submit(t, path, validSubmission())
		if p.status != 429 || p.header.Get("Retry-After") == "" || !strings.Contains(p.body, "Too many submissions") {
			t.Fatalf("11th submission in a minute: %d Retry-After=%q %s", p.status, p.header.Get("Retry-After"), p.body)
		}
		if n := b.runCount(t, id); n != 0 {
			t.Fatalf("a rate-limited submission started %d runs", n)
		}
		if inbox := b.inboxOf(t, id); len(inbox) != 11 || inbox[0]["reason"] != "rate limit exceeded for this form" {
			t.Fatalf("inbox has %d entries, newest %v", len(inbox), inbox[0])
		}
		if p := b.submit(t, other, validSubmission()); p.status != 200 {
			t.Fatalf("another form from the same client: %d", p.status)
		}
	})
}

func TestFormInactiveOrWrongTriggerIs404(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		id, path := b.createForm(t, formDoc)
		if r := b.do(t, "POST", "/api/v1/workflows/"+id+"/deactivate", "", ""); r.status != 200 {
			t.Fatalf("deactivate: %d %s", r.status, r.raw)
		}
		if p := b.get(t, path); p.status != 404 {
			t.Fatalf("GET inactive form: %d", p.status)
		}
		if p := b.submit(t, path, validSubmission()); p.status != 404 {
			t.Fatalf("POST inactive form: %d", p.status)
		}
		if n := b.runCount(t, id); n != 0 {
			t.Fatalf("an inactive form started %d runs", n)
		}
		_, hook := b.createWorkflow(t)
		if p := b.get(t, "/forms/"+strings.TrimPrefix(hook, "/hooks/")); p.status != 404 {
			t.Fatalf("a webhook token opened a form: %d", p.status)
		}
	})
}

func TestFormWorkflowValidationNamesFieldPaths(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		cases := map[string]string{
			`"form":{"fields":[{"key":"a","label":"A"},{"key":"b","label":"B"},{"key":"c","label":"C","pattern":"(x"}]}`: "trigger.form.fields[2].pattern",
			`"form":{"fields":[]}`: "trigger.form.fields",
			`"x":1`:                "trigger.form",
		}
		for form, path := range cases {
			doc := `{"schema":"switchboard/v1","name":"f","trigger":{"type":"form",` + strings.Replace(form, `"x":1`, `"webhook":{}`, 1) +
				`},"steps":[{"id":"m","type":"map","fields":{"a":"b"}}]}`
			r := b.do(t, "POST", "/api/v1/workflows", "application/json", doc)
			if r.status != 422 {
				t.Fatalf("%s: %d %s", form, r.status, r.raw)
			}
			found := false
			for _, e := range r.body["errors"].([]any) {
				found = found || e.(map[string]any)["path"] == path
			}
			if !found {
				t.Errorf("%s: no error at %s: %s", form, path, r.raw)
			}
		}
	})
}

func TestFormWorkflowExportRoundTrips(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		doc := strings.Replace(formDoc, `{"key":"day","label":"Day","type":"date"}`,
			`{"key":"day","label":"Day","type":"date","min":"2026-01-01","default":"2026-06-01"},{"key":"n","label":"N","type":"number","default":2.5}`, 1)
		id, _ := b.createForm(t, doc)
		exp := b.do(t, "GET", "/api/v1/workflows/"+id+"/export", "", "")
		var got struct {
			Trigger struct {
				Form struct {
					Fields []map[string]any `json:"fields"`
				} `json:"form"`
			} `json:"trigger"`
		}
		if exp.status != 200 || json.Unmarshal([]byte(exp.raw), &got) != nil || len(got.Trigger.Form.Fields) != 8 ||
			got.Trigger.Form.Fields[3]["min"] != "2026-01-01" || got.Trigger.Form.Fields[4]["default"] != 2.5 {
			t.Fatalf("export: %d %s", exp.status, exp.raw)
		}
		id2, _ := b.createForm(t, exp.raw)
		again := b.do(t, "GET", "/api/v1/workflows/"+id2+"/export", "", "")
		if again.raw != exp.raw {
			t.Fatalf("export → import → export changed the document:\n%s\n%s", exp.raw, again.raw)
		}
	})
}
