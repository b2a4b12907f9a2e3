package telegram

import (
	"context"
	"encoding/json"
	"errors"
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

// token is shaped like a real one; "TOKENSECRET" must never show in an error
// or an output.
const token = "123456789:AAH-TOKENSECRET_0123456789abcdefghijk"

// sent is Telegram's answer to a successful sendMessage.
const sent = `{"ok":true,"result":{"message_id":42,"from":{"id":123456789,"is_bot":true,"first_name":"Switchboard","username":"switchboard_bot"},
 "chat":{"id":-1001234567890,"title":"Ops","type":"supergroup"},"date":1714564800,"text":"Deploy finished"}}`

// receiver answers like the Bot API and checks the request Telegram
// documents: POST {base}/bot<token>/sendMessage with a JSON body.
type receiver struct {
	t      *testing.T
	path   string
	raw    []string
	bodies []map[string]any
	status int
	header http.Header
	answer string
}

func (f *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		f.t.Errorf("method %s, want POST", r.Method)
	}
	if r.URL.Path != f.path || r.URL.RawQuery != "" {
		f.t.Errorf("URL %s?%s, want %s", r.URL.Path, r.URL.RawQuery, f.path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("Content-Type %q, want application/json", ct)
	}
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		f.t.Errorf("body is not a JSON object: %s", raw)
	}
	f.raw = append(f.raw, string(raw))
	f.bodies = append(f.bodies, body)
	w.Header().Set("Content-Type", "application/json")
	for k, v := range f.header {
		w.Header()[k] = v
	}
	w.WriteHeader(f.status)
	io.WriteString(w, f.answer)
}

func serve(t *testing.T, f *receiver) string {
	t.Helper()
	f.t = t
	if f.path == "" {
		f.path = "/bot" + token + "/sendMessage"
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv.URL
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON in test: %v", err)
	}
	return v
}

func TestSendMessageSendsTheDocumentedRequest(t *testing.T) {
	connectortest.CheckSpec(t, Connector{})
	cases := []struct {
		name     string
		basePath string
		input    map[string]any
		wantBody string
		wantRaw  string // a fragment the raw body must hold (integer ids stay integers)
	}{
		{"numeric chat id from data, plain text", "",
			map[string]any{"chat_id": -1001234567890.0, "text": "Deploy finished", "parse_mode": "none"},
			`{"chat_id":-1001234567890,"text":"Deploy finished"}`, `"chat_id":-1001234567890,`},
		{"channel username, HTML, silent, reply", "",
			map[string]any{"chat_id": "@ops_alerts", "text": "<b>Deploy</b> finished", "parse_mode": "HTML",
				"disable_notification": true, "reply_to_message_id": 7.0},
			`{"chat_id":"@ops_alerts","text":"<b>Deploy</b> finished","parse_mode":"HTML","disable_notification":true,"reply_parameters":{"message_id":7}}`,
			`"reply_parameters":{"message_id":7}`},
		{"id typed as text, MarkdownV2, notification kept", "",
			map[string]any{"chat_id": " -1001234567890 ", "text": "*Deploy* finished\\!", "parse_mode": "MarkdownV2", "disable_notification": false},
			`{"chat_id":-1001234567890,"text":"*Deploy* finished\\!","parse_mode":"MarkdownV2"}`, `"chat_id":-1001234567890,`},
		{"self-hosted Bot API server under a path", "/tg/",
			map[string]any{"chat_id": 99.0, "text": "hi"}, `{"chat_id":99,"text":"hi"}`, `"chat_id":99,`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &receiver{status: 200, answer: sent}
			base := strings.TrimSuffix(c.basePath, "/")
			f.path = base + "/bot" + token + "/sendMessage"
			srv := serve(t, f)
			res, err := connectortest.Run(context.Background(), Connector{}, "send_message", c.input,
				map[string]string{"bot_token": token, "base_url": srv + c.basePath}, http.DefaultClient)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.bodies) != 1 || !reflect.DeepEqual(f.bodies[0], decode(t, c.wantBody)) || !strings.Contains(f.raw[0], c.wantRaw) {
				t.Fatalf("body %s\nwant %s", f.raw, c.wantBody)
			}
			out := res.Output.(map[string]any)
			if out["message_id"] != int64(42) || out["chat_id"] != int64(-1001234567890) || out["date"] != int64(1714564800) ||
				out["message"].(map[string]any)["text"] != "Deploy finished" {
				t.Fatalf("output %v", out)
			}
			if b, _ := json.Marshal(out); strings.Contains(string(b), "TOKENSECRET") {
				t.Fatalf("output %s holds the token", b)
			}
		})
	}
}

