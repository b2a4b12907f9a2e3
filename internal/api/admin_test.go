package api_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/api"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/connections"
	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/secrets"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/trigger/webhook"
)

// linkToken takes the secret out of a one-time link's URL (its fragment).
func linkToken(t *testing.T, u string) string {
	t.Helper()
	tok, ok := strings.CutPrefix(u, "http://sb.test/account/link#")
	if !ok || !strings.HasPrefix(tok, "sbl_") {
		t.Fatalf("link URL %q is not http://sb.test/account/link#sbl_…", u)
	}
	return tok
}

func anonymous(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, client: newJarClient(jar)}
}

func TestInvitedUserSetsTheirPasswordOnceThroughTheLink(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		r := b.do(t, "POST", "/api/v1/users/invite", "application/json", `{"email":"Cleo@Example.com","name":"Cleo","role":"editor"}`)
		if r.status != 201 {
			t.Fatalf("invite: %d %s", r.status, r.raw)
		}
		user := r.body["user"].(map[string]any)
		if user["email"] != "cleo@example.com" || user["role"] != "editor" || user["invite_pending"] != true {
			t.Fatalf("invited user = %v", user)
		}
		tok := linkToken(t, r.body["link"].(map[string]any)["url"].(string))

		// Nobody can sign in before the link is used (the placeholder password is never shown).
		if r := b.doAs(t, "", "POST", "/api/v1/auth/login", "application/json", `{"email":"cleo@example.com","password":""}`); r.status != 401 {
			t.Fatalf("login before the invitation is used: %d %s", r.status, r.raw)
		}
		list := b.do(t, "GET", "/api/v1/users", "", "")
		pending := 0
		for _, it := range list.body["items"].([]any) {
			if it.(map[string]any)["invite_pending"] == true {
				pending++
			}
		}
		if pending != 1 {
			t.Fatalf("%d users pending in the list, want 1: %s", pending, list.raw)
		}

		br := anonymous(t)
		info := br.send("GET", b.srv.URL+"/api/v1/auth/links/"+tok, "")
		if info.status != 200 || info.body["kind"] != "invite" || info.body["email"] != "cleo@example.com" {
			t.Fatalf("link info: %d %s", info.status, info.raw)
		}
		if r := br.send("POST", b.srv.URL+"/api/v1/auth/links/"+tok, `{"password":"short"}`); r.status != 422 || !strings.Contains(r.raw, `"path":"password"`) {
			t.Fatalf("short password: %d %s", r.status, r.raw)
		}
		used := br.send("POST", b.srv.URL+"/api/v1/auth/links/"+tok, `{"password":"cleo's own long password"}`)
		if used.status != 200 || used.body["csrf_token"] == "" {
			t.Fatalf("use link: %d %s", used.status, used.raw)
		}
		if me := br.send("GET", b.srv.URL+"/api/v1/auth/me", ""); me.status != 200 || me.body["role"] != "editor" {
			t.Fatalf("signed in after setting the password: %d %s", me.status, me.raw)
		}
		if r := anonymous(t).send("POST", b.srv.URL+"/api/v1/auth/links/"+tok, `{"password":"somebody else's password"}`); r.status != 410 {
			t.Fatalf("second use of the link: %d %s", r.status, r.raw)
		}
		if r := b.doAs(t, "", "POST", "/api/v1/auth/login", "application/json", `{"email":"cleo@example.com","password":"cleo's own long password"}`); r.status != 200 {
			t.Fatalf("login with the chosen password: %d %s", r.status, r.raw)
		}
	})
}

