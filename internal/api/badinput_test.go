package api_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/api"
	"github.com/switchboard-dev/switchboard/internal/connections"
	"github.com/switchboard-dev/switchboard/internal/events"
	"github.com/switchboard-dev/switchboard/internal/secrets"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/trigger/webhook"
)

// badBodies are the hostile bodies every write route must refuse with a
// 4xx problem, storing nothing.
var badBodies = []struct {
	name, ctype, body string
	// names: the problem (detail or errors) must say one of these, so it
	// names the offending field or what is wrong with the body.
	names []string
}{
	{"malformed JSON", "application/json", `{"name": "x",`, []string{"JSON", "EOF"}},
	{"wrong types", "application/json", `{"name": 5, "email": [], "role": {}, "fields": "x", "expression": 1, "schema": true, "steps": "all", "url": 7}`,
		[]string{"name", "email", "role", "fields", "expression", "schema", "steps", "url"}},
	{"a list instead of an object", "application/json", `[1, 2, 3]`, []string{"array", "object"}},
	{"unknown fields only", "application/json", `{"zzz_not_a_field": 1}`, []string{"zzz_not_a_field"}},
	{"huge string", "application/json", `{"name": "` + strings.Repeat("x", 3<<20) + `"}`, []string{"KiB", "MiB", "larger", "too large"}},
	{"deep nesting", "application/json", strings.Repeat("[", 20000) + strings.Repeat("]", 20000), []string{"depth", "nest", "array", "object", "larger"}},
	{"NUL bytes", "application/json", "{\"name\": \"a\x00b\", \"\x00\": 1}", []string{"\\x00", "NUL", "control character", "name"}},
	{"invalid UTF-8", "application/json", "{\"name\": \"\xff\xfe\xc3\x28\"}", []string{"UTF-8"}},
	{"wrong content type", "text/plain", `{"name": "x"}`, []string{"Content-Type", "content type", "application/json"}},
	{"a form post", "application/x-www-form-urlencoded", `name=x&role=admin`, []string{"Content-Type", "content type", "application/json"}},
}

type badBody = struct {
	name, ctype, body string
	names             []string
}

// problemNames reports whether a problem document mentions one of names.
func problemNames(r response, names []string) bool {
	text := strings.ToLower(r.raw)
	for _, n := range names {
		if strings.Contains(text, strings.ToLower(n)) {
			return true
		}
	}
	return false
}

// bodyless routes act on their path alone; for them only the content type
// is checked.
var bodyless = map[string]bool{
	"POST /api/v1/auth/logout": true, "POST /api/v1/workflows/{id}/activate": true, "POST /api/v1/workflows/{id}/deactivate": true,
	"POST /api/v1/workflows/{id}/duplicate": true, "POST /api/v1/workflows/{id}/webhook/rotate": true,
	"POST /api/v1/workflows/{id}/versions/{version}/restore": true, "POST /api/v1/runs/{id}/cancel": true,
	"POST /api/v1/connectors/{id}/disable": true, "POST /api/v1/connectors/{id}/enable": true,
	"POST /api/v1/connectors/{id}/versions/{version}/activate": true, "POST /api/v1/connections/{id}/test": true,
	"POST /api/v1/connections/{id}/oauth/connect": true, "POST /api/v1/connections/{id}/oauth/start": true,
	"POST /api/v1/subscriptions/{id}/rotate-secret": true, "POST /api/v1/subscriptions/{id}/test": true,
	"POST /api/v1/subscriptions/{id}/deliveries/{delivery}/resend": true,
	"POST /api/v1/users/{id}/reset-link":                           true, "POST /api/v1/workflows/{id}/inbox/{item}/resend": true,
	"POST /api/v1/workflows/{id}/inbox/{item}/sample": true,
}

// byDesign are bodies a route accepts on purpose (see SECURITY.md): the
// body of POST /workflows/{id}/test is a sample trigger payload, so any
// JSON (of any shape, or none: the captured sample) is a valid sample. It
// must still be UTF-8, and its top level is {body, headers, query}.
var byDesign = map[string]bool{
	"POST /api/v1/workflows/{id}/test missing body": true,
	// Replay options are optional: no body replays with the defaults (here
	// the run does not exist, so 404).
	"POST /api/v1/runs/{id}/replay missing body": true,
}

var param = regexp.MustCompile(`\{([a-z_]+)\}`)

