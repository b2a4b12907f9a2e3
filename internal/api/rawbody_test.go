package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// A body with NUL bytes or invalid UTF-8 is accepted on both databases
// (except JSON, which must be UTF-8); the inbox returns its bytes unchanged
// and expressions see the same sanitised text on both (NUL and invalid
// bytes as U+FFFD).
func TestWebhookBodiesWithNULAndInvalidUTF8(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		id, hook := b.createDoc(t, `{"schema":"switchboard/v1","name":"raw","trigger":{"type":"webhook","webhook":{"dedupe":{"disabled":true}}},
			"steps":[{"id":"m","type":"map","fields":{"t":"{{ trigger.raw }}"}}]}`)
		cases := []struct {
			name, contentType, query, body string
			check                          func(t *testing.T, trig map[string]any)
		}{
			{"text with NUL", "text/plain", "", "a\x00b", func(t *testing.T, trig map[string]any) {
				if trig["raw"] != "a\uFFFDb" || trig["body"] != "a\uFFFDb" {
					t.Fatalf("trigger raw %q body %q", trig["raw"], trig["body"])
				}
			}},
			{"JSON with \\u0000 in a value and a key", "application/json", "", `{"name":"x\u0000y","k\u0000":1}`, func(t *testing.T, trig map[string]any) {
				body := trig["body"].(map[string]any)
				if body["name"] != "x\uFFFDy" || body["k\uFFFD"] != 1.0 {
					t.Fatalf("trigger body %q", body)
				}
			}},
			{"JSON with an escaped backslash before u0000 keeps the text", "application/json", "", `{"s":"\\u0000"}`, func(t *testing.T, trig map[string]any) {
				if s := trig["body"].(map[string]any)["s"]; s != `\u0000` {
					t.Fatalf("trigger body s = %q, want the six characters \\u0000", s)
				}
			}},
			{"invalid UTF-8", "text/plain", "", "ok\xff\xfe\x00end", func(t *testing.T, trig map[string]any) {
				if trig["raw"] != "ok\uFFFD\uFFFDend" {
					t.Fatalf("trigger raw %q", trig["raw"])
				}
			}},
			{"NUL in the query", "text/plain", "?q=%00x", "q", func(t *testing.T, trig map[string]any) {
				if q := trig["query"].(map[string]any)["q"]; q != "\uFFFDx" {
					t.Fatalf("trigger query q %q", q)
				}
			}},
		}
		for _, c := range cases {
			r := b.send(t, hook+c.query, c.body, http.Header{"Content-Type": {c.contentType}})
			if r.status != 202 {
				t.Fatalf("%s: %d %s, want 202", c.name, r.status, r.raw)
			}
			run, err := b.st.GetRun(context.Background(), r.body["run_id"].(string))
			storetest.Must(t, err, "run")
			var trig map[string]any
			if err := json.Unmarshal(run.Trigger, &trig); err != nil {
				t.Fatalf("%s: stored trigger %q: %v", c.name, run.Trigger, err)
			}
			c.check(t, trig)
			inbox := b.do(t, "GET", "/api/v1/workflows/"+id+"/inbox?limit=1", "", "")
			entry := inbox.body["items"].([]any)[0].(map[string]any)
			got, err := base64.StdEncoding.DecodeString(entry["body_base64"].(string))
			if err != nil || string(got) != c.body {
				t.Fatalf("%s: inbox body_base64 = %q (%v), want the bytes sent %q", c.name, got, err, c.body)
			}
			if strings.ContainsRune(entry["body"].(string), 0) {
				t.Fatalf("%s: inbox text body holds NUL", c.name)
			}
		}
		// JSON must be UTF-8 (RFC 8259): refused naming where, not run on
		// altered text; the inbox still keeps the bytes sent.
		bad := "{\"n\":\"\xc3\x28\"}"
		if r := b.send(t, hook, bad, http.Header{"Content-Type": {"application/json"}}); r.status != 400 || !strings.Contains(r.raw, "not valid UTF-8 (byte 6, line 1, column 7)") {
			t.Fatalf("JSON with invalid UTF-8: %d %s, want 400 naming the byte", r.status, r.raw)
		}
		inbox := b.do(t, "GET", "/api/v1/workflows/"+id+"/inbox?limit=1", "", "")
		entry := inbox.body["items"].([]any)[0].(map[string]any)
		if got, _ := base64.StdEncoding.DecodeString(entry["body_base64"].(string)); string(got) != bad || entry["verdict"] != "rejected" {
			t.Fatalf("the refused request's inbox entry: %v", entry)
		}
		if r := b.send(t, "/hooks/abc%00def", "{}", nil); r.status != 404 {
			t.Fatalf("token with NUL: %d %s, want 404", r.status, r.raw)
		}
	})
}
