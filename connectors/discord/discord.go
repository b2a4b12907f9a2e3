// Package discord posts messages to Discord channels by executing a webhook
// (POST /webhooks/{webhook.id}/{webhook.token}?wait=true).
package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard-dev/switchboard/connectors"
)

func init() { connectors.Register(Connector{}) }

// APIVersion is the Discord API version webhook calls are pinned to. Webhook
// URLs as Discord hands them out (https://discord.com/api/webhooks/…) carry no
// version and would get the old default one, whose rate-limit fields differ.
const APIVersion = "v10"

// Limits Discord documents for a webhook message.
const (
	MaxContentChars = 2000
	MaxEmbeds       = 10
)

// Connector implements discord.*.
type Connector struct{}

// Spec describes the connector.
func (Connector) Spec() connectors.Spec {
	return connectors.Spec{
		ID: "discord", Name: "Discord", Icon: "discord", Version: "1.0.0",
		Description: "Post messages to Discord channels through a channel webhook.",
		Auth: connectors.AuthSpec{Kind: connectors.AuthCustom, Fields: []connectors.Field{
			{Key: "webhook_url", Label: "Webhook URL", Type: connectors.TypeString, Required: true, Secret: true,
				Help: "Channel settings → Integrations → Webhooks → Copy Webhook URL (https://discord.com/api/webhooks/{id}/{token}). The token in it lets anyone post, so it is kept secret."},
		}, Test: "Reads the webhook with GET (Discord answers its channel and name); posts nothing."},
		Actions: []connectors.ActionSpec{{
			ID: "post_message", Name: "Post a message",
			Description: "Execute the webhook and wait for Discord to confirm the message.",
			Input: []connectors.Field{
				{Key: "content", Label: "Content", Type: connectors.TypeText,
					Help: "Up to 2000 characters of Discord markdown. Content or embeds is required."},
				{Key: "embeds", Label: "Embeds", Type: connectors.TypeList,
					Help: "Up to 10 embed objects ({\"title\",\"description\",\"url\",\"color\",\"fields\":[…]})"},
				{Key: "username", Label: "Username", Type: connectors.TypeString, Help: "Overrides the webhook's name"},
				{Key: "avatar_url", Label: "Avatar URL", Type: connectors.TypeString, Help: "Overrides the webhook's avatar"},
				{Key: "tts", Label: "Text to speech", Type: connectors.TypeBoolean, Default: false},
				{Key: "allowed_mentions", Label: "Allowed mentions", Type: connectors.TypeObject, Default: map[string]any{"parse": []any{}},
					Help: "Who the message may ping. The default {\"parse\": []} pings no one, so an @everyone, @here or <@id> that arrives in workflow data stays plain text; {\"parse\": [\"users\"]} lets user mentions ping."},
				{Key: "thread_id", Label: "Thread id", Type: connectors.TypeString, Help: "Post in this thread of the webhook's channel"},
			},
			SampleOutput: map[string]any{"id": "1234567890123456789", "channel_id": "987654321098765432", "timestamp": "2024-05-01T12:00:00.000000+00:00"},
		}},
	}
}

// webhookPath matches a webhook URL's path, with or without an API version
// and behind any prefix (a proxy): …/api[/vN]/webhooks/{id}/{token}.
var webhookPath = regexp.MustCompile(`^(.*)/api(?:/v\d+)?/webhooks/(\d+)/([A-Za-z0-9_.\-]+)/?$`)

// hook is a parsed webhook URL.
type hook struct {
	url   *url.URL // pinned to APIVersion, query kept
	token string
}

// parseHook reads the credential without ever echoing it: a parse error would
// quote the URL, and the URL holds the token.
func parseHook(raw string) (hook, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return hook{}, connectors.BadInput(errors.New("the Discord connection needs a webhook URL"))
	}
	u, ok := connectors.HTTPURL(raw)
	if !ok {
		return hook{}, connectors.BadInput(errors.New("the Discord webhook URL must be an https:// address"))
	}
	m := webhookPath.FindStringSubmatch(u.Path)
	if m == nil {
		return hook{}, connectors.BadInput(errors.New("the Discord webhook URL must look like https://discord.com/api/webhooks/{id}/{token}"))
	}
	u.Path = m[1] + "/api/" + APIVersion + "/webhooks/" + m[2] + "/" + m[3]
	u.RawPath = ""
	return hook{url: u, token: m[3]}, nil
}

