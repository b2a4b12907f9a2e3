// Package telegram sends messages with the Telegram Bot API (sendMessage),
// authenticated by a bot token from @BotFather.
package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
)

func init() { connectors.Register(Connector{}) }

// DefaultBaseURL is the Bot API server.
const DefaultBaseURL = "https://api.telegram.org"

// Parse modes (input field parse_mode).
const (
	ParseModeNone       = "none"
	ParseModeMarkdownV2 = "MarkdownV2"
	ParseModeHTML       = "HTML"
)

// Connector implements telegram.*.
type Connector struct{}

// Spec describes the connector.
func (Connector) Spec() connectors.Spec {
	return connectors.Spec{
		ID: "telegram", Name: "Telegram", Icon: "telegram", Version: "1.0.0",
		Description: "Send messages to Telegram chats, groups and channels with a bot.",
		Auth: connectors.AuthSpec{Kind: connectors.AuthToken, Fields: []connectors.Field{
			{Key: "bot_token", Label: "Bot token", Type: connectors.TypeString, Required: true, Secret: true,
				Help: "123456789:AA… from @BotFather. The bot must be a member of the group or an admin of the channel it posts to."},
			{Key: "base_url", Label: "API base URL", Type: connectors.TypeString, Default: DefaultBaseURL,
				Help: "Change only for a self-hosted Bot API server"},
		}, Test: "Calls the Bot API getMe with the token; sends nothing."},
		Actions: []connectors.ActionSpec{{
			ID: "send_message", Name: "Send a message",
			Description: "Send a text message with sendMessage.",
			Input: []connectors.Field{
				{Key: "chat_id", Label: "Chat", Type: connectors.TypeAny, Required: true,
					Help: "Numeric chat id (groups and channels start with -100) or @channelusername"},
				{Key: "text", Label: "Text", Type: connectors.TypeText, Required: true,
					Help: "1–4096 characters after entities are parsed"},
				{Key: "parse_mode", Label: "Formatting", Type: connectors.TypeSelect, Default: ParseModeNone,
					Options: []connectors.Option{
						{Value: ParseModeNone, Label: "Plain text"},
						{Value: ParseModeMarkdownV2, Label: "MarkdownV2"},
						{Value: ParseModeHTML, Label: "HTML"},
					},
					Help: "MarkdownV2 needs _ * [ ] ( ) ~ ` > # + - = | { } . ! escaped with \\ in text that comes from data"},
				{Key: "disable_notification", Label: "Send silently", Type: connectors.TypeBoolean, Default: false},
				{Key: "reply_to_message_id", Label: "Reply to message id", Type: connectors.TypeNumber,
					Help: "message_id of a message in the same chat; sent as reply_parameters.message_id"},
			},
			SampleOutput: map[string]any{"message_id": 42, "chat_id": -1001234567890, "date": 1714564800,
				"message": map[string]any{"message_id": 42, "date": 1714564800, "text": "Deploy finished",
					"chat": map[string]any{"id": -1001234567890, "title": "Ops", "type": "supergroup"},
					"from": map[string]any{"id": 123456789, "is_bot": true, "first_name": "Switchboard", "username": "switchboard_bot"}}},
		}},
	}
}

// tokenPattern is the shape of a bot token: the bot's id, a colon, a secret.
// Checking it keeps a stray "/" or "?" from changing the request path.
var tokenPattern = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)

// bot is the method URL prefix, {base}/bot{token}, and the token to keep out
// of errors.
type bot struct {
	prefix string
	token  string
}

func newBot(creds map[string]string) (bot, error) {
	tok := strings.TrimSpace(creds["bot_token"])
	if tok == "" {
		return bot{}, connectors.BadInput(errors.New("the Telegram connection needs a bot token"))
	}
	if !tokenPattern.MatchString(tok) {
		return bot{}, connectors.BadInput(errors.New("the bot token is malformed: want the <bot id>:<secret> string @BotFather gave"))
	}
	base, ok := connectors.BaseURL(creds["base_url"], DefaultBaseURL)
	if !ok || base.RawQuery != "" {
		return bot{}, connectors.BadInput(errors.New("the Telegram API base URL must be an https:// address without a query"))
	}
	return bot{prefix: base.String() + "/bot" + tok + "/", token: tok}, nil
}