func TestResetLinkReplacesThePasswordAndEndsSessions(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		r := b.do(t, "POST", "/api/v1/users", "application/json", `{"email":"dan@example.com","password":"dan's first password","role":"viewer"}`)
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		id := r.body["id"].(string)
		dan := anonymous(t)
		if r := dan.send("POST", b.srv.URL+"/api/v1/auth/login", `{"email":"dan@example.com","password":"dan's first password"}`); r.status != 200 {
			t.Fatalf("login: %d %s", r.status, r.raw)
		}
		first := b.do(t, "POST", "/api/v1/users/"+id+"/reset-link", "", "")
		second := b.do(t, "POST", "/api/v1/users/"+id+"/reset-link", "", "")
		if first.status != 201 || second.status != 201 || second.body["kind"] != "reset" {
			t.Fatalf("reset links: %d %s / %d %s", first.status, first.raw, second.status, second.raw)
		}
		if r := anonymous(t).send("GET", b.srv.URL+"/api/v1/auth/links/"+linkToken(t, first.body["url"].(string)), ""); r.status != 410 {
			t.Fatalf("the replaced link still works: %d %s", r.status, r.raw)
		}
		if r := anonymous(t).send("POST", b.srv.URL+"/api/v1/auth/links/"+linkToken(t, second.body["url"].(string)), `{"password":"dan's second password"}`); r.status != 200 {
			t.Fatalf("use reset link: %d %s", r.status, r.raw)
		}
		if r := dan.send("GET", b.srv.URL+"/api/v1/auth/me", ""); r.status != 401 {
			t.Fatalf("the old session survived the reset: %d %s", r.status, r.raw)
		}
		if r := b.doAs(t, "", "POST", "/api/v1/auth/login", "application/json", `{"email":"dan@example.com","password":"dan's first password"}`); r.status != 401 {
			t.Fatalf("the old password still works: %d %s", r.status, r.raw)
		}
		if r := b.do(t, "POST", "/api/v1/users/nope/reset-link", "", ""); r.status != 404 {
			t.Fatalf("reset link for an unknown user: %d %s", r.status, r.raw)
		}
	})
}

func TestAdminRoutesRefuseEditorsAndViewers(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		for _, role := range []string{auth.RoleEditor, auth.RoleViewer} {
			_, key, err := b.auth.NewAPIKey(context.Background(), role, role, "test")
			storetest.Must(t, err, "key")
			for _, c := range []struct{ method, path, body string }{
				{"POST", "/api/v1/users/invite", `{"email":"x@example.com","role":"admin"}`},
				{"POST", "/api/v1/users/x/reset-link", ``},
				{"GET", "/api/v1/settings", ``},
				{"PUT", "/api/v1/settings", `{"retention":{"max_age":"1h","max_runs":1}}`},
				{"DELETE", "/api/v1/settings/retention", ``},
				{"GET", "/api/v1/audit", ``},
				{"GET", "/api/v1/users", ``},
				{"GET", "/api/v1/api-keys", ``},
			} {
				if r := b.doAs(t, key, c.method, c.path, "application/json", c.body); r.status != 403 {
					t.Errorf("%s %s %s: %d %s, want 403", role, c.method, c.path, r.status, r.raw)
				}
			}
		}
		if _, err := b.st.GetSetting(context.Background(), engine.RetentionKey); err == nil {
			t.Fatal("a refused PUT /settings stored the setting")
		}
	})
}

