// Package slack posts messages to Slack through an incoming webhook or the
// Web API's chat.postMessage with a bot token.
package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
)

func init() { connectors.Register(Connector{}) }

// DefaultBaseURL is Slack's Web API.
const DefaultBaseURL = "https://slack.com/api"

// Connector implements slack.*.
type Connector struct{}

// Spec describes the connector.
func (Connector) Spec() connectors.Spec {
	return connectors.Spec{
		ID: "slack", Name: "Slack", Icon: "slack", Version: "1.0.0",
		Description: "Post messages to Slack channels.",
		Auth: connectors.AuthSpec{Kind: connectors.AuthCustom, Fields: []connectors.Field{
			{Key: "webhook_url", Label: "Incoming webhook URL", Type: connectors.TypeString, Secret: true,
				Help: "https://hooks.slack.com/services/… — posts to the channel chosen when the webhook was made"},
			{Key: "bot_token", Label: "Bot token", Type: connectors.TypeString, Secret: true,
				Help: "xoxb-… with the chat:write scope; lets a step choose the channel"},
			{Key: "base_url", Label: "API base URL", Type: connectors.TypeString, Default: DefaultBaseURL,
				Help: "Change only for a Slack-compatible server"},
		}, Test: "Calls Slack auth.test with the bot token; sends no message. An incoming-webhook URL alone cannot be checked without posting to its channel."},
		Actions: []connectors.ActionSpec{{
			ID: "post_message", Name: "Post a message",
			Input: []connectors.Field{
				{Key: "channel", Label: "Channel", Type: connectors.TypeString, Help: "#channel or channel id (bot token only)"},
				{Key: "text", Label: "Text", Type: connectors.TypeText, Required: true, Help: "Slack mrkdwn; also the notification text when blocks are set"},
				{Key: "blocks", Label: "Blocks", Type: connectors.TypeList, Help: "Block Kit blocks"},
				{Key: "thread_ts", Label: "Reply in thread", Type: connectors.TypeString, Help: "ts of the parent message (bot token only)"},
				{Key: "username", Label: "Username", Type: connectors.TypeString},
				{Key: "icon_emoji", Label: "Icon emoji", Type: connectors.TypeString},
			},
			SampleOutput: map[string]any{"ok": true, "channel": "C0123456", "ts": "1700000000.000100"},
		}},
	}
}

// Execute posts the message.
func (Connector) Execute(ctx context.Context, req connectors.Request) (connectors.Result, error) {
	if req.Action != "post_message" {
		return connectors.Result{}, connectors.BadInput(fmt.Errorf("unknown action %q", req.Action))
	}
	msg := map[string]any{"text": req.Input["text"]}
	for _, k := range []string{"blocks", "username", "icon_emoji"} {
		if v, ok := req.Input[k]; ok && v != nil && v != "" {
			msg[k] = v
		}
	}
	switch {
	case req.Credentials["bot_token"] != "":
		channel, _ := req.Input["channel"].(string)
		if channel == "" {
			return connectors.Result{}, connectors.BadInput(errors.New("channel is required with a bot token"))
		}
		msg["channel"] = channel
		if ts, ok := req.Input["thread_ts"].(string); ok && ts != "" {
			msg["thread_ts"] = ts
		}
		return postMessage(ctx, req, msg)
	case req.Credentials["webhook_url"] != "":
		return postWebhook(ctx, req, msg)
	default:
		return connectors.Result{}, connectors.BadInput(errors.New("the Slack connection needs a webhook URL or a bot token"))
	}
}

func baseURL(req connectors.Request) string {
	if b := strings.TrimRight(req.Credentials["base_url"], "/"); b != "" {
		return b
	}
	return DefaultBaseURL
}

func send(ctx context.Context, client *http.Client, url, token string, body any) (*http.Response, []byte, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, nil, connectors.BadInput(err)
	}
	hreq, err := connectors.NewRequest(ctx, http.MethodPost, url, raw, "application/json; charset=utf-8")
	if err != nil {
		return nil, nil, err
	}
	if token != "" {
		hreq.Header.Set("Authorization", "Bearer "+token)
	}
	return connectors.Exchange(client, hreq, "Slack")
}

