package slack

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
)

// fakeSlack answers like Slack's Web API and incoming webhooks, and checks
// the requests Slack documents: method, path, bearer token, JSON content
// type with charset, and the body fields.
type fakeSlack struct {
	t        *testing.T
	token    string
	requests []map[string]any
	answer   func(path string, body map[string]any) (status int, header http.Header, resp string)
}

func (f *fakeSlack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		f.t.Errorf("method %s, want POST", r.Method)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		f.t.Errorf("Content-Type %q", ct)
	}
	if strings.HasPrefix(r.URL.Path, "/api/") && r.Header.Get("Authorization") != "Bearer "+f.token {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":false,"error":"invalid_auth"}`)
		return
	}
	var body map[string]any
	raw, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(raw, &body); err != nil {
		f.t.Errorf("body is not JSON: %s", raw)
	}
	f.requests = append(f.requests, body)
	status, h, resp := f.answer(r.URL.Path, body)
	for k, v := range h {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	io.WriteString(w, resp)
}

func run(t *testing.T, creds map[string]string, input map[string]any, f *fakeSlack) (connectors.Result, error) {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	for k, v := range creds {
		creds[k] = strings.ReplaceAll(v, "SERVER", srv.URL)
	}
	return Connector{}.Execute(context.Background(), connectors.Request{Action: "post_message", Input: input,
		Credentials: creds, HTTP: srv.Client()})
}

func TestPostMessageWithBotToken(t *testing.T) {
	f := &fakeSlack{t: t, token: "xoxb-123", answer: func(path string, body map[string]any) (int, http.Header, string) {
		if path != "/api/chat.postMessage" {
			t.Errorf("path %s", path)
		}
		return 200, http.Header{"Content-Type": {"application/json"}}, `{"ok":true,"channel":"C123","ts":"1700000000.000100","message":{"text":"hi"}}`
	}}
	res, err := run(t, map[string]string{"bot_token": "xoxb-123", "base_url": "SERVER/api"},
		map[string]any{"channel": "#sales", "text": "New order", "thread_ts": "1699.1", "blocks": []any{map[string]any{"type": "section"}}}, f)
	if err != nil {
		t.Fatal(err)
	}
	b := f.requests[0]
	if b["channel"] != "#sales" || b["text"] != "New order" || b["thread_ts"] != "1699.1" || len(b["blocks"].([]any)) != 1 {
		t.Fatalf("request body %v", b)
	}
	if out := res.Output.(map[string]any); out["ts"] != "1700000000.000100" || out["channel"] != "C123" {
		t.Fatalf("output %v", out)
	}
}

func TestSlackErrorsMapToRetryableOrPermanent(t *testing.T) {
	cases := []struct {
		name   string
		status int
		header http.Header
		body   string
		kind   connectors.ErrorKind
		after  time.Duration
	}{
		{"rate limited by HTTP 429", 429, http.Header{"Retry-After": {"30"}}, ``, connectors.KindRateLimited, 30 * time.Second},
		{"ok:false ratelimited", 200, nil, `{"ok":false,"error":"ratelimited"}`, connectors.KindRateLimited, 0},
		{"channel not found", 200, nil, `{"ok":false,"error":"channel_not_found"}`, connectors.KindPermanent, 0},
		{"invalid auth", 200, nil, `{"ok":false,"error":"invalid_auth"}`, connectors.KindPermanent, 0},
		{"internal error", 200, nil, `{"ok":false,"error":"internal_error"}`, connectors.KindRetryable, 0},
		{"server down", 503, nil, `upstream`, connectors.KindRetryable, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeSlack{t: t, token: "xoxb-1", answer: func(string, map[string]any) (int, http.Header, string) {
				return c.status, c.header, c.body
			}}
			_, err := run(t, map[string]string{"bot_token": "xoxb-1", "base_url": "SERVER/api"}, map[string]any{"channel": "C1", "text": "x"}, f)
			if connectors.KindOf(err) != c.kind || connectors.RetryAfterOf(err) != c.after {
				t.Fatalf("err = %v (kind %s, after %s), want %s after %s", err, connectors.KindOf(err), connectors.RetryAfterOf(err), c.kind, c.after)
			}
			if c.body != "" && c.status == 200 && !strings.Contains(err.Error(), strings.Split(strings.Split(c.body, `"error":"`)[1], `"`)[0]) {
				t.Fatalf("error %q does not name Slack's code", err)
			}
		})
	}
}