// Execute posts the message.
func (Connector) Execute(ctx context.Context, req connectors.Request) (connectors.Result, error) {
	if req.Action != "post_message" {
		return connectors.Result{}, connectors.BadInput(fmt.Errorf("unknown action %q", req.Action))
	}
	h, err := parseHook(req.Credentials["webhook_url"])
	if err != nil {
		return connectors.Result{}, err
	}
	msg, err := message(req.Input)
	if err != nil {
		return connectors.Result{}, err
	}
	u := *h.url
	q := u.Query()
	q.Set("wait", "true")
	if tid, _ := req.Input["thread_id"].(string); tid != "" {
		q.Set("thread_id", tid)
	}
	u.RawQuery = q.Encode()
	raw, err := json.Marshal(msg)
	if err != nil {
		return connectors.Result{}, connectors.BadInput(fmt.Errorf("encoding the message: %w", err))
	}
	resp, body, err := send(ctx, req.HTTP, http.MethodPost, u.String(), raw)
	if err != nil {
		return connectors.Result{}, err
	}
	if err := classify(resp, body, h.token); err != nil {
		return connectors.Result{}, err
	}
	var m struct {
		ID        string `json:"id"`
		ChannelID string `json:"channel_id"`
		Timestamp string `json:"timestamp"`
	}
	if err := json.Unmarshal(body, &m); err != nil || m.ID == "" {
		// The message was posted; only the confirmation is unreadable, so a
		// retry would post it twice.
		return connectors.Result{}, connectors.Permanent(fmt.Errorf("Discord answered %d without a message object", resp.StatusCode))
	}
	return connectors.Result{Output: map[string]any{"id": m.ID, "channel_id": m.ChannelID, "timestamp": m.Timestamp}}, nil
}

// message builds the JSON body Discord documents for Execute Webhook.
func message(in map[string]any) (map[string]any, error) {
	msg := map[string]any{}
	content, _ := in["content"].(string)
	if content != "" {
		if n := utf8.RuneCountInString(content); n > MaxContentChars {
			return nil, connectors.BadInput(fmt.Errorf("content is %d characters; Discord accepts at most %d", n, MaxContentChars))
		}
		msg["content"] = content
	}
	if v, ok := in["embeds"]; ok && v != nil {
		embeds, ok := v.([]any)
		if !ok {
			return nil, connectors.BadInput(fmt.Errorf("embeds must be a list, not %T", v))
		}
		if len(embeds) > MaxEmbeds {
			return nil, connectors.BadInput(fmt.Errorf("%d embeds; Discord accepts at most %d", len(embeds), MaxEmbeds))
		}
		for i, e := range embeds {
			if _, ok := e.(map[string]any); !ok {
				return nil, connectors.BadInput(fmt.Errorf("embeds[%d] must be an object, not %T", i, e))
			}
		}
		if len(embeds) > 0 {
			msg["embeds"] = embeds
		}
	}
	if msg["content"] == nil && msg["embeds"] == nil {
		return nil, connectors.BadInput(errors.New("content or embeds is required"))
	}
	for _, k := range []string{"username", "avatar_url"} {
		if s, _ := in[k].(string); s != "" {
			msg[k] = s
		}
	}
	if tts, _ := in["tts"].(bool); tts {
		msg["tts"] = true
	}
	// No one is pinged unless the step says so: text from a form or an API
	// must not be able to @everyone a server.
	msg["allowed_mentions"] = map[string]any{"parse": []any{}}
	if v, ok := in["allowed_mentions"]; ok && v != nil {
		am, ok := v.(map[string]any)
		if !ok {
			return nil, connectors.BadInput(fmt.Errorf("allowed_mentions must be an object, not %T", v))
		}
		msg["allowed_mentions"] = am
	}
	return msg, nil
}