func TestAuditFiltersByActorActionAndTimeAndSaysWhatChanged(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		r := b.do(t, "POST", "/api/v1/users", "application/json", `{"email":"eve@example.com","password":"eve's long password","role":"viewer"}`)
		id := r.body["id"].(string)
		if r := b.do(t, "PATCH", "/api/v1/users/"+id, "application/json", `{"role":"editor","password":"a brand new password"}`); r.status != 200 {
			t.Fatalf("update: %d %s", r.status, r.raw)
		}
		_, other, err := b.auth.NewAPIKey(context.Background(), "other admin", auth.RoleAdmin, "test")
		storetest.Must(t, err, "key")
		if r := b.doAs(t, other, "POST", "/api/v1/workflows/validate", "application/json", validDoc); r.status != 200 {
			t.Fatalf("validate: %d", r.status)
		}
		if r := b.doAs(t, other, "POST", "/api/v1/api-keys", "application/json", `{"name":"ci","role":"viewer"}`); r.status != 201 {
			t.Fatalf("key: %d %s", r.status, r.raw)
		}

		get := func(q string) []map[string]any {
			t.Helper()
			r := b.do(t, "GET", "/api/v1/audit?"+q, "", "")
			if r.status != 200 {
				t.Fatalf("audit?%s: %d %s", q, r.status, r.raw)
			}
			var out []map[string]any
			for _, it := range r.body["items"].([]any) {
				out = append(out, it.(map[string]any))
			}
			return out
		}
		upd := get("action=user.update")
		if len(upd) != 1 {
			t.Fatalf("user.update entries: %v", upd)
		}
		detail := upd[0]["detail"].(map[string]any)
		changes := detail["changes"].(map[string]any)
		if role := changes["role"].([]any); role[0] != "viewer" || role[1] != "editor" || changes["password"] != true {
			t.Fatalf("changes = %v", changes)
		}
		if strings.Contains(mustJSON(t, upd[0]), "a brand new password") {
			t.Fatalf("the audit log kept a password: %v", upd[0])
		}
		if req := detail["request"].(map[string]any); req["password"] != "(redacted)" || req["role"] != "editor" {
			t.Fatalf("request detail = %v", req)
		}
		if all := get("action=user."); len(all) != 2 {
			t.Fatalf("user.* entries = %d, want create and update", len(all))
		}
		byOther := get("actor=OTHER")
		if len(byOther) != 1 || byOther[0]["action"] != "api_key.create" {
			t.Fatalf("entries by the other admin = %v", byOther)
		}
		if later := get("since=" + url.QueryEscape("2999-01-01T00:00:00Z")); len(later) != 0 {
			t.Fatalf("entries in the future: %v", later)
		}
		if earlier := get("until=" + url.QueryEscape("2000-01-01T00:00:00Z")); len(earlier) != 0 {
			t.Fatalf("entries before 2000: %v", earlier)
		}
		if r := b.do(t, "GET", "/api/v1/audit?since=yesterday", "", ""); r.status != 400 || !strings.Contains(r.raw, "since") {
			t.Fatalf("bad since: %d %s", r.status, r.raw)
		}
	})
}

func TestRetentionSettingIsValidatedStoredAndReset(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setupOn(t, storetest.Open(t, dialect), webhook.Options{MaxBody: 1024}, func(d *api.Deps) {
			d.Retention = engine.Retention{MaxAge: 720 * 60 * 60 * 1e9, MaxRuns: 10000}
		})
		r := b.do(t, "GET", "/api/v1/settings", "", "")
		ret := r.body["retention"].(map[string]any)
		if r.status != 200 || ret["max_age"] != "720h" || ret["max_runs"] != float64(10000) || ret["source"] != "configuration" {
			t.Fatalf("settings: %d %s", r.status, r.raw)
		}
		if r := b.do(t, "PUT", "/api/v1/settings", "application/json", `{"retention":{"max_age":"10s","max_runs":-2}}`); r.status != 422 ||
			!strings.Contains(r.raw, "retention.max_age") || !strings.Contains(r.raw, "retention.max_runs") {
			t.Fatalf("bad settings: %d %s", r.status, r.raw)
		}
		if _, err := b.st.GetSetting(context.Background(), engine.RetentionKey); err == nil {
			t.Fatal("a refused setting was stored")
		}
		r = b.do(t, "PUT", "/api/v1/settings", "application/json", `{"retention":{"max_age":"48h","max_runs":50}}`)
		ret = r.body["retention"].(map[string]any)
		if r.status != 200 || ret["max_age"] != "48h" || ret["max_runs"] != float64(50) || ret["source"] != "admin" ||
			ret["default"].(map[string]any)["max_age"] != "720h" {
			t.Fatalf("put: %d %s", r.status, r.raw)
		}
		got, _, err := engine.LoadRetention(context.Background(), b.st, engine.Retention{})
		storetest.Must(t, err, "load")
		if got.MaxRuns != 50 || got.MaxAge.Hours() != 48 {
			t.Fatalf("the engine would apply %+v", got)
		}
		r = b.do(t, "DELETE", "/api/v1/settings/retention", "", "")
		if ret := r.body["retention"].(map[string]any); r.status != 200 || ret["source"] != "configuration" || ret["max_age"] != "720h" {
			t.Fatalf("reset: %d %s", r.status, r.raw)
		}
	})
}