func TestIncomingWebhook(t *testing.T) {
	cases := []struct {
		status int
		body   string
		kind   connectors.ErrorKind
	}{
		{200, "ok", ""},
		{400, "invalid_payload", connectors.KindPermanent},
		{404, "channel_not_found", connectors.KindPermanent},
		{429, "", connectors.KindRateLimited},
		{500, "rollup_error", connectors.KindRetryable},
	}
	for _, c := range cases {
		f := &fakeSlack{t: t, answer: func(path string, body map[string]any) (int, http.Header, string) {
			if path != "/services/T0/B0/s3cr3t" {
				t.Errorf("path %s", path)
			}
			return c.status, http.Header{"Content-Type": {"text/html"}}, c.body
		}}
		_, err := run(t, map[string]string{"webhook_url": "SERVER/services/T0/B0/s3cr3t"}, map[string]any{"text": "hello", "channel": "#ignored"}, f)
		if c.kind == "" {
			if err != nil || f.requests[0]["text"] != "hello" {
				t.Fatalf("%d: %v %v", c.status, err, f.requests)
			}
			continue
		}
		if connectors.KindOf(err) != c.kind {
			t.Fatalf("%d %s: err = %v, want %s", c.status, c.body, err, c.kind)
		}
	}
	if _, err := (Connector{}).Execute(context.Background(), connectors.Request{Action: "post_message",
		Input: map[string]any{"text": "x"}, Credentials: map[string]string{}}); connectors.KindOf(err) != connectors.KindBadInput {
		t.Fatalf("no credentials: %v", err)
	}
}

// Test connection calls auth.test as Slack documents it (POST with the bot
// token as a Bearer header) and sends no message; a webhook URL alone says
// plainly that it cannot be tested.
func TestConnectionCallsAuthTestAndSaysWhenItCannot(t *testing.T) {
	for _, c := range []struct {
		answer string
		ok     bool
	}{
		{`{"ok":true,"url":"https://acme.slack.com/","team":"Acme","user":"switchboard","team_id":"T1","user_id":"U1","bot_id":"B1"}`, true},
		{`{"ok":false,"error":"invalid_auth"}`, false},
	} {
		var calls int
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls++
			body, _ := io.ReadAll(r.Body)
			if r.Method != http.MethodPost || r.URL.Path != "/api/auth.test" || r.Header.Get("Authorization") != "Bearer xoxb-test-token" ||
				!strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || string(body) != "{}" {
				t.Errorf("request %s %s auth=%q type=%q body=%s, want POST /api/auth.test with the bot token and {}",
					r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), body)
			}
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, c.answer)
		}))
		err := Connector{}.TestConnection(context.Background(), connectors.Request{HTTP: srv.Client(),
			Credentials: map[string]string{"bot_token": "xoxb-test-token", "base_url": srv.URL + "/api"}})
		srv.Close()
		if calls != 1 || (err == nil) != c.ok {
			t.Errorf("answer %s: %d calls, err = %v, want ok=%v", c.answer, calls, err, c.ok)
		}
		if !c.ok && (connectors.KindOf(err) != connectors.KindPermanent || !strings.Contains(err.Error(), "invalid_auth")) {
			t.Errorf("refused token: err = %v, want a permanent invalid_auth", err)
		}
	}
	err := Connector{}.TestConnection(context.Background(), connectors.Request{
		Credentials: map[string]string{"webhook_url": "https://hooks.slack.com/services/T/B/X"}})
	if !errors.Is(err, connectors.ErrCannotTest) || !strings.Contains(err.Error(), "without posting") {
		t.Fatalf("webhook only: err = %v, want ErrCannotTest saying why", err)
	}
}
