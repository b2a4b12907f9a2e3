package discord

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/connectors/connectortest"
)

const (
	webhookID = "1234567890123456789"
	token     = "Xq3-TOKENSECRET_vW9yZ0aBcDeFgHiJkLmNoPqRsTuVwXyZ01234567"
	wantPath  = "/api/v10/webhooks/" + webhookID + "/" + token
)

// posted is what Discord answers to a webhook executed with wait=true.
const posted = `{"id":"1234567890123456790","type":0,"content":"Deploy finished","channel_id":"987654321098765432",
 "author":{"bot":true,"id":"` + webhookID + `","username":"Switchboard","avatar":null,"discriminator":"0000"},
 "attachments":[],"embeds":[],"mentions":[],"mention_roles":[],"pinned":false,"mention_everyone":false,"tts":false,
 "timestamp":"2024-05-01T12:00:00.000000+00:00","edited_timestamp":null,"flags":0,"components":[],"webhook_id":"` + webhookID + `"}`

// receiver answers like Discord's Execute Webhook and checks the request it
// documents: POST to /api/v10/webhooks/{id}/{token}, wait=true, JSON body.
type receiver struct {
	t      *testing.T
	query  string
	bodies []map[string]any
	status int
	header http.Header
	answer string
}

func (f *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		f.t.Errorf("method %s, want POST", r.Method)
	}
	if r.URL.Path != wantPath {
		f.t.Errorf("path %s, want %s", r.URL.Path, wantPath)
	}
	if r.URL.RawQuery != f.query {
		f.t.Errorf("query %q, want %q", r.URL.RawQuery, f.query)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("Content-Type %q, want application/json", ct)
	}
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		f.t.Errorf("body is not a JSON object: %s", raw)
	}
	f.bodies = append(f.bodies, body)
	w.Header().Set("Content-Type", "application/json")
	for k, v := range f.header {
		w.Header()[k] = v
	}
	w.WriteHeader(f.status)
	io.WriteString(w, f.answer)
}

// serve starts the receiver and returns a webhook URL for it, shaped like the
// one Discord hands out (no API version).
func serve(t *testing.T, f *receiver, pathAndQuery string) string {
	t.Helper()
	f.t = t
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv.URL + pathAndQuery
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON in test: %v", err)
	}
	return v
}