func TestConnectionsShowStatusAndTheWorkflowsUsingThem(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ring, _, err := secrets.LoadOrCreateFile(filepath.Join(t.TempDir(), "secret.key"))
		storetest.Must(t, err, "keys")
		b := setupOn(t, storetest.Open(t, dialect), webhook.Options{MaxBody: 1 << 16}, func(d *api.Deps) {
			d.Connections = connections.New(d.Store, connectors.Default, ring)
		})
		if r := b.do(t, "POST", "/api/v1/connections", "application/json", `{"name":"team-slack","connector":"slack","fields":{"bot_token":"xoxb-1"}}`); r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		doc := `{"schema":"switchboard/v1","name":"Ping the team","trigger":{"type":"webhook"},"steps":[
		 {"id":"route","type":"paths","paths":[{"name":"a","steps":[
		   {"id":"ping","type":"action","action":"slack.post_message","connection":"team-slack","input":{"channel":"#c","text":"hi"}}]}]},
		 {"id":"again","type":"action","action":"slack.post_message","connection":"team-slack","input":{"channel":"#c","text":"hi"}}]}`
		w := b.do(t, "POST", "/api/v1/workflows", "application/json", doc)
		if w.status != 201 {
			t.Fatalf("workflow: %d %s", w.status, w.raw)
		}
		list := b.do(t, "GET", "/api/v1/connections", "", "")
		c := list.body["items"].([]any)[0].(map[string]any)
		if c["status"] != "connected" {
			t.Fatalf("status = %v (%v)", c["status"], c["attention"])
		}
		used := c["used_by"].([]any)
		if len(used) != 1 {
			t.Fatalf("used_by = %v", used)
		}
		u := used[0].(map[string]any)
		if u["workflow_id"] != w.body["id"] || u["workflow_name"] != "Ping the team" || mustJSON(t, u["steps"]) != `["ping","again"]` {
			t.Fatalf("usage = %v", u)
		}
		one := b.do(t, "GET", "/api/v1/connections/"+c["id"].(string), "", "")
		if len(one.body["used_by"].([]any)) != 1 {
			t.Fatalf("GET one: used_by = %v", one.body["used_by"])
		}
	})
}

func newJarClient(jar *cookiejar.Jar) *http.Client {
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Test connection contacts the service with its documented harmless call,
// or says plainly that it tested nothing.
func TestConnectionTestCallsTheServiceOrSaysItCannot(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ring, _, err := secrets.LoadOrCreateFile(filepath.Join(t.TempDir(), "secret.key"))
		storetest.Must(t, err, "keys")
		calls := 0
		slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls++
			if r.Method != "POST" || r.URL.Path != "/api/auth.test" || r.Header.Get("Authorization") != "Bearer xoxb-good" {
				t.Errorf("Slack got %s %s auth=%q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"ok":true,"team":"Acme","user":"bot"}`))
		}))
		t.Cleanup(slack.Close)
		b := setupOn(t, storetest.Open(t, dialect), webhook.Options{MaxBody: 1 << 16}, func(d *api.Deps) {
			d.Connections = connections.New(d.Store, connectors.Default, ring)
			d.OutboundClient = slack.Client()
		})
		create := func(body string) string {
			t.Helper()
			r := b.do(t, "POST", "/api/v1/connections", "application/json", body)
			if r.status != 201 {
				t.Fatalf("create %s: %d %s", body, r.status, r.raw)
			}
			return r.body["id"].(string)
		}
		bot := create(`{"name":"bot","connector":"slack","fields":{"bot_token":"xoxb-good","base_url":"` + slack.URL + `/api"}}`)
		hook := create(`{"name":"hook","connector":"slack","fields":{"webhook_url":"https://hooks.slack.com/services/T/B/X"}}`)
		plain := create(`{"name":"plain-http","connector":"http","fields":{}}`)

		r := b.do(t, "POST", "/api/v1/connections/"+bot+"/test", "", "")
		if r.status != 200 || r.body["ok"] != true || r.body["tested"] != true || !strings.Contains(r.raw, "auth.test") || calls != 1 {
			t.Fatalf("bot token test: %d %s (%d calls)", r.status, r.raw, calls)
		}
		for _, id := range []string{hook, plain} {
			r := b.do(t, "POST", "/api/v1/connections/"+id+"/test", "", "")
			if r.status != 200 || r.body["ok"] != false || r.body["tested"] != false || !strings.HasPrefix(r.body["message"].(string), "Not tested: ") {
				t.Fatalf("untestable connection: %d %s", r.status, r.raw)
			}
		}
		if calls != 1 {
			t.Fatalf("the untestable connections contacted Slack: %d calls", calls)
		}
	})
}

