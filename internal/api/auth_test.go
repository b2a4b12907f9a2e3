package api_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"sort"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/api"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/trigger/webhook"
)

type op struct {
	method, path, role string
	public             bool
}

func (b *bundle) operations(t *testing.T) []op {
	t.Helper()
	doc := b.doAs(t, "", "GET", "/api/openapi.json", "", "")
	if doc.status != 200 {
		t.Fatalf("openapi.json: %d", doc.status)
	}
	var ops []op
	for path, item := range doc.body["paths"].(map[string]any) {
		for method, raw := range item.(map[string]any) {
			o := raw.(map[string]any)
			role, _ := o["x-required-role"].(string)
			sec, hasSec := o["security"].([]any)
			ops = append(ops, op{method: strings.ToUpper(method), path: path, role: role, public: hasSec && len(sec) == 0})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].path+ops[i].method < ops[j].path+ops[j].method })
	return ops
}

func TestOpenAPIDocumentMatchesRegisteredRoutes(t *testing.T) {
	b := setup(t, store.SQLite)
	var documented []string
	for _, o := range b.operations(t) {
		documented = append(documented, o.method+" "+o.path)
	}
	sort.Strings(documented)
	registered := api.Registered(b.handler)
	if strings.Join(documented, "\n") != strings.Join(registered, "\n") {
		t.Fatalf("OpenAPI paths and registered routes differ:\ndocumented:\n%s\nregistered:\n%s",
			strings.Join(documented, "\n"), strings.Join(registered, "\n"))
	}
	if len(registered) < 40 {
		t.Fatalf("only %d routes registered", len(registered))
	}
}

// TestEveryRouteChecksItsRole calls every API route as admin, editor,
// viewer, a revoked key and nobody, and checks what the auth layer decided.
func TestEveryRouteChecksItsRole(t *testing.T) {
	b := setup(t, store.SQLite)
	ctx := context.Background()
	keys := map[string]string{"admin": b.key}
	for _, role := range []string{auth.RoleEditor, auth.RoleViewer} {
		_, k, err := b.auth.NewAPIKey(ctx, role, role, "test")
		storetest.Must(t, err, "key")
		keys[role] = k
	}
	rk, revoked, err := b.auth.NewAPIKey(ctx, "gone", auth.RoleAdmin, "test")
	storetest.Must(t, err, "key")
	storetest.Must(t, b.st.RevokeAPIKey(ctx, rk.ID, rk.CreatedAt), "revoke")
	keys["revoked"], keys["none"] = revoked, ""

	rank := map[string]int{"viewer": 1, "editor": 2, "admin": 3}
	for _, o := range b.operations(t) {
		path := strings.NewReplacer("{id}", "01a00000-0000-7000-8000-000000000000", "{version}", "1").Replace(o.path)
		path = strings.TrimPrefix(path, "")
		for _, who := range []string{"admin", "editor", "viewer", "revoked", "none"} {
			r := b.doAs(t, keys[who], o.method, path, "application/json", `{}`)
			authLayer401 := r.status == 401 && r.header.Get("WWW-Authenticate") != ""
			roleDenied := r.status == 403 && strings.Contains(r.raw, "needs the")
			name := o.method + " " + o.path + " as " + who
			switch {
			case o.public:
				if authLayer401 || roleDenied {
					t.Errorf("%s: public route answered %d", name, r.status)
				}
			case who == "none" || who == "revoked":
				if !authLayer401 {
					t.Errorf("%s: %d, want 401", name, r.status)
				}
			case rank[who] < rank[o.role]:
				if !roleDenied {
					t.Errorf("%s: %d %s, want 403 (needs %s)", name, r.status, r.raw, o.role)
				}
			default:
				if authLayer401 || roleDenied {
					t.Errorf("%s: refused with %d, but %s may call it", name, r.status, who)
				}
			}
			if who == "viewer" && !o.public && o.method != "GET" && !roleDenied {
				t.Errorf("%s: a viewer was not refused an unsafe route", name)
			}
		}
	}
}