func (b *bundle) rowCounts(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"workflows", "workflow_versions", "runs", "connections", "users", "api_keys", "inbound_requests",
		"subscriptions", "events", "audit_log"} {
		var n int
		if err := b.st.SQLDB().QueryRowContext(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

// Every write route of the table (and the public hooks, forms and auth
// routes) refuses hostile bodies with a 4xx problem+json, and nothing is
// stored by any of them.
func TestEveryWriteRouteRefusesBadInput(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ring, err := secrets.NewKeyring("k1", map[string][]byte{"k1": []byte("0123456789abcdef0123456789abcdef")})
		storetest.Must(t, err, "keyring")
		st := storetest.Open(t, dialect)
		b := setupOn(t, st, webhook.Options{MaxBody: 1024}, func(d *api.Deps) {
			d.Connections = connections.New(st, connectors.Default, ring)
			d.Events = events.NewService(st, ring, nil)
		})
		wfID, hook := b.createWorkflow(t)
		_, formPath := b.createForm(t, formDoc)
		conn := b.do(t, "POST", "/api/v1/connections", "application/json", `{"name":"hooks","connector":"http","fields":{"bearer_token":"tok-123"}}`)
		if conn.status != 201 {
			t.Fatalf("connection: %d %s", conn.status, conn.raw)
		}
		sub := b.do(t, "POST", "/api/v1/subscriptions", "application/json", `{"url":"https://example.com/events","events":["run.failed"]}`)
		if sub.status != 201 {
			t.Fatalf("subscription: %d %s", sub.status, sub.raw)
		}
		ids := map[string]string{"workflows": wfID, "connections": conn.body["id"].(string), "subscriptions": sub.body["id"].(string)}
		before := b.rowCounts(t)

		var ops []string
		for _, o := range b.operations(t) {
			if o.method == "POST" || o.method == "PUT" || o.method == "PATCH" {
				ops = append(ops, o.method+" "+o.path)
			}
		}
		sort.Strings(ops)
		if len(ops) < 20 {
			t.Fatalf("only %d write routes found: %v", len(ops), ops)
		}
		for _, op := range ops {
			method, path, _ := strings.Cut(op, " ")
			resource := strings.Split(strings.TrimPrefix(path, "/api/v1/"), "/")[0]
			url := param.ReplaceAllStringFunc(path, func(p string) string {
				if p == "{id}" && ids[resource] != "" {
					return ids[resource]
				}
				if p == "{version}" {
					return "1"
				}
				return "nope"
			})
			cases := badBodies
			if bodyless[op] {
				cases = badBodies[len(badBodies)-2:]
			} else {
				cases = append(cases, badBody{"missing body", "application/json", "", []string{"body", "empty", "EOF", "required"}})
			}
			if op == "POST /api/v1/connectors" {
				continue // its body is a YAML, JSON or WebAssembly file: TestAdminUploadsDeclarativeConnectors walks its refusals
			}
			for _, c := range cases {
				if byDesign[op+" "+c.name] {
					continue
				}
				r := b.do(t, method, strings.TrimPrefix(url, "http://sb.test"), c.ctype, c.body)
				if r.status < 400 || r.status >= 500 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") || r.body["detail"] == nil {
					t.Errorf("%s with %s: %d %q %.300s", op, c.name, r.status, r.header.Get("Content-Type"), r.raw)
				} else if !problemNames(r, c.names) {
					t.Errorf("%s with %s: the problem names none of %q: %.300s", op, c.name, c.names, r.raw)
				}
			}
		}

		// The public routes: a hook, a form, login and setup.
		for _, c := range badBodies[:8] {
			if c.name == "wrong types" || c.name == "a list instead of an object" || c.name == "unknown fields only" || c.name == "NUL bytes" {
				continue // a hook accepts any JSON document
			}
			if r := b.do(t, "POST", hook, c.ctype, c.body); r.status < 400 || r.status >= 500 {
				t.Errorf("hook with %s: %d %.200s", c.name, r.status, r.raw)
			} else if !problemNames(r, c.names) {
				t.Errorf("hook with %s: the answer names none of %q: %.300s", c.name, c.names, r.raw)
			}
		}
		for _, c := range badBodies {
			for _, p := range []string{"/api/v1/auth/login", "/api/v1/auth/setup"} {
				if r := b.doAs(t, "", "POST", p, c.ctype, c.body); r.status < 400 || r.status >= 500 || r.body["detail"] == nil {
					t.Errorf("%s with %s: %d %.200s", p, c.name, r.status, r.raw)
				} else if !problemNames(r, c.names) {
					t.Errorf("%s with %s: the problem names none of %q: %.300s", p, c.name, c.names, r.raw)
				}
			}
		}
		for _, c := range []struct{ ctype, body string }{{"application/json", `{"name":"x"}`}, {"application/x-www-form-urlencoded", "name=%ff%fe&email=\x00"},
			{"application/x-www-form-urlencoded", "name=" + strings.Repeat("x", 3<<20)}, {"", ""}} {
			req, _ := http.NewRequest("POST", b.srv.URL+formPath, strings.NewReader(c.body))
			if c.ctype != "" {
				req.Header.Set("Content-Type", c.ctype)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("form post %q: %d", c.ctype, resp.StatusCode)
			}
		}
		after := b.rowCounts(t)
		for table, n := range before {
			if table == "inbound_requests" {
				continue // refused hook requests are recorded in the inbox, by design
			}
			if after[table] != n {
				t.Errorf("%s: %d rows before the walk, %d after", table, n, after[table])
			}
		}
	})
}
