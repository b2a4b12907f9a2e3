package declarative

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/connectors/connectortest"
)

// acme is a small connector used across the tests.
const acme = `id: acme
name: Acme CRM
icon: box
version: 1.0.0
description: Contacts in Acme.
base_url: https://api.acme.example/v2
auth:
  type: bearer
  credential: token
  fields:
    - {key: token, label: API token, type: string, required: true, secret: true}
actions:
  - id: add_contact
    name: Add a contact
    input:
      - {key: email, label: E-mail, type: string, required: true}
      - {key: tags, type: list}
      - {key: list, type: string, default: main}
    method: POST
    path: /lists/{{ input.list }}/contacts
    query: {notify: "{{ input.tags != nil }}"}
    headers: {X-Source: switchboard}
    body: {email: "{{ lower(input.email) }}", tags: "{{ input.tags }}"}
    output: {id: "{{ response.body.id }}", status: "{{ response.status }}"}
    sample_output: {id: 7, status: 201}
  - id: get_contact
    name: Get a contact
    input:
      - {key: id, type: string, required: true}
    method: GET
    path: /contacts/{{ input.id }}
    sample_output: {id: 7}
tests:
  - name: adds a contact
    action: add_contact
    input: {email: Ada@Example.com, tags: [vip, eu]}
    credentials: {token: t0k}
    expect:
      method: POST
      path: /v2/lists/main/contacts
      query: {notify: "true"}
      headers: {Authorization: Bearer t0k, X-Source: switchboard, Content-Type: application/json}
      body: {email: ada@example.com, tags: [vip, eu]}
    response: {status: 201, body: {id: 7}}
    output: {id: 7, status: 201}
`

func mustParse(t *testing.T, src string) *Connector {
	t.Helper()
	c, err := Parse("acme.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return c
}

func TestParseBuildsTheSpec(t *testing.T) {
	c := mustParse(t, acme)
	connectortest.CheckSpec(t, c)
	s := c.Spec()
	if s.ID != "acme" || s.Version != "1.0.0" || s.Auth.Kind != connectors.AuthToken || !s.Auth.Fields[0].Secret {
		t.Fatalf("spec %+v", s)
	}
	a, _ := s.Action("add_contact")
	if a.Input[1].Label != "Tags" || a.Input[1].Type != connectors.TypeList || a.Input[2].Default != "main" {
		t.Fatalf("input fields %+v", a.Input)
	}
	if !strings.HasPrefix(c.Hash(), "sha256:") || c.Tests() != 1 {
		t.Fatalf("hash %q, %d tests", c.Hash(), c.Tests())
	}
	if err := TestErrors("acme.yaml", c.RunTests(context.Background())); err != nil {
		t.Fatal(err)
	}
}

func TestBrokenFilesAreRefusedNamingTheirLine(t *testing.T) {
	cases := []struct {
		name, find, replace string
		want                []string
	}{
		{"bad method", "method: POST", "method: SEND",
			[]string{`acme.yaml:19: actions[0].method: must be GET, POST, PUT, PATCH or DELETE (got "SEND")`}},
		{"template syntax", `"{{ lower(input.email) }}"`, `"{{ lower(input.email }}"`,
			[]string{"acme.yaml:23: actions[0].body.email: template column"}},
		{"unknown input", `"{{ input.tags }}"`, `"{{ input.tgas }}"`,
			[]string{"acme.yaml:23: actions[0].body.tags: input.tgas is not an input of this action"}},
		{"unknown name", `{{ input.tags != nil }}`, `{{ trigger.body }}`,
			[]string{`acme.yaml:21: actions[0].query.notify: template column 4: unknown name "trigger" (available: input, credentials)`}},
		{"credentials in output", `status: "{{ response.status }}"`, `status: "{{ credentials.token }}"`,
			[]string{"acme.yaml:24: actions[0].output.status:"}},
		{"unknown key", "    headers:", "    header:",
			[]string{"acme.yaml:22: actions[0].header: unknown key"}},
		{"bad id", "id: acme", "id: Acme CRM", []string{`acme.yaml:1: id: must be lower-case`}},
		{"auth credential", "credential: token", "credential: tok", []string{`acme.yaml:9: auth.credential: "tok" is not one of auth.fields`}},
		{"auth type", "type: bearer", "type: digest", []string{`acme.yaml:8: auth.type: must be none, bearer`}},
		{"field type", "type: list}", "type: array}", []string{`acme.yaml:17: actions[0].input[1].type: must be string`}},
		{"wrong shape", "base_url: https://api.acme.example/v2", "base_url: [1]", []string{"acme.yaml:6: base_url: want text, got a list"}},
		{"duplicate key", "icon: box", "icon: box\nname: Again", []string{`acme.yaml:4: name: key "name" is already given on line 2`}},
		{"syntax", "    method: POST", "    method: POST\n  - : : [", []string{"acme.yaml:19: did not find expected key"}},
		{"GET with body", "    method: GET", "    method: GET\n    body: {x: 1}", []string{"acme.yaml:31: actions[1].body: a GET request has no body"}},
		{"test of a missing action", "    action: add_contact\n    input: {email", "    action: add_contacts\n    input: {email",
			[]string{`tests[0].action: "add_contacts" is not an action of this file`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(acme, tc.find, tc.replace, 1)
			if src == acme {
				t.Fatalf("%q not found in the file", tc.find)
			}
			_, err := Load(context.Background(), "acme.yaml", []byte(src))
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want *Error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\nwant it to contain:\n%s", err, w)
				}
			}
			for _, p := range fe.Problems {
				if p.Line == 0 && tc.name != "bad id" {
					t.Errorf("problem without a line: %v", p)
				}
			}
		})
	}
}

