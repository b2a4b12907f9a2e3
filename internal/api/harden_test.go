package api_test

import (
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store/storetest"
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