func TestExecuteWebhookSendsTheDocumentedRequest(t *testing.T) {
	connectortest.CheckSpec(t, Connector{})
	embed := map[string]any{"title": "Order 42", "description": "Paid", "color": 5814783.0,
		"fields": []any{map[string]any{"name": "Total", "value": "€12", "inline": true}}}
	cases := []struct {
		name      string
		hookPath  string
		input     map[string]any
		wantQuery string
		wantBody  string
	}{
		{"content only, no one pinged by default", "/api/webhooks/" + webhookID + "/" + token,
			map[string]any{"content": "Deploy finished @everyone"}, "wait=true",
			`{"content":"Deploy finished @everyone","allowed_mentions":{"parse":[]}}`},
		{"every field", "/api/webhooks/" + webhookID + "/" + token,
			map[string]any{"content": "New order", "username": "Shop", "avatar_url": "https://example.com/a.png",
				"embeds": []any{embed}, "tts": true, "allowed_mentions": map[string]any{"parse": []any{"users"}}},
			"wait=true",
			`{"content":"New order","username":"Shop","avatar_url":"https://example.com/a.png","tts":true,
			  "embeds":[{"title":"Order 42","description":"Paid","color":5814783,"fields":[{"name":"Total","value":"€12","inline":true}]}],
			  "allowed_mentions":{"parse":["users"]}}`},
		{"embeds only, in a thread", "/api/webhooks/" + webhookID + "/" + token,
			map[string]any{"embeds": []any{embed}, "thread_id": "555", "tts": false}, "thread_id=555&wait=true",
			`{"embeds":[{"title":"Order 42","description":"Paid","color":5814783,"fields":[{"name":"Total","value":"€12","inline":true}]}],
			  "allowed_mentions":{"parse":[]}}`},
		{"versioned URL with wait=false is pinned to v10 and waits", "/api/v9/webhooks/" + webhookID + "/" + token + "/?wait=false",
			map[string]any{"content": "x"}, "wait=true", `{"content":"x","allowed_mentions":{"parse":[]}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &receiver{query: c.wantQuery, status: 200, answer: posted}
			res, err := connectortest.Run(context.Background(), Connector{}, "post_message", c.input,
				map[string]string{"webhook_url": serve(t, f, c.hookPath)}, http.DefaultClient)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.bodies) != 1 || !reflect.DeepEqual(f.bodies[0], decode(t, c.wantBody)) {
				got, _ := json.Marshal(f.bodies)
				t.Fatalf("body %s\nwant %s", got, c.wantBody)
			}
			want := map[string]any{"id": "1234567890123456790", "channel_id": "987654321098765432", "timestamp": "2024-05-01T12:00:00.000000+00:00"}
			if !reflect.DeepEqual(res.Output, want) {
				t.Fatalf("output %v", res.Output)
			}
		})
	}
}

func TestDiscordErrorsAndRateLimitsMapToKinds(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		header  http.Header
		answer  string
		kind    connectors.ErrorKind
		after   time.Duration
		mention string
	}{
		{"rate limited: retry_after in the body wins", 429,
			http.Header{"Retry-After": {"2"}, "X-RateLimit-Reset-After": {"1.5"}, "X-RateLimit-Scope": {"shared"}},
			`{"message":"You are being rate limited.","retry_after":1.337,"global":false}`,
			connectors.KindRateLimited, 1337 * time.Millisecond, "You are being rate limited. (scope shared)"},
		{"global rate limit", 429, http.Header{"Retry-After": {"65"}, "X-RateLimit-Global": {"true"}},
			`{"message":"You are being rate limited.","retry_after":64.57,"global":true}`,
			connectors.KindRateLimited, 64570 * time.Millisecond, "scope global"},
		{"rate limited: X-RateLimit-Reset-After without a body", 429, http.Header{"X-RateLimit-Reset-After": {"0.75"}}, ``,
			connectors.KindRateLimited, 750 * time.Millisecond, "rate limit"},
		{"rate limited by Cloudflare: Retry-After only", 429, http.Header{"Retry-After": {"30"}, "Content-Type": {"text/html"}}, `<html>1015</html>`,
			connectors.KindRateLimited, 30 * time.Second, "1015"},
		{"invalid form body names the field", 400, nil,
			`{"code":50035,"errors":{"embeds":{"0":{"title":{"_errors":[{"code":"BASE_TYPE_MAX_LENGTH","message":"Must be 256 or fewer in length."}]}}}},"message":"Invalid Form Body"}`,
			connectors.KindPermanent, 0, "Invalid Form Body (code 50035): embeds.0.title: Must be 256 or fewer in length. (BASE_TYPE_MAX_LENGTH)"},
		{"empty message", 400, nil, `{"message":"Cannot send an empty message","code":50006}`,
			connectors.KindPermanent, 0, "Cannot send an empty message (code 50006)"},
		{"invalid token", 401, nil, `{"message":"Invalid Webhook Token","code":50027}`,
			connectors.KindPermanent, 0, "Invalid Webhook Token (code 50027)"},
		{"webhook deleted", 404, nil, `{"message":"Unknown Webhook","code":10015}`,
			connectors.KindPermanent, 0, "Unknown Webhook (code 10015)"},
		{"an answer echoing the token", 403, nil, `{"message":"Missing Access for ` + token + `","code":50001}`,
			connectors.KindPermanent, 0, "Missing Access for [redacted] (code 50001)"},
		{"server error", 500, nil, `{"message":"500: Internal Server Error","code":0}`,
			connectors.KindRetryable, 0, "500: Internal Server Error"},
		{"gateway down", 502, http.Header{"Content-Type": {"text/html"}}, `<html>502 Bad Gateway</html>`,
			connectors.KindRetryable, 0, "502 Bad Gateway"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &receiver{query: "wait=true", status: c.status, header: c.header, answer: c.answer}
			_, err := connectortest.Run(context.Background(), Connector{}, "post_message", map[string]any{"content": "x"},
				map[string]string{"webhook_url": serve(t, f, "/api/webhooks/"+webhookID+"/"+token)}, http.DefaultClient)
			if connectors.KindOf(err) != c.kind || connectors.RetryAfterOf(err) != c.after {
				t.Fatalf("err = %v (kind %s, after %s), want %s after %s", err, connectors.KindOf(err), connectors.RetryAfterOf(err), c.kind, c.after)
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Fatalf("error %q does not say %q", err, c.mention)
			}
			if strings.Contains(err.Error(), "TOKENSECRET") {
				t.Fatalf("error %q leaks the webhook token", err)
			}
		})
	}
}

func TestPostedMessageWithoutConfirmationIsNotRetried(t *testing.T) {
	f := &receiver{query: "wait=true", status: 200, answer: ``}
	_, err := connectortest.Run(context.Background(), Connector{}, "post_message", map[string]any{"content": "x"},
		map[string]string{"webhook_url": serve(t, f, "/api/webhooks/"+webhookID+"/"+token)}, http.DefaultClient)
	if connectors.KindOf(err) != connectors.KindPermanent {
		t.Fatalf("err = %v, want permanent (a retry would post twice)", err)
	}
}

func TestBadInputIsRefusedBeforeCallingDiscord(t *testing.T) {
	f := &receiver{query: "wait=true", status: 200, answer: posted}
	hook := serve(t, f, "/api/webhooks/"+webhookID+"/"+token)
	cases := []struct {
		name  string
		creds map[string]string
		input map[string]any
	}{
		{"no webhook URL", map[string]string{}, map[string]any{"content": "x"}},
		{"not a webhook URL", map[string]string{"webhook_url": "https://discord.com/channels/1/TOKENSECRET"}, map[string]any{"content": "x"}},
		{"not http", map[string]string{"webhook_url": "ftp://discord.com/api/webhooks/1/TOKENSECRET"}, map[string]any{"content": "x"}},
		{"unparsable URL", map[string]string{"webhook_url": "https://disc ord.com/api/webhooks/1/%zzTOKENSECRET"}, map[string]any{"content": "x"}},
		{"nothing to send", map[string]string{"webhook_url": hook}, map[string]any{"username": "x"}},
		{"empty embeds and no content", map[string]string{"webhook_url": hook}, map[string]any{"embeds": []any{}}},
		{"content over 2000 characters", map[string]string{"webhook_url": hook}, map[string]any{"content": strings.Repeat("é", 2001)}},
		{"eleven embeds", map[string]string{"webhook_url": hook}, map[string]any{"embeds": make([]any, 11)}},
		{"an embed that is not an object", map[string]string{"webhook_url": hook}, map[string]any{"embeds": []any{"title"}}},
		{"allowed_mentions not an object", map[string]string{"webhook_url": hook}, map[string]any{"content": "x", "allowed_mentions": []any{}}},
		{"unknown input", map[string]string{"webhook_url": hook}, map[string]any{"content": "x", "channel": "#general"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := connectortest.Run(context.Background(), Connector{}, "post_message", c.input, c.creds, http.DefaultClient)
			if connectors.KindOf(err) != connectors.KindBadInput {
				t.Fatalf("err = %v, want bad input", err)
			}
			if strings.Contains(err.Error(), "TOKENSECRET") {
				t.Fatalf("error %q leaks the webhook token", err)
			}
		})
	}
	if _, err := (Connector{}).Execute(context.Background(), connectors.Request{Action: "send",
		Credentials: map[string]string{"webhook_url": hook}, HTTP: http.DefaultClient}); connectors.KindOf(err) != connectors.KindBadInput {
		t.Fatalf("unknown action: %v", err)
	}
	if len(f.bodies) != 0 {
		t.Fatalf("Discord was called %d times", len(f.bodies))
	}
}

func TestUnreachableDiscordIsRetryableAndHidesTheToken(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	hook := srv.URL + "/api/webhooks/" + webhookID + "/" + token
	srv.Close()
	_, err := connectortest.Run(context.Background(), Connector{}, "post_message", map[string]any{"content": "x"},
		map[string]string{"webhook_url": hook}, http.DefaultClient)
	if connectors.KindOf(err) != connectors.KindRetryable || strings.Contains(err.Error(), "TOKENSECRET") {
		t.Fatalf("err = %v, want retryable without the token", err)
	}
}

func TestConnectionGetsTheWebhookWithoutPosting(t *testing.T) {
	cases := []struct {
		status int
		answer string
		ok     bool
	}{
		{200, `{"application_id":null,"avatar":null,"channel_id":"987654321098765432","guild_id":"1","id":"` + webhookID + `","name":"Alerts","type":1,"token":"` + token + `"}`, true},
		{401, `{"message":"Invalid Webhook Token","code":50027}`, false},
		{404, `{"message":"Unknown Webhook","code":10015}`, false},
	}
	for _, c := range cases {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet || r.URL.Path != wantPath || r.URL.RawQuery != "" || r.ContentLength > 0 {
				t.Errorf("request %s %s?%s (%d bytes), want GET %s", r.Method, r.URL.Path, r.URL.RawQuery, r.ContentLength, wantPath)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(c.status)
			io.WriteString(w, c.answer)
		}))
		err := Connector{}.TestConnection(context.Background(), connectors.Request{HTTP: srv.Client(),
			Credentials: map[string]string{"webhook_url": srv.URL + "/api/webhooks/" + webhookID + "/" + token}})
		srv.Close()
		if (err == nil) != c.ok {
			t.Errorf("%d: err = %v, want ok=%v", c.status, err, c.ok)
		}
		if err != nil && (strings.Contains(err.Error(), "TOKENSECRET") || connectors.KindOf(err) != connectors.KindPermanent) {
			t.Errorf("%d: err = %v", c.status, err)
		}
	}
}