func TestTelegramErrorsAndRateLimitsMapToKinds(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		header  http.Header
		answer  string
		kind    connectors.ErrorKind
		after   time.Duration
		mention string
	}{
		{"flood control", 429, nil,
			`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}`,
			connectors.KindRateLimited, 5 * time.Second, "error 429: Too Many Requests: retry after 5"},
		{"rate limited by a proxy", 429, http.Header{"Retry-After": {"3"}, "Content-Type": {"text/html"}}, `<html>slow down</html>`,
			connectors.KindRateLimited, 3 * time.Second, "slow down"},
		{"chat not found", 400, nil, `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`,
			connectors.KindPermanent, 0, "error 400: Bad Request: chat not found"},
		{"bad markup", 400, nil, `{"ok":false,"error_code":400,"description":"Bad Request: can't parse entities: Character '!' is reserved and must be escaped with the preceding '\\'"}`,
			connectors.KindPermanent, 0, "can't parse entities"},
		{"group upgraded to a supergroup", 400, nil,
			`{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1009876543210}}`,
			connectors.KindPermanent, 0, "use that chat_id"},
		{"blocked by the user", 403, nil, `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`,
			connectors.KindPermanent, 0, "Forbidden: bot was blocked by the user"},
		{"revoked token", 401, nil, `{"ok":false,"error_code":401,"description":"Unauthorized"}`,
			connectors.KindPermanent, 0, "error 401: Unauthorized"},
		{"unknown token", 404, nil, `{"ok":false,"error_code":404,"description":"Not Found"}`,
			connectors.KindPermanent, 0, "error 404: Not Found"},
		{"an answer echoing the token", 400, nil, `{"ok":false,"error_code":400,"description":"Bad Request: bot ` + token + ` is odd"}`,
			connectors.KindPermanent, 0, "bot [redacted] is odd"},
		{"server error", 500, nil, `{"ok":false,"error_code":500,"description":"Internal Server Error"}`,
			connectors.KindRetryable, 0, "error 500: Internal Server Error"},
		{"gateway down", 502, http.Header{"Content-Type": {"text/html"}}, `<html><center><h1>502 Bad Gateway</h1></center></html>`,
			connectors.KindRetryable, 0, "502 Bad Gateway"},
		{"not the Bot API", 200, http.Header{"Content-Type": {"text/html"}}, `<html>welcome</html>`,
			connectors.KindPermanent, 0, "without a Bot API answer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &receiver{status: c.status, header: c.header, answer: c.answer}
			_, err := connectortest.Run(context.Background(), Connector{}, "send_message", map[string]any{"chat_id": 1.0, "text": "x"},
				map[string]string{"bot_token": token, "base_url": serve(t, f)}, http.DefaultClient)
			if connectors.KindOf(err) != c.kind || connectors.RetryAfterOf(err) != c.after {
				t.Fatalf("err = %v (kind %s, after %s), want %s after %s", err, connectors.KindOf(err), connectors.RetryAfterOf(err), c.kind, c.after)
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Fatalf("error %q does not say %q", err, c.mention)
			}
			if strings.Contains(err.Error(), "TOKENSECRET") {
				t.Fatalf("error %q leaks the bot token", err)
			}
		})
	}
}