// postWebhook: Slack answers 200 "ok", or an HTTP error with a short code
// in the body (invalid_payload, channel_not_found, …).
func postWebhook(ctx context.Context, req connectors.Request, msg map[string]any) (connectors.Result, error) {
	resp, body, err := send(ctx, req.HTTP, req.Credentials["webhook_url"], "", msg)
	if err != nil {
		return connectors.Result{}, err
	}
	code := strings.TrimSpace(string(body))
	switch {
	case resp.StatusCode == http.StatusOK:
		return connectors.Result{Output: map[string]any{"ok": true}}, nil
	case resp.StatusCode == http.StatusTooManyRequests:
		return connectors.Result{}, connectors.RateLimited(connectors.RetryAfter(resp.Header.Get("Retry-After"), time.Now()), errors.New("Slack rate limit"))
	case resp.StatusCode >= 500:
		return connectors.Result{}, connectors.Retryable(fmt.Errorf("Slack answered %d: %s", resp.StatusCode, code))
	default:
		return connectors.Result{}, connectors.Permanent(fmt.Errorf("Slack refused the message (%d): %s", resp.StatusCode, code))
	}
}

// transient Web API error codes; every other code is permanent.
var transient = map[string]bool{"internal_error": true, "fatal_error": true, "service_unavailable": true,
	"request_timeout": true, "team_added_to_org": true}

type apiAnswer struct {
	OK      bool           `json:"ok"`
	Error   string         `json:"error"`
	Channel string         `json:"channel"`
	TS      string         `json:"ts"`
	Message map[string]any `json:"message"`
}

func classify(resp *http.Response, body []byte) (apiAnswer, error) {
	var a apiAnswer
	if resp.StatusCode == http.StatusTooManyRequests {
		return a, connectors.RateLimited(connectors.RetryAfter(resp.Header.Get("Retry-After"), time.Now()), errors.New("Slack rate limit (ratelimited)"))
	}
	if resp.StatusCode >= 500 {
		return a, connectors.Retryable(fmt.Errorf("Slack answered %d", resp.StatusCode))
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return a, connectors.Retryable(fmt.Errorf("Slack answered %d with an unreadable body", resp.StatusCode))
	}
	if a.OK {
		return a, nil
	}
	err := fmt.Errorf("Slack error: %s", a.Error)
	switch {
	case a.Error == "ratelimited":
		return a, connectors.RateLimited(connectors.RetryAfter(resp.Header.Get("Retry-After"), time.Now()), err)
	case transient[a.Error]:
		return a, connectors.Retryable(err)
	default:
		return a, connectors.Permanent(err)
	}
}

func postMessage(ctx context.Context, req connectors.Request, msg map[string]any) (connectors.Result, error) {
	resp, body, err := send(ctx, req.HTTP, baseURL(req)+"/chat.postMessage", req.Credentials["bot_token"], msg)
	if err != nil {
		return connectors.Result{}, err
	}
	a, err := classify(resp, body)
	if err != nil {
		return connectors.Result{}, err
	}
	return connectors.Result{Output: map[string]any{"ok": true, "channel": a.Channel, "ts": a.TS, "message": a.Message}}, nil
}

// TestConnection checks a bot token with auth.test; a webhook URL cannot be
// tested without posting, so it is only checked for shape.
func (Connector) TestConnection(ctx context.Context, req connectors.Request) error {
	if tok := req.Credentials["bot_token"]; tok != "" {
		resp, body, err := send(ctx, req.HTTP, baseURL(req)+"/auth.test", tok, map[string]any{})
		if err != nil {
			return err
		}
		_, err = classify(resp, body)
		return err
	}
	if u := req.Credentials["webhook_url"]; !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return connectors.BadInput(errors.New("the webhook URL must start with https://"))
	}
	return connectors.CannotTest("a Slack incoming-webhook URL cannot be checked without posting a message to its channel; add a bot token to test the connection, or send a test run")
}