// Execute sends the message.
func (Connector) Execute(ctx context.Context, req connectors.Request) (connectors.Result, error) {
	if req.Action != "send_message" {
		return connectors.Result{}, connectors.BadInput(fmt.Errorf("unknown action %q", req.Action))
	}
	b, err := newBot(req.Credentials)
	if err != nil {
		return connectors.Result{}, err
	}
	params, err := sendMessageParams(req.Input)
	if err != nil {
		return connectors.Result{}, err
	}
	var msg struct {
		MessageID int64 `json:"message_id"`
		Date      int64 `json:"date"`
		Chat      struct {
			ID int64 `json:"id"`
		} `json:"chat"`
	}
	raw, err := b.call(ctx, req.HTTP, "sendMessage", params, &msg)
	if err != nil {
		return connectors.Result{}, err
	}
	var full map[string]any
	_ = json.Unmarshal(raw, &full)
	return connectors.Result{Output: map[string]any{
		"message_id": msg.MessageID, "chat_id": msg.Chat.ID, "date": msg.Date, "message": full,
	}}, nil
}

// sendMessageParams builds sendMessage's JSON parameters from the input.
func sendMessageParams(in map[string]any) (map[string]any, error) {
	chat, err := chatID(in["chat_id"])
	if err != nil {
		return nil, err
	}
	text, _ := in["text"].(string)
	if strings.TrimSpace(text) == "" {
		return nil, connectors.BadInput(errors.New("text is required"))
	}
	p := map[string]any{"chat_id": chat, "text": text}
	switch mode, _ := in["parse_mode"].(string); mode {
	case "", ParseModeNone:
	case ParseModeMarkdownV2, ParseModeHTML:
		p["parse_mode"] = mode
	default:
		return nil, connectors.BadInput(fmt.Errorf("parse_mode %q: want MarkdownV2, HTML or none", mode))
	}
	if silent, _ := in["disable_notification"].(bool); silent {
		p["disable_notification"] = true
	}
	if v, ok := in["reply_to_message_id"]; ok && v != nil && v != "" {
		id, ok := wholeNumber(v)
		if !ok || id <= 0 {
			return nil, connectors.BadInput(fmt.Errorf("reply_to_message_id must be a positive whole number, not %v", v))
		}
		// Bot API 7.0 moved reply_to_message_id into reply_parameters.
		p["reply_parameters"] = map[string]any{"message_id": id}
	}
	return p, nil
}

// chatID accepts what the Bot API does: an integer id, or a string (an
// @channelusername or an id as text, which Telegram also accepts).
func chatID(v any) (any, error) {
	switch x := v.(type) {
	case string:
		if s := strings.TrimSpace(x); s != "" {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n, nil
			}
			return s, nil
		}
	case nil:
	default:
		if n, ok := wholeNumber(x); ok {
			return n, nil
		}
		return nil, connectors.BadInput(fmt.Errorf("chat_id must be a whole number or @channelusername, not %v", v))
	}
	return nil, connectors.BadInput(errors.New("chat_id is required"))
}