func TestBadInputIsRefusedBeforeCallingTelegram(t *testing.T) {
	f := &receiver{status: 200, answer: sent}
	srv := serve(t, f)
	creds := map[string]string{"bot_token": token, "base_url": srv}
	cases := []struct {
		name  string
		creds map[string]string
		input map[string]any
	}{
		{"no token", map[string]string{"base_url": srv}, map[string]any{"chat_id": 1.0, "text": "x"}},
		{"a token that would change the path", map[string]string{"bot_token": "123:TOKENSECRET/../getUpdates?", "base_url": srv}, map[string]any{"chat_id": 1.0, "text": "x"}},
		{"base URL not http", map[string]string{"bot_token": token, "base_url": "ftp://api.telegram.org"}, map[string]any{"chat_id": 1.0, "text": "x"}},
		{"no chat", creds, map[string]any{"text": "x"}},
		{"blank chat", creds, map[string]any{"chat_id": "  ", "text": "x"}},
		{"chat id not whole", creds, map[string]any{"chat_id": 1.5, "text": "x"}},
		{"chat id a boolean", creds, map[string]any{"chat_id": true, "text": "x"}},
		{"no text", creds, map[string]any{"chat_id": 1.0}},
		{"blank text", creds, map[string]any{"chat_id": 1.0, "text": " \n"}},
		{"legacy Markdown", creds, map[string]any{"chat_id": 1.0, "text": "x", "parse_mode": "Markdown"}},
		{"reply id not whole", creds, map[string]any{"chat_id": 1.0, "text": "x", "reply_to_message_id": 2.5}},
		{"reply id negative", creds, map[string]any{"chat_id": 1.0, "text": "x", "reply_to_message_id": -2.0}},
		{"unknown input", creds, map[string]any{"chat_id": 1.0, "text": "x", "reply_markup": map[string]any{}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := connectortest.Run(context.Background(), Connector{}, "send_message", c.input, c.creds, http.DefaultClient)
			if connectors.KindOf(err) != connectors.KindBadInput {
				t.Fatalf("err = %v, want bad input", err)
			}
			if strings.Contains(err.Error(), "TOKENSECRET") {
				t.Fatalf("error %q leaks the bot token", err)
			}
		})
	}
	if _, err := (Connector{}).Execute(context.Background(), connectors.Request{Action: "sendMessage",
		Credentials: creds, HTTP: http.DefaultClient}); connectors.KindOf(err) != connectors.KindBadInput {
		t.Fatalf("unknown action: %v", err)
	}
	if len(f.bodies) != 0 {
		t.Fatalf("Telegram was called %d times", len(f.bodies))
	}
}

func TestNetworkFailuresAreRetryableAndHideTheToken(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	_, err := connectortest.Run(context.Background(), Connector{}, "send_message", map[string]any{"chat_id": 1.0, "text": "x"},
		map[string]string{"bot_token": token, "base_url": closed.URL}, http.DefaultClient)
	if connectors.KindOf(err) != connectors.KindRetryable || strings.Contains(err.Error(), "TOKENSECRET") {
		t.Fatalf("refused connection: err = %v, want retryable without the token", err)
	}

	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer slow.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = connectortest.Run(ctx, Connector{}, "send_message", map[string]any{"chat_id": 1.0, "text": "x"},
		map[string]string{"bot_token": token, "base_url": slow.URL}, http.DefaultClient)
	if connectors.KindOf(err) != connectors.KindRetryable || !errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "TOKENSECRET") {
		t.Fatalf("timeout: err = %v, want a retryable deadline error without the token", err)
	}
}

func TestConnectionCallsGetMe(t *testing.T) {
	cases := []struct {
		status int
		answer string
		kind   connectors.ErrorKind
	}{
		{200, `{"ok":true,"result":{"id":123456789,"is_bot":true,"first_name":"Switchboard","username":"switchboard_bot","can_join_groups":true}}`, ""},
		{401, `{"ok":false,"error_code":401,"description":"Unauthorized"}`, connectors.KindPermanent},
		{502, `<html>Bad Gateway</html>`, connectors.KindRetryable},
	}
	for _, c := range cases {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet || r.URL.Path != "/bot"+token+"/getMe" || r.ContentLength > 0 {
				t.Errorf("request %s %s (%d bytes), want GET /bot<token>/getMe", r.Method, r.URL.Path, r.ContentLength)
			}
			w.WriteHeader(c.status)
			io.WriteString(w, c.answer)
		}))
		err := Connector{}.TestConnection(context.Background(), connectors.Request{HTTP: srv.Client(),
			Credentials: map[string]string{"bot_token": token, "base_url": srv.URL}})
		srv.Close()
		if c.kind == "" && err != nil || c.kind != "" && connectors.KindOf(err) != c.kind {
			t.Errorf("%d: err = %v, want %q", c.status, err, c.kind)
		}
		if err != nil && strings.Contains(err.Error(), "TOKENSECRET") {
			t.Errorf("%d: error %q leaks the token", c.status, err)
		}
	}
	if err := (Connector{}).TestConnection(context.Background(), connectors.Request{Credentials: map[string]string{"bot_token": "nope"}}); connectors.KindOf(err) != connectors.KindBadInput {
		t.Fatalf("malformed token: %v", err)
	}
}
