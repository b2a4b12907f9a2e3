package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/api"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/flows"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/trigger/webhook"
)

// Every hook answer, accepted or refused, is data that a browser must not
// sniff into a page or run scripts in.
func TestHookRepliesCarrySecurityHeaders(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		_, hook := b.createWorkflow(t)
		for _, r := range []response{
			b.do(t, "POST", hook, "application/json", `{"total":1}`),
			b.do(t, "POST", hook+"/test", "application/json", `{"total":1}`),
			b.do(t, "POST", "/hooks/nope", "application/json", `{}`),
			b.do(t, "POST", hook, "application/json", `{"total":`),
		} {
			if r.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%d reply without nosniff: %v", r.status, r.header)
			}
			if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("%d reply CSP = %q", r.status, csp)
			}
		}
	})
}

// A hosted form cannot be framed by another site unless its workflow lists
// the origins that may embed it.
func TestFormPagesRefuseFramingUnlessOriginsListed(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		_, path := b.createForm(t, formDoc)
		p := b.get(t, path)
		csp := p.header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || p.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("form CSP = %q", csp)
		}
		if nf := b.get(t, "/forms/not-a-token"); !strings.Contains(nf.header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Fatalf("notice CSP = %q", nf.header.Get("Content-Security-Policy"))
		}
		embed := strings.Replace(formDoc, `"success":`, `"embed_origins":["https://shop.example.com"],"success":`, 1)
		_, path2 := b.createForm(t, embed)
		if csp := b.get(t, path2).header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors https://shop.example.com") {
			t.Fatalf("embeddable form CSP = %q", csp)
		}
		bad := strings.Replace(formDoc, `"success":`, `"embed_origins":["javascript:alert(1)", "https://a.example/path"],"success":`, 1)
		r := b.do(t, "POST", "/api/v1/workflows", "application/json", bad)
		if r.status != 422 || !strings.Contains(r.raw, "trigger.form.embed_origins[0]") || !strings.Contains(r.raw, "trigger.form.embed_origins[1]") {
			t.Fatalf("bad embed origins: %d %s", r.status, r.raw)
		}
	})
}

// loginFrom posts a login with a client-chosen X-Forwarded-For.
func (b *bundle) loginFrom(t *testing.T, xff, email, password string) response {
	t.Helper()
	req, _ := http.NewRequest("POST", b.srv.URL+"/api/v1/auth/login", strings.NewReader(`{"email":"`+email+`","password":"`+password+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", xff)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
}

// Without configured proxies a client cannot pick its own address: not to
// get a fresh login bucket, not to forge the audit log.
func TestForwardedForIsIgnoredUnlessFromATrustedProxy(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		// A frozen clock: the per-IP bucket must not refill while slow hashes run.
		frozen := time.Now()
		var svc *auth.Service
		b := setupOn(t, storetest.Open(t, dialect), webhook.Options{MaxBody: 1024}, func(d *api.Deps) {
			svc = auth.New(d.Store, auth.Options{Now: func() time.Time { return frozen }})
			d.Auth = svc
		})
		ctx := context.Background()
		_, err := svc.Setup(ctx, auth.UserInput{Email: "ada@example.com", Password: "a long enough password"})
		storetest.Must(t, err, "setup")
		r := b.loginFrom(t, "203.0.113.7", "ada@example.com", "a long enough password")
		if r.status != 200 {
			t.Fatalf("login: %d %s", r.status, r.raw)
		}
		entries, _, err := b.st.ListAudit(ctx, store.Page{})
		storetest.Must(t, err, "audit")
		if len(entries) == 0 || entries[0].IP != "127.0.0.1" {
			t.Fatalf("audit entries %+v, want the peer address 127.0.0.1", entries)
		}
		var last response
		for i := range 11 {
			last = b.loginFrom(t, fmt.Sprintf("198.51.100.%d", i), "nobody@example.com", "wrong password!")
		}
		if last.status != 429 || last.header.Get("Retry-After") == "" {
			t.Fatalf("11th login with a fresh X-Forwarded-For each: %d %s, want 429", last.status, last.raw)
		}

		// Behind a configured proxy the forwarded address is the client's.
		trusted := setupOn(t, storetest.Open(t, dialect), webhook.Options{MaxBody: 1024}, func(d *api.Deps) {
			d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		})
		_, err = trusted.auth.Setup(ctx, auth.UserInput{Email: "ada@example.com", Password: "a long enough password"})
		storetest.Must(t, err, "setup")
		if r := trusted.loginFrom(t, "203.0.113.7", "ada@example.com", "a long enough password"); r.status != 200 {
			t.Fatalf("login: %d %s", r.status, r.raw)
		}
		entries, _, err = trusted.st.ListAudit(ctx, store.Page{})
		storetest.Must(t, err, "audit")
		if len(entries) == 0 || entries[0].IP != "203.0.113.7" {
			t.Fatalf("audit entries %+v, want the forwarded address", entries)
		}
	})
}