// send calls the webhook; the errors name no URL, which holds the token.
func send(ctx context.Context, client *http.Client, method, u string, body []byte) (*http.Response, []byte, error) {
	hreq, err := connectors.NewRequest(ctx, method, u, body, "application/json")
	if err != nil {
		return nil, nil, err
	}
	return connectors.Exchange(client, hreq, "the Discord webhook")
}

// apiError is Discord's error body: {"code":50035,"message":"Invalid Form
// Body","errors":{…}}, or for a rate limit {"message","retry_after","global"}.
type apiError struct {
	Code       int             `json:"code"`
	Message    string          `json:"message"`
	Errors     json.RawMessage `json:"errors"`
	RetryAfter float64         `json:"retry_after"`
	Global     bool            `json:"global"`
}

// classify maps an answer to an error kind: 2xx succeeds, 429 is a rate limit
// (retry_after in the body, else X-RateLimit-Reset-After, else Retry-After),
// 5xx can pass on a retry, any other 4xx cannot.
func classify(resp *http.Response, body []byte, token string) error {
	status := resp.StatusCode
	if status >= 200 && status < 300 {
		return nil
	}
	var e apiError
	_ = json.Unmarshal(body, &e)
	detail := connectors.Redact(describe(e, body), token)
	switch {
	case status == http.StatusTooManyRequests:
		scope := resp.Header.Get("X-RateLimit-Scope")
		if e.Global {
			scope = "global"
		}
		if scope != "" {
			detail += " (scope " + connectors.Redact(scope, token) + ")"
		}
		return connectors.RateLimited(rateLimitDelay(e, resp.Header), fmt.Errorf("Discord rate limit: %s", detail))
	case status >= 500:
		return connectors.Retryable(fmt.Errorf("Discord answered %d: %s", status, detail))
	default:
		return connectors.Permanent(fmt.Errorf("Discord refused the request (%d): %s", status, detail))
	}
}

func rateLimitDelay(e apiError, h http.Header) time.Duration {
	secs := e.RetryAfter
	if secs <= 0 {
		secs, _ = strconv.ParseFloat(strings.TrimSpace(h.Get("X-RateLimit-Reset-After")), 64)
	}
	if secs <= 0 {
		secs, _ = strconv.ParseFloat(strings.TrimSpace(h.Get("Retry-After")), 64)
	}
	return connectors.Seconds(secs)
}

// describe names Discord's error: its message and code, then the fields a
// form error points at ("embeds.0.title: Must be 256 or fewer in length.").
func describe(e apiError, body []byte) string {
	if e.Message == "" {
		s := strings.TrimSpace(string(body))
		if s == "" {
			return "no details"
		}
		return clip(s)
	}
	out := e.Message
	if e.Code != 0 {
		out += fmt.Sprintf(" (code %d)", e.Code)
	}
	if len(e.Errors) > 0 {
		var tree any
		if json.Unmarshal(e.Errors, &tree) == nil {
			var fields []string
			walk("", tree, &fields)
			sort.Strings(fields)
			if len(fields) > 0 {
				out += ": " + strings.Join(fields, "; ")
			}
		}
	}
	return clip(out)
}

// walk flattens Discord's nested form errors: each leaf is a path with an
// "_errors" list of {code, message}.
func walk(path string, v any, out *[]string) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	if errs, ok := m["_errors"].([]any); ok {
		for _, x := range errs {
			if xe, ok := x.(map[string]any); ok {
				*out = append(*out, fmt.Sprintf("%s: %v (%v)", strings.TrimPrefix(path, "."), xe["message"], xe["code"]))
			}
		}
	}
	for k, sub := range m {
		if k != "_errors" {
			walk(path+"."+k, sub, out)
		}
	}
}

func clip(s string) string { return connectors.Clip(s, 500) }

// TestConnection fetches the webhook with its token (GET
// /webhooks/{id}/{token}), which checks the URL without posting anything.
func (Connector) TestConnection(ctx context.Context, req connectors.Request) error {
	h, err := parseHook(req.Credentials["webhook_url"])
	if err != nil {
		return err
	}
	resp, body, err := send(ctx, req.HTTP, http.MethodGet, h.url.String(), nil)
	if err != nil {
		return err
	}
	return classify(resp, body, h.token)
}