func TestFailingInlineTestRefusesTheFileAtTheTestsLine(t *testing.T) {
	src := strings.Replace(acme, "body: {email: ada@example.com, tags: [vip, eu]}", "body: {email: ada@example.com, tags: [vip]}", 1)
	src = strings.Replace(src, "output: {id: 7, status: 201}", "output: {id: 8, status: 201}", 1)
	_, err := Load(context.Background(), "acme.yaml", []byte(src))
	if err == nil {
		t.Fatal("a file whose inline test fails was accepted")
	}
	msg := err.Error()
	for _, w := range []string{`acme.yaml:34: tests[0]: inline test "adds a contact" failed`, `body {"email":"ada@example.com","tags":["vip","eu"]}, want {"email":"ada@example.com","tags":["vip"]}`} {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
	if strings.Contains(msg, "output") {
		t.Errorf("output compared although the request was wrong? %s", msg)
	}
}

func TestJSONFilesLoadToo(t *testing.T) {
	doc := "{\n\t\"id\": \"pinger\",\n\t\"name\": \"Pinger\",\n\t\"version\": \"2\",\n\t\"base_url\": \"https://ping.example\",\n" +
		"\t\"actions\": [{\"id\": \"ping\", \"name\": \"Ping\", \"method\": \"GET\", \"path\": \"/ping\", \"query\": {\"q\": \"{{ input.q }}\"},\n" +
		"\t  \"input\": [{\"key\": \"q\", \"type\": \"string\"}]}],\n" +
		"\t\"tests\": [{\"action\": \"ping\", \"input\": {\"q\": \"x\"}, \"expect\": {\"method\": \"GET\", \"path\": \"/ping\", \"query\": {\"q\": \"x\"}}}]\n}"
	c, err := Load(context.Background(), "pinger.json", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if c.Spec().Auth.Kind != connectors.AuthNone || !c.Spec().Auth.Optional {
		t.Fatalf("auth %+v", c.Spec().Auth)
	}
	_, err = Parse("pinger.json", []byte(strings.Replace(doc, `"GET", "path"`, `"FETCH", "path"`, 1)))
	if err == nil || !strings.Contains(err.Error(), "pinger.json:6: actions[0].method: must be GET") {
		t.Fatalf("JSON error %v", err)
	}
}

// receiver records one request and answers as told.
type receiver struct {
	*httptest.Server
	req    *http.Request
	body   string
	status int
	header http.Header
	answer string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{status: 200, header: http.Header{"Content-Type": {"application/json"}}, answer: `{"ok":true}`}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.req, r.body = req, string(b)
		for k, v := range r.header {
			w.Header()[k] = v
		}
		w.WriteHeader(r.status)
		io.WriteString(w, r.answer)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) run(t *testing.T, c *Connector, action string, input map[string]any, creds map[string]string) (connectors.Result, error) {
	t.Helper()
	target, err := c.WithBaseURL(r.URL + "/base")
	if err != nil {
		t.Fatal(err)
	}
	return connectortest.Run(context.Background(), target, action, input, creds, r.Client())
}

func authFile(auth string) string {
	return `id: a
name: A
version: "1"
base_url: https://a.example
auth:
` + auth + `
actions:
  - {id: go, name: Go, method: POST, path: /go, body: {x: 1}}
`
}

func TestAuthStyles(t *testing.T) {
	cases := []struct {
		name, auth string
		creds      map[string]string
		check      func(r *http.Request) bool
	}{
		{"bearer", "  type: bearer\n  credential: token\n  fields: [{key: token, secret: true}]", map[string]string{"token": "s3cret"},
			func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer s3cret" }},
		{"header", "  type: header\n  header: X-Api-Key\n  credential: key\n  fields: [{key: key, secret: true}]", map[string]string{"key": "k1"},
			func(r *http.Request) bool {
				return r.Header.Get("X-Api-Key") == "k1" && r.Header.Get("Authorization") == ""
			}},
		{"query", "  type: query\n  param: api_token\n  credential: key\n  fields: [{key: key, secret: true}]", map[string]string{"key": "k 2"},
			func(r *http.Request) bool { return r.URL.RawQuery == "api_token=k+2" }},
		{"basic", "  type: basic\n  fields: [{key: username}, {key: password, secret: true}]", map[string]string{"username": "ada", "password": "pw"},
			func(r *http.Request) bool { u, p, ok := r.BasicAuth(); return ok && u == "ada" && p == "pw" }},
		{"none", "  type: none", nil,
			func(r *http.Request) bool { return r.Header.Get("Authorization") == "" && r.URL.RawQuery == "" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustParse(t, authFile(tc.auth))
			rec := newReceiver(t)
			if _, err := rec.run(t, c, "go", map[string]any{}, tc.creds); err != nil {
				t.Fatal(err)
			}
			if !tc.check(rec.req) || rec.req.URL.Path != "/base/go" || rec.req.Header.Get("Idempotency-Key") != "test-key" {
				t.Fatalf("request %s %s %v", rec.req.Method, rec.req.URL, rec.req.Header)
			}
			if tc.creds != nil {
				if _, err := rec.run(t, c, "go", map[string]any{}, nil); connectors.KindOf(err) != connectors.KindBadInput ||
					!strings.Contains(err.Error(), "needs a connection") {
					t.Fatalf("without credentials: %v", err)
				}
			}
		})
	}
	c := mustParse(t, authFile("  type: oauth2\n  fields: [{key: client_id}]"))
	if c.Spec().Auth.Kind != connectors.AuthOAuth2 {
		t.Fatalf("kind %s", c.Spec().Auth.Kind)
	}
	if _, err := c.Execute(context.Background(), connectors.Request{Action: "go"}); connectors.KindOf(err) != connectors.KindBadInput ||
		!strings.Contains(err.Error(), "OAuth2") {
		t.Fatalf("oauth2 without a token: %v", err)
	}
	rec := newReceiver(t)
	if _, err := rec.run(t, c, "go", map[string]any{}, map[string]string{"access_token": "at-1", "token_type": "bearer"}); err != nil {
		t.Fatalf("oauth2 with a token: %v", err)
	}
	if got := rec.req.Header.Get("Authorization"); got != "Bearer at-1" {
		t.Fatalf("Authorization %q", got)
	}
}

func TestTemplatesBuildTheRequest(t *testing.T) {
	c := mustParse(t, acme)
	rec := newReceiver(t)
	rec.status, rec.answer = 201, `{"id": 9}`
	res, err := rec.run(t, c, "add_contact", map[string]any{"email": "X@Y.z", "list": "a b/c"}, map[string]string{"token": "t"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.req.URL.EscapedPath() != "/base/lists/a%20b%2Fc/contacts" {
		t.Errorf("path %s: template values must be path-escaped", rec.req.URL.EscapedPath())
	}
	if rec.req.URL.RawQuery != "notify=false" || rec.req.Header.Get("X-Source") != "switchboard" {
		t.Errorf("query %q, headers %v", rec.req.URL.RawQuery, rec.req.Header)
	}
	if rec.body != `{"email":"x@y.z"}` {
		t.Errorf("body %s: a null value must be left out", rec.body)
	}
	if out := res.Output.(map[string]any); out["id"] != 9.0 || out["status"] != 201 {
		t.Errorf("output %v", out)
	}
	// Without an output mapping the output is the parsed body; GET sends no body.
	rec.answer = `{"id": 7, "email": "x@y.z"}`
	res, err = rec.run(t, c, "get_contact", map[string]any{"id": "7"}, map[string]string{"token": "t"})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(res.Output); string(b) != `{"email":"x@y.z","id":7}` || rec.req.Method != "GET" || rec.body != "" ||
		rec.req.Header.Get("Content-Type") != "" || rec.req.Header.Get("Idempotency-Key") != "" {
		t.Errorf("GET: output %s, %s body %q, headers %v", b, rec.req.Method, rec.body, rec.req.Header)
	}
}

func TestFormBodiesAndRepeatedQueryParameters(t *testing.T) {
	c := mustParse(t, `id: sms
name: SMS
version: "1"
base_url: https://sms.example/2010-04-01
auth: {type: basic, fields: [{key: username}, {key: password, secret: true}]}
actions:
  - id: send
    name: Send
    input: [{key: to, required: true}, {key: body, type: text, required: true}, {key: media, type: list}, {key: note}]
    method: POST
    path: /Messages.json
    query: {tag: "{{ input.media }}", empty: "", none: "{{ input.note }}"}
    body_type: form
    body: {To: "{{ input.to }}", Body: "{{ input.body }}"}
`)
	rec := newReceiver(t)
	if _, err := rec.run(t, c, "send", map[string]any{"to": "+100", "body": "hi & bye", "media": []any{"a", "b"}},
		map[string]string{"username": "AC1", "password": "x"}); err != nil {
		t.Fatal(err)
	}
	if rec.req.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || rec.body != "Body=hi+%26+bye&To=%2B100" {
		t.Errorf("form body %q (%s)", rec.body, rec.req.Header.Get("Content-Type"))
	}
	if rec.req.URL.RawQuery != "tag=a&tag=b" {
		t.Errorf("query %q: a list repeats the parameter, empty values are left out", rec.req.URL.RawQuery)
	}
}

func TestStatusesMapToErrorKinds(t *testing.T) {
	c := mustParse(t, strings.Replace(acme, "actions:", `error:
  if: response.body?.ok == false
  message: "{{ response.body?.message }}"
actions:`, 1))
	cases := []struct {
		status  int
		header  http.Header
		answer  string
		kind    connectors.ErrorKind
		wait    time.Duration
		message string
	}{
		{429, http.Header{"Retry-After": {"7"}}, `{"message":"slow down"}`, connectors.KindRateLimited, 7 * time.Second, "HTTP 429 Too Many Requests: slow down"},
		{503, nil, `{}`, connectors.KindRateLimited, 0, "HTTP 503"},
		{500, nil, `oops`, connectors.KindRetryable, 0, "HTTP 500 Internal Server Error: oops"},
		{408, nil, `{}`, connectors.KindRetryable, 0, "HTTP 408"},
		{404, nil, `{"message":"no such list"}`, connectors.KindPermanent, 0, "no such list"},
		{422, nil, `{}`, connectors.KindPermanent, 0, "HTTP 422 Unprocessable Entity"},
		{200, nil, `{"ok":false,"message":"quota"}`, connectors.KindPermanent, 0, "HTTP 200: quota"},
	}
	for _, tc := range cases {
		rec := newReceiver(t)
		rec.status, rec.answer = tc.status, tc.answer
		for k, v := range tc.header {
			rec.header[k] = v
		}
		_, err := rec.run(t, c, "add_contact", map[string]any{"email": "a@b.c"}, map[string]string{"token": "t"})
		if connectors.KindOf(err) != tc.kind || connectors.RetryAfterOf(err) != tc.wait || !strings.Contains(err.Error(), tc.message) {
			t.Errorf("%d: %v (kind %s, wait %s), want %s %s containing %q", tc.status, err, connectors.KindOf(err),
				connectors.RetryAfterOf(err), tc.kind, tc.wait, tc.message)
		}
	}
	// A connection that cannot be reached is retryable.
	rec := newReceiver(t)
	rec.Close()
	if _, err := rec.run(t, c, "add_contact", map[string]any{"email": "a@b.c"}, map[string]string{"token": "t"}); connectors.KindOf(err) != connectors.KindRetryable {
		t.Errorf("unreachable: %v", err)
	}
}

func TestBaseURLFromTheConnectionWhenDeclared(t *testing.T) {
	src := strings.Replace(acme, "    - {key: token, label: API token, type: string, required: true, secret: true}",
		"    - {key: token, label: API token, type: string, required: true, secret: true}\n    - {key: base_url, label: Base URL}", 1)
	src = strings.Replace(src, "tests:", "tests_skipped:", 1)
	src = src[:strings.Index(src, "tests_skipped:")]
	c := mustParse(t, src)
	rec := newReceiver(t)
	if _, err := connectortest.Run(context.Background(), c, "get_contact", map[string]any{"id": "1"},
		map[string]string{"token": "t", "base_url": rec.URL + "/v9/"}, rec.Client()); err != nil {
		t.Fatal(err)
	}
	if rec.req.URL.Path != "/v9/contacts/1" {
		t.Fatalf("path %s", rec.req.URL.Path)
	}
}

func TestConnectionTestWithoutAuthTestSaysItCannot(t *testing.T) {
	c, err := Parse("acme.yaml", []byte(acme))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.Spec().Auth.Test, "Cannot be tested") {
		t.Fatalf("spec test text = %q", c.Spec().Auth.Test)
	}
	err = c.TestConnection(context.Background(), connectors.Request{Credentials: map[string]string{"token": "t"}})
	if !errors.Is(err, connectors.ErrCannotTest) {
		t.Fatalf("err = %v, want ErrCannotTest", err)
	}
}