// The dashboard lists the connections the Connections page marks as needing
// attention, with the same reason (here: never authorized).
func TestDashboardListsConnectionsNeedingAttentionWithTheirReason(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ring, _, err := secrets.LoadOrCreateFile(filepath.Join(t.TempDir(), "secret.key"))
		storetest.Must(t, err, "keys")
		b := setupOn(t, storetest.Open(t, dialect), webhook.Options{MaxBody: 1 << 16}, func(d *api.Deps) {
			d.Connections = connections.New(d.Store, connectors.Default, ring)
		})
		for _, body := range []string{
			`{"name":"fine","connector":"slack","fields":{"bot_token":"xoxb-1"}}`,
			`{"name":"partner","connector":"http","fields":{},"oauth2":{"client_id":"c","client_secret":"s","auth_url":"https://id.example/authorize","token_url":"https://id.example/token"}}`,
		} {
			if r := b.do(t, "POST", "/api/v1/connections", "application/json", body); r.status != 201 {
				t.Fatalf("create: %d %s", r.status, r.raw)
			}
		}
		r := b.do(t, "GET", "/api/v1/dashboard?range=hour", "", "")
		list := r.body["connections_needing_attention"].([]any)
		if r.status != 200 || len(list) != 1 {
			t.Fatalf("dashboard: %d %s", r.status, r.raw)
		}
		c := list[0].(map[string]any)
		conns := b.do(t, "GET", "/api/v1/connections", "", "")
		var page string
		for _, it := range conns.body["items"].([]any) {
			if m := it.(map[string]any); m["name"] == "partner" {
				page, _ = m["attention"].(string)
			}
		}
		if c["name"] != "partner" || c["reason"] == "" || c["reason"] != page || !strings.Contains(page, "not connected yet") {
			t.Fatalf("dashboard says %v; the connections page says %q", c, page)
		}
	})
}