// A cross-site page cannot sign a browser in (login CSRF), set up the
// instance, or sign it out; JSON routes take JSON only.
func TestLoginSetupAndLogoutRefuseCrossSiteRequests(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		body := `{"email":"ada@example.com","password":"a long enough password"}`
		send := func(path, ctype string, h map[string]string) response {
			req, _ := http.NewRequest("POST", b.srv.URL+path, strings.NewReader(body))
			if ctype != "" {
				req.Header.Set("Content-Type", ctype)
			}
			for k, v := range h {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			return response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
		}
		for _, c := range []struct {
			name, path, ctype string
			h                 map[string]string
			status            int
		}{
			{"setup as text/plain", "/api/v1/auth/setup", "text/plain", nil, 415},
			{"setup as a form", "/api/v1/auth/setup", "application/x-www-form-urlencoded", nil, 415},
			{"setup from another origin", "/api/v1/auth/setup", "application/json", map[string]string{"Origin": "https://evil.example"}, 403},
			{"setup cross-site", "/api/v1/auth/setup", "application/json", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
			{"logout cross-site", "/api/v1/auth/logout", "", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
			{"logout from another origin", "/api/v1/auth/logout", "", map[string]string{"Origin": "null"}, 403},
		} {
			r := send(c.path, c.ctype, c.h)
			if r.status != c.status || !strings.Contains(r.header.Get("Content-Type"), "problem+json") {
				t.Errorf("%s: %d %s, want %d problem", c.name, r.status, r.raw, c.status)
			}
		}
		if n, _ := b.st.CountUsers(context.Background()); n != 0 {
			t.Fatalf("a refused setup created %d users", n)
		}
		if r := send("/api/v1/auth/setup", "application/json", map[string]string{"Origin": b.srv.URL, "Sec-Fetch-Site": "same-origin"}); r.status != 201 {
			t.Fatalf("same-origin setup: %d %s", r.status, r.raw)
		}
		if r := send("/api/v1/auth/login", "text/plain;charset=UTF-8", nil); r.status != 415 {
			t.Fatalf("login as text/plain: %d %s", r.status, r.raw)
		}
		if r := send("/api/v1/auth/login", "application/json; charset=utf-8", map[string]string{"Sec-Fetch-Site": "same-origin"}); r.status != 200 {
			t.Fatalf("same-origin login: %d %s", r.status, r.raw)
		}
		if r := b.do(t, "POST", "/api/v1/api-keys", "text/plain", `{"name":"k","role":"viewer"}`); r.status != 415 {
			t.Fatalf("an API write as text/plain: %d %s", r.status, r.raw)
		}
	})
}

// An expression that would hold a CPU for minutes is stopped and named as a
// limit; the request answers instead of running on after the client left.
func TestEvaluateStopsCPUHeavyExpressions(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		for _, body := range []string{
			`{"expression": "let s = repeat(\"a\", 1000000); count(1..999, {count(1..999, {sha256(s) != \"\"}) >= 999})"}`,
			// Each part alone fits the budget; the request's seven do not.
			`{"template": "{{ let r = 1..300; count(1..1000, {count(r, {# > 0}) == 300}) }} {{ let r = 1..300; count(1..1000, {count(r, {# > 0}) == 300}) }} {{ let r = 1..300; count(1..1000, {count(r, {# > 0}) == 300}) }} {{ let r = 1..300; count(1..1000, {count(r, {# > 0}) == 300}) }} {{ let r = 1..300; count(1..1000, {count(r, {# > 0}) == 300}) }} {{ let r = 1..300; count(1..1000, {count(r, {# > 0}) == 300}) }} {{ let r = 1..300; count(1..1000, {count(r, {# > 0}) == 300}) }}"}`,
		} {
			r := b.do(t, "POST", evaluatePath, "application/json", body)
			if r.status != 422 || !strings.Contains(r.raw, "too much work") {
				t.Errorf("%s: %d %s", body, r.status, r.raw)
			}
		}
	})
}