func wholeNumber(v any) (int64, bool) {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), true
		}
	case float32:
		return wholeNumber(float64(x))
	case int:
		return int64(x), true
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// answer is the Bot API envelope: {"ok":true,"result":…} or {"ok":false,
// "error_code":…,"description":…,"parameters":{"retry_after",
// "migrate_to_chat_id"}}.
type answer struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter      float64 `json:"retry_after"`
		MigrateToChatID int64   `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// call invokes a Bot API method (POST with a JSON body, or GET when params is
// nil), decodes the result into out and returns it raw. No error it returns
// holds the token, which is part of the URL path.
func (b bot) call(ctx context.Context, client *http.Client, method string, params map[string]any, out any) (json.RawMessage, error) {
	verb, body := http.MethodGet, []byte(nil)
	if params != nil {
		raw, err := json.Marshal(params)
		if err != nil {
			return nil, connectors.BadInput(fmt.Errorf("encoding %s parameters: %w", method, err))
		}
		verb, body = http.MethodPost, raw
	}
	hreq, err := connectors.NewRequest(ctx, verb, b.prefix+method, body, "application/json")
	if err != nil {
		return nil, connectors.BadInput(errors.New("the Telegram API base URL is not usable"))
	}
	resp, raw, err := connectors.Exchange(client, hreq, "Telegram "+method)
	if err != nil {
		return nil, b.safe(err)
	}
	var a answer
	jsonErr := json.Unmarshal(raw, &a)
	if err := b.classify(method, resp, a, jsonErr, raw); err != nil {
		return nil, err
	}
	if out != nil {
		if err := json.Unmarshal(a.Result, out); err != nil {
			return nil, connectors.Permanent(fmt.Errorf("Telegram %s: unexpected result: %s", method, b.scrub(err.Error())))
		}
	}
	return a.Result, nil
}

// classify maps an answer to an error kind: 429 (HTTP or error_code) is a
// rate limit after parameters.retry_after seconds, 5xx can pass on a retry,
// 400/401/403/404 and any other refusal cannot.
func (b bot) classify(method string, resp *http.Response, a answer, jsonErr error, raw []byte) error {
	status := resp.StatusCode
	if jsonErr != nil {
		// No Bot API envelope: a proxy or load balancer answered.
		detail := clip(strings.TrimSpace(string(raw)))
		switch {
		case status == http.StatusTooManyRequests:
			return connectors.RateLimited(headerDelay(resp.Header), fmt.Errorf("Telegram rate limit (429): %s", b.scrub(detail)))
		case status >= 500:
			return connectors.Retryable(fmt.Errorf("Telegram %s answered %d: %s", method, status, b.scrub(detail)))
		case status < 300:
			// Perhaps sent, but unconfirmed: a retry could send it twice.
			return connectors.Permanent(fmt.Errorf("Telegram %s answered %d without a Bot API answer (is the base URL right?)", method, status))
		default:
			return connectors.Permanent(fmt.Errorf("Telegram %s answered %d: %s", method, status, b.scrub(detail)))
		}
	}
	if a.OK && status < 300 {
		return nil
	}
	code := a.ErrorCode
	if code == 0 {
		code = status
	}
	err := fmt.Errorf("Telegram %s error %d: %s", method, code, b.scrub(clip(a.Description)))
	if a.Parameters.MigrateToChatID != 0 {
		err = fmt.Errorf("%w (the group is now the supergroup %d: use that chat_id)", err, a.Parameters.MigrateToChatID)
	}
	switch {
	case code == http.StatusTooManyRequests || status == http.StatusTooManyRequests:
		d := seconds(a.Parameters.RetryAfter)
		if d == 0 {
			d = headerDelay(resp.Header)
		}
		return connectors.RateLimited(d, err)
	case code >= 500 || status >= 500:
		return connectors.Retryable(err)
	default:
		return connectors.Permanent(err)
	}
}

func seconds(s float64) time.Duration { return connectors.Seconds(s) }

func headerDelay(h http.Header) time.Duration {
	s, _ := strconv.ParseFloat(strings.TrimSpace(h.Get("Retry-After")), 64)
	return seconds(s)
}

func clip(s string) string { return connectors.Clip(s, 300) }

// secrets are the token and its secret half on its own.
func (b bot) secrets() []string {
	_, secret, _ := strings.Cut(b.token, ":")
	return []string{b.token, secret}
}

// scrub removes the token, and its secret half on its own, from text.
func (b bot) scrub(s string) string { return connectors.Redact(s, b.secrets()...) }

// safe hides the token in err's text while keeping its chain for errors.Is
// (deadlines, the network policy).
func (b bot) safe(err error) error { return connectors.RedactError(err, b.secrets()...) }

// TestConnection checks the token with getMe.
func (Connector) TestConnection(ctx context.Context, req connectors.Request) error {
	b, err := newBot(req.Credentials)
	if err != nil {
		return err
	}
	var me struct {
		IsBot bool `json:"is_bot"`
	}
	if _, err := b.call(ctx, req.HTTP, "getMe", nil, &me); err != nil {
		return err
	}
	if !me.IsBot {
		return connectors.Permanent(errors.New("getMe did not describe a bot"))
	}
	return nil
}