// A failed "Test connection" (the service answers 401) marks the connection
// as needing attention with the reason and when, on the Connections page's
// view and the dashboard alike; the next passing test clears it.
func TestAFailedConnectionTestIsRememberedUntilOnePasses(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ring, _, err := secrets.LoadOrCreateFile(filepath.Join(t.TempDir(), "secret.key"))
		storetest.Must(t, err, "keys")
		refuse := true
		slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if refuse {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"ok":false,"error":"invalid_auth"}`))
				return
			}
			_, _ = w.Write([]byte(`{"ok":true,"team":"Acme","user":"bot"}`))
		}))
		t.Cleanup(slack.Close)
		b := setupOn(t, storetest.Open(t, dialect), webhook.Options{MaxBody: 1 << 16}, func(d *api.Deps) {
			d.Connections = connections.New(d.Store, connectors.Default, ring)
			d.OutboundClient = slack.Client()
		})
		r := b.do(t, "POST", "/api/v1/connections", "application/json", `{"name":"bot","connector":"slack","fields":{"bot_token":"xoxb-old","base_url":"`+slack.URL+`/api"}}`)
		if r.status != 201 || r.body["status"] != "connected" {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		id := r.body["id"].(string)
		dashboard := func() []any {
			t.Helper()
			return b.do(t, "GET", "/api/v1/dashboard?range=hour", "", "").body["connections_needing_attention"].([]any)
		}

		if r := b.do(t, "POST", "/api/v1/connections/"+id+"/test", "", ""); r.status != 200 || r.body["ok"] != false {
			t.Fatalf("refused test: %d %s", r.status, r.raw)
		}
		v := b.do(t, "GET", "/api/v1/connections/"+id, "", "")
		f, _ := v.body["failure"].(map[string]any)
		attention, _ := v.body["attention"].(string)
		if v.body["status"] != "needs_attention" || f == nil || f["source"] != "test" || f["at"] == "" ||
			!strings.HasPrefix(attention, "the last connection test failed: ") || !strings.Contains(attention, "invalid_auth") {
			t.Fatalf("after a refused test: %s", v.raw)
		}
		if d := dashboard(); len(d) != 1 || d[0].(map[string]any)["reason"] != attention {
			t.Fatalf("dashboard: %v, want the reason %q", d, attention)
		}

		refuse = false
		if r := b.do(t, "POST", "/api/v1/connections/"+id+"/test", "", ""); r.status != 200 || r.body["ok"] != true {
			t.Fatalf("passing test: %d %s", r.status, r.raw)
		}
		v = b.do(t, "GET", "/api/v1/connections/"+id, "", "")
		if v.body["status"] != "connected" || v.body["failure"] != nil || v.body["attention"] != nil {
			t.Fatalf("after a passing test: %s", v.raw)
		}
		if d := dashboard(); len(d) != 0 {
			t.Fatalf("dashboard still lists %v", d)
		}
	})
}

// The audit log names its targets as a person reads them — a user's e-mail,
// a workflow's, connection's or API key's name — kept when the entry is
// written (so a deleted target keeps its name); entries written before
// names were kept are named at read time while the target exists.
func TestAuditNamesItsTargets(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ring, _, err := secrets.LoadOrCreateFile(filepath.Join(t.TempDir(), "secret.key"))
		storetest.Must(t, err, "keys")
		b := setupOn(t, storetest.Open(t, dialect), webhook.Options{MaxBody: 1 << 16}, func(d *api.Deps) {
			d.Connections = connections.New(d.Store, connectors.Default, ring)
		})
		created := func(path, body string) string {
			t.Helper()
			r := b.do(t, "POST", path, "application/json", body)
			if r.status != 201 {
				t.Fatalf("POST %s: %d %s", path, r.status, r.raw)
			}
			if k, ok := r.body["api_key"].(map[string]any); ok {
				return k["id"].(string)
			}
			return r.body["id"].(string)
		}
		user := created("/api/v1/users", `{"email":"eve@example.com","password":"eve's long password","role":"viewer"}`)
		wf := created("/api/v1/workflows", validDoc)
		conn := created("/api/v1/connections", `{"name":"crm-main","connector":"http","fields":{}}`)
		key := created("/api/v1/api-keys", `{"name":"deploy script","role":"viewer"}`)
		for _, path := range []string{"/api/v1/connections/" + conn, "/api/v1/api-keys/" + key} {
			if r := b.do(t, "DELETE", path, "", ""); r.status != 204 {
				t.Fatalf("DELETE %s: %d %s", path, r.status, r.raw)
			}
		}
		// An entry from before names were kept.
		storetest.Must(t, b.st.AddAudit(context.Background(), &store.AuditEntry{At: time.Now().UTC(), ActorKind: "user",
			Action: "user.update", TargetType: "user", TargetID: user}), "old entry")

		r := b.do(t, "GET", "/api/v1/audit?limit=100", "", "")
		if r.status != 200 {
			t.Fatalf("audit: %d %s", r.status, r.raw)
		}
		want := map[string]string{"user.create": "eve@example.com", "workflow.create": "orders", "connection.create": "crm-main",
			"connection.delete": "crm-main", "api_key.create": "deploy script", "api_key.revoke": "deploy script", "user.update": "eve@example.com"}
		ids := map[string]string{"user.create": user, "workflow.create": wf, "connection.create": conn, "connection.delete": conn,
			"api_key.create": key, "api_key.revoke": key, "user.update": user}
		seen := map[string]bool{}
		for _, it := range r.body["items"].([]any) {
			e := it.(map[string]any)
			a, _ := e["action"].(string)
			if w, ok := want[a]; ok {
				seen[a] = true
				if e["target_name"] != w || e["target_id"] != ids[a] {
					t.Errorf("%s: target %v (%v), want %q (%s)", a, e["target_name"], e["target_id"], w, ids[a])
				}
				if d, _ := e["detail"].(map[string]any); d != nil && d["target_name"] != nil {
					t.Errorf("%s: the name is repeated in the detail: %v", a, d)
				}
			}
		}
		if len(seen) != len(want) {
			t.Fatalf("entries seen %v, want all of %v: %s", seen, want, r.raw)
		}
	})
}