func TestEvaluateOnePartOfTheBudgetFits(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		r := b.do(t, "POST", evaluatePath, "application/json", `{"template": "{{ let r = 1..300; count(1..1000, {count(r, {# > 0}) == 300}) }}"}`)
		if r.status != 200 {
			t.Fatalf("one part: %d %s", r.status, r.raw)
		}
	})
}

// With a hooks URL of its own, webhook and form links name it, and each
// host serves only its half: hook and form replies never come from the
// app's origin (the editor's test URL excepted: its reply is ours), the
// app never from the hooks origin. A host that is neither (a proxy that
// rewrites Host) reaches both.
func TestHooksAndFormsOnTheirOwnOrigin(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		b := setupOn(t, st, webhook.Options{MaxBody: 1024}, func(d *api.Deps) {
			d.Flows = flows.New(st, connectors.Default, "http://hooks.sb.test")
			d.PublicURL, d.HooksURL = "http://app.sb.test", "http://hooks.sb.test"
		})
		r := b.do(t, "POST", "/api/v1/workflows", "application/json", validDoc)
		hookURL, _ := r.body["webhook_url"].(string)
		if r.status != 201 || !strings.HasPrefix(hookURL, "http://hooks.sb.test/hooks/") {
			t.Fatalf("webhook_url = %q (%d %s)", hookURL, r.status, r.raw)
		}
		hook := strings.TrimPrefix(hookURL, "http://hooks.sb.test")
		f := b.do(t, "POST", "/api/v1/workflows", "application/json", formDoc)
		formURL, _ := f.body["form_url"].(string)
		if f.status != 201 || !strings.HasPrefix(formURL, "http://hooks.sb.test/forms/") {
			t.Fatalf("form_url = %q (%d %s)", formURL, f.status, f.raw)
		}
		form := strings.TrimPrefix(formURL, "http://hooks.sb.test")
		send := func(host, method, path, body string) int {
			t.Helper()
			req, _ := http.NewRequest(method, b.srv.URL+path, strings.NewReader(body))
			req.Host = host
			req.Header.Set("Authorization", "Bearer "+b.key)
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode
		}
		for _, c := range []struct {
			host, method, path, body string
			want                     int
		}{
			{"hooks.sb.test", "POST", hook, `{"total":1}`, 202},
			{"app.sb.test", "POST", hook, `{"total":1}`, 404},
			{"APP.sb.test", "POST", hook, `{"total":1}`, 404},
			{"app.sb.test", "POST", hook + "/test", `{"total":1}`, 200},
			{"hooks.sb.test", "GET", form, "", 200},
			{"app.sb.test", "GET", form, "", 404},
			{"hooks.sb.test", "GET", "/api/v1/workflows", "", 404},
			{"hooks.sb.test", "GET", "/", "", 404},
			{"hooks.sb.test", "GET", "/healthz", "", 200},
			{"app.sb.test", "GET", "/api/v1/workflows", "", 200},
			{"127.0.0.1", "POST", hook, `{"total":1}`, 202},
			{"127.0.0.1", "GET", "/api/v1/workflows", "", 200},
		} {
			if got := send(c.host, c.method, c.path, c.body); got != c.want {
				t.Errorf("%s %s on %s: %d, want %d", c.method, c.path, c.host, got, c.want)
			}
		}
	})
}