func TestSessionLoginNeedsCSRFOnChangesAndSetupHappensOnce(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setupWith(t, dialect, webhook.Options{MaxBody: 4096})
		st := b.doAs(t, "", "GET", "/api/v1/auth/status", "", "")
		if st.body["needs_setup"] != true {
			t.Fatalf("status %s", st.raw)
		}
		jar, _ := cookiejar.New(nil)
		client := &http.Client{Jar: jar}
		send := func(method, path, body, csrf string) (*http.Response, string) {
			req, _ := http.NewRequest(method, b.srv.URL+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if csrf != "" {
				req.Header.Set("X-CSRF-Token", csrf)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw := new(strings.Builder)
			buf := make([]byte, 4096)
			for {
				n, err := resp.Body.Read(buf)
				raw.Write(buf[:n])
				if err != nil {
					break
				}
			}
			return resp, raw.String()
		}
		resp, raw := send("POST", "/api/v1/auth/setup", `{"email":"ada@example.com","password":"a long enough password"}`, "")
		if resp.StatusCode != 201 {
			t.Fatalf("setup: %d %s", resp.StatusCode, raw)
		}
		var csrf string
		for _, c := range resp.Cookies() {
			if c.Name == "sb_session" && !c.HttpOnly {
				t.Fatal("session cookie is not HttpOnly")
			}
			if c.Name == "sb_session" && c.SameSite != http.SameSiteLaxMode {
				t.Fatal("session cookie has no SameSite")
			}
			if c.Name == "sb_csrf" {
				csrf = c.Value
			}
		}
		if csrf == "" {
			t.Fatal("no CSRF cookie")
		}
		if again, _ := send("POST", "/api/v1/auth/setup", `{"email":"eve@example.com","password":"a long enough password"}`, ""); again.StatusCode != 409 {
			t.Fatalf("second setup: %d", again.StatusCode)
		}
		if r, _ := send("GET", "/api/v1/auth/me", "", ""); r.StatusCode != 200 {
			t.Fatalf("me with the session: %d", r.StatusCode)
		}
		doc := `{"schema":"switchboard/v1","name":"x","trigger":{"type":"webhook"},"steps":[{"id":"m","type":"map","fields":{"a":1}}]}`
		if r, raw := send("POST", "/api/v1/workflows", doc, ""); r.StatusCode != 403 || !strings.Contains(raw, "CSRF") {
			t.Fatalf("change without CSRF: %d %s", r.StatusCode, raw)
		}
		r, raw := send("POST", "/api/v1/workflows", doc, csrf)
		if r.StatusCode != 201 {
			t.Fatalf("change with CSRF: %d %s", r.StatusCode, raw)
		}
		// The audit log says who did it.
		audit := b.do(t, "GET", "/api/v1/audit", "", "")
		found := false
		for _, e := range audit.body["items"].([]any) {
			m := e.(map[string]any)
			if m["action"] == "workflow.create" && m["actor_name"] == "ada@example.com" && m["target_id"] != "" {
				found = true
			}
		}
		if !found {
			t.Fatalf("audit log lacks the workflow.create by ada: %s", audit.raw)
		}
		if r, _ := send("POST", "/api/v1/auth/logout", "", csrf); r.StatusCode != 204 {
			t.Fatalf("logout: %d", r.StatusCode)
		}
		if r, _ := send("GET", "/api/v1/auth/me", "", ""); r.StatusCode != 401 {
			t.Fatalf("me after logout: %d", r.StatusCode)
		}
	})
}

func TestConcurrentEditsWithTheSameETagOneWinsOneGets412(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		id, _ := b.createWorkflow(t)
		got := b.do(t, "GET", "/api/v1/workflows/"+id, "", "")
		etag := got.header.Get("ETag")
		if etag == "" {
			t.Fatal("no ETag")
		}
		doc := strings.Replace(validDoc, `"orders"`, `"orders edited"`, 1)
		put := func() response {
			req, _ := http.NewRequest("PUT", b.srv.URL+"/api/v1/workflows/"+id, strings.NewReader(doc))
			req.Header.Set("Authorization", "Bearer "+b.key)
			req.Header.Set("If-Match", etag)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return response{status: resp.StatusCode, header: resp.Header}
		}
		results := make(chan int, 2)
		for i := 0; i < 2; i++ {
			go func() { results <- put().status }()
		}
		a, c := <-results, <-results
		if !((a == 200 && c == 412) || (a == 412 && c == 200)) {
			t.Fatalf("two updates with one ETag answered %d and %d, want 200 and 412", a, c)
		}
		if r := b.do(t, "GET", "/api/v1/workflows/"+id+"/versions", "", ""); len(r.body["items"].([]any)) != 2 {
			t.Fatalf("versions after the race: %s", r.raw)
		}
	})
}

func TestVersionDiffNamesChangedPaths(t *testing.T) {
	b := setup(t, store.SQLite)
	id, _ := b.createWorkflow(t)
	edited := strings.Replace(validDoc, `"Order {{ trigger.body.id }}"`, `"Order #{{ trigger.body.id }}"`, 1)
	edited = strings.Replace(edited, `"steps":[`, `"vars":{"region":"eu"},"steps":[`, 1)
	if r := b.do(t, "PUT", "/api/v1/workflows/"+id, "application/json", edited); r.status != 200 {
		t.Fatalf("update: %d %s", r.status, r.raw)
	}
	d := b.do(t, "GET", "/api/v1/workflows/"+id+"/versions/2/diff", "", "")
	if d.status != 200 {
		t.Fatalf("diff: %d %s", d.status, d.raw)
	}
	got := map[string]string{}
	for _, c := range d.body["changes"].([]any) {
		m := c.(map[string]any)
		got[m["path"].(string)] = m["change"].(string)
	}
	if got["steps[1].fields.text"] != "changed" || got["vars"] != "added" || len(got) != 2 {
		t.Fatalf("changes %v", got)
	}
	if r := b.do(t, "GET", "/api/v1/workflows/"+id+"/versions/1/diff", "", ""); r.status != 400 {
		t.Fatalf("diff of version 1 without against: %d", r.status)
	}
}
