// Package teams posts messages to Microsoft Teams channels through a classic
// incoming webhook (Office 365 connector) or a Power Automate "Workflows"
// webhook ("Post to a channel when a webhook request is received").
package teams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
)

func init() { connectors.Register(Connector{}) }

// Webhook kinds (credential field webhook_type).
const (
	KindAuto            = "auto"
	KindIncomingWebhook = "incoming_webhook"
	KindWorkflows       = "workflows"
)

// Message formats (input field format).
const (
	FormatText         = "text"
	FormatAdaptiveCard = "adaptive_card"
)

// MaxMessageBytes is the largest message Teams accepts from a webhook (28 KB);
// larger ones are refused with HTTP 413.
const MaxMessageBytes = 28 * 1024

// adaptiveCardType is the attachment content type of an Adaptive Card.
const adaptiveCardType = "application/vnd.microsoft.card.adaptive"

// Connector implements teams.*.
type Connector struct{}

// Spec describes the connector.
func (Connector) Spec() connectors.Spec {
	return connectors.Spec{
		ID: "teams", Name: "Microsoft Teams", Icon: "microsoft-teams", Version: "1.0.0",
		Description: "Post messages and Adaptive Cards to Microsoft Teams channels through a webhook.",
		Auth: connectors.AuthSpec{Kind: connectors.AuthCustom, Fields: []connectors.Field{
			{Key: "webhook_url", Label: "Webhook URL", Type: connectors.TypeString, Required: true, Secret: true,
				Help: "A Workflows URL (Power Automate template \"Post to a channel when a webhook request is received\") or a classic incoming webhook URL (https://….webhook.office.com/webhookb2/…). Anyone holding it can post, so it is kept secret."},
			{Key: "webhook_type", Label: "Webhook type", Type: connectors.TypeSelect, Default: KindAuto,
				Options: []connectors.Option{
					{Value: KindAuto, Label: "Detect from the URL"},
					{Value: KindWorkflows, Label: "Workflows (Power Automate)"},
					{Value: KindIncomingWebhook, Label: "Classic incoming webhook"},
				},
				Help: "Detect: URLs on webhook.office.com or with /webhookb2/ are classic incoming webhooks, any other URL is a Workflows webhook"},
		}, Test: "Cannot be tested: a Teams webhook accepts only real messages, so checking it would post one. Switchboard checks the URL's shape; send a test run to check it for real."},
		Actions: []connectors.ActionSpec{{
			ID: "post_message", Name: "Post a message",
			Description: "Post plain text or an Adaptive Card to the channel the webhook was made for.",
			Input: []connectors.Field{
				{Key: "format", Label: "Format", Type: connectors.TypeSelect,
					Options: []connectors.Option{{Value: FormatText, Label: "Text"}, {Value: FormatAdaptiveCard, Label: "Adaptive Card"}},
					Help:    "Adaptive Card when a card is given, otherwise text"},
				{Key: "text", Label: "Text", Type: connectors.TypeText,
					Help: "Markdown text. A Workflows webhook only takes cards, so the text is sent as a card with one text block."},
				{Key: "card", Label: "Adaptive Card", Type: connectors.TypeObject,
					Help: "The card itself ({\"type\":\"AdaptiveCard\",\"version\":\"1.4\",\"body\":[…]}); version 1.4 is filled in when missing"},
			},
			SampleOutput: map[string]any{"ok": true, "status": 202, "webhook_type": KindWorkflows},
		}},
	}
}

// Execute posts the message.
func (Connector) Execute(ctx context.Context, req connectors.Request) (connectors.Result, error) {
	if req.Action != "post_message" {
		return connectors.Result{}, connectors.BadInput(fmt.Errorf("unknown action %q", req.Action))
	}
	rawURL := req.Credentials["webhook_url"]
	u, err := webhookURL(rawURL)
	if err != nil {
		return connectors.Result{}, err
	}
	kind, err := webhookKind(req.Credentials["webhook_type"], u)
	if err != nil {
		return connectors.Result{}, err
	}
	msg, err := message(kind, req.Input)
	if err != nil {
		return connectors.Result{}, err
	}
	raw, err := json.Marshal(msg)
	if err != nil {
		return connectors.Result{}, connectors.BadInput(fmt.Errorf("encoding the message: %w", err))
	}
	if len(raw) > MaxMessageBytes {
		return connectors.Result{}, connectors.BadInput(fmt.Errorf("the message is %d bytes; Teams accepts at most %d", len(raw), MaxMessageBytes))
	}
	hreq, err := connectors.NewRequest(ctx, http.MethodPost, strings.TrimSpace(rawURL), raw, "application/json")
	if err != nil {
		return connectors.Result{}, err
	}
	resp, body, err := connectors.Exchange(req.HTTP, hreq, "the Teams webhook")
	if err != nil {
		return connectors.Result{}, err
	}
	if err := classify(resp, body, time.Now(), secretsOf(rawURL, u)); err != nil {
		return connectors.Result{}, err
	}
	return connectors.Result{Output: map[string]any{"ok": true, "status": resp.StatusCode, "webhook_type": kind}}, nil
}

// webhookURL parses the credential without ever echoing it: a parse error
// would quote the URL, and the URL is the secret.
func webhookURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, connectors.BadInput(errors.New("the Teams connection needs a webhook URL"))
	}
	u, ok := connectors.HTTPURL(raw)
	if !ok {
		return nil, connectors.BadInput(errors.New("the Teams webhook URL must be an https:// address"))
	}
	return u, nil
}

// webhookKind resolves "auto": classic incoming webhooks live on
// *.webhook.office.com (formerly outlook.office.com) under /webhookb2/ or
// /webhook/; Workflows URLs are on logic.azure.com or powerplatform.com.
func webhookKind(configured string, u *url.URL) (string, error) {
	switch configured {
	case KindIncomingWebhook, KindWorkflows:
		return configured, nil
	case "", KindAuto:
	default:
		return "", connectors.BadInput(fmt.Errorf("webhook_type %q: want auto, workflows or incoming_webhook", configured))
	}
	host := strings.ToLower(u.Hostname())
	if strings.HasSuffix(host, ".webhook.office.com") || host == "outlook.office.com" || host == "outlook.office365.com" ||
		strings.Contains(u.Path, "/webhookb2/") || strings.Contains(u.Path, "/IncomingWebhook/") {
		return KindIncomingWebhook, nil
	}
	return KindWorkflows, nil
}

// message builds the body Teams documents for the webhook kind: {"text"} for
// text on a classic webhook, otherwise a "message" activity with one Adaptive
// Card attachment (the only shape the Workflows template reads).
func message(kind string, in map[string]any) (map[string]any, error) {
	text, _ := in["text"].(string)
	card, _ := in["card"].(map[string]any)
	format, _ := in["format"].(string)
	if format == "" {
		format = FormatText
		if card != nil {
			format = FormatAdaptiveCard
		}
	}
	switch format {
	case FormatText:
		if strings.TrimSpace(text) == "" {
			return nil, connectors.BadInput(errors.New("text is required when format is text"))
		}
		if kind == KindIncomingWebhook {
			return map[string]any{"text": text}, nil
		}
		card = map[string]any{
			"type":    "AdaptiveCard",
			"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
			"version": "1.4",
			"body":    []any{map[string]any{"type": "TextBlock", "text": text, "wrap": true}},
		}
	case FormatAdaptiveCard:
		if card == nil {
			return nil, connectors.BadInput(errors.New("card is required when format is adaptive_card"))
		}
		c := make(map[string]any, len(card)+2)
		for k, v := range card {
			c[k] = v
		}
		switch t := c["type"]; t {
		case nil, "":
			c["type"] = "AdaptiveCard"
		case "AdaptiveCard":
		default:
			return nil, connectors.BadInput(fmt.Errorf("card.type is %v; want AdaptiveCard (pass the card itself, not a message)", t))
		}
		if v, _ := c["version"].(string); v == "" {
			c["version"] = "1.4"
		}
		card = c
	default:
		return nil, connectors.BadInput(fmt.Errorf("format %q: want text or adaptive_card", format))
	}
	return map[string]any{
		"type": "message",
		"attachments": []any{map[string]any{
			"contentType": adaptiveCardType,
			"contentUrl":  nil,
			"content":     card,
		}},
	}, nil
}

// deliveryFailed is how a classic webhook reports a failure behind a 200:
// "Webhook message delivery failed with error: Microsoft Teams endpoint
// returned HTTP error 429 with ContextId …".
var deliveryFailed = regexp.MustCompile(`HTTP error (\d{3})`)

// classify maps Teams' answer to an error kind. A classic webhook answers 200
// "1"; a Workflows webhook 202 with no body. Errors come as 4xx/5xx with a
// text body (classic) or {"error":{"code","message"}} (Workflows), and a
// classic webhook also reports throttling and delivery failures inside a 200.
func classify(resp *http.Response, body []byte, now time.Time, secrets []string) error {
	status := resp.StatusCode
	detail := connectors.Redact(describe(body), secrets...)
	if status >= 200 && status < 300 {
		text := strings.TrimSpace(string(body))
		switch {
		case strings.HasPrefix(text, "Webhook message delivery failed"):
			m := deliveryFailed.FindStringSubmatch(text)
			if m == nil {
				return connectors.Retryable(fmt.Errorf("Teams could not deliver the message: %s", detail))
			}
			code, _ := strconv.Atoi(m[1])
			return byStatus(code, connectors.RetryAfter(resp.Header.Get("Retry-After"), now), detail)
		case strings.HasPrefix(text, "System.Net.Http.HttpRequestException"):
			return connectors.Retryable(fmt.Errorf("Teams could not deliver the message: %s", detail))
		}
		return nil
	}
	return byStatus(status, connectors.RetryAfter(resp.Header.Get("Retry-After"), now), detail)
}

func byStatus(status int, after time.Duration, detail string) error {
	switch {
	case status == http.StatusTooManyRequests:
		return connectors.RateLimited(after, fmt.Errorf("Teams throttled the webhook (429): %s", detail))
	case status >= 500 || status == http.StatusRequestTimeout:
		return connectors.Retryable(fmt.Errorf("Teams answered %d: %s", status, detail))
	default:
		return connectors.Permanent(fmt.Errorf("Teams refused the message (%d): %s", status, detail))
	}
}

// describe names Teams' error: "code: message" from a Workflows JSON error,
// otherwise the start of the text body.
func describe(body []byte) string {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && (e.Error.Code != "" || e.Error.Message != "") {
		return clip(strings.TrimSpace(e.Error.Code + ": " + e.Error.Message))
	}
	if s := strings.TrimSpace(string(body)); s != "" {
		return clip(s)
	}
	return "no details"
}

func clip(s string) string { return connectors.Clip(s, 300) }

// secretsOf lists the parts of the webhook URL that must never appear in an
// error: the URL itself and its signature (Workflows URLs carry it as sig=).
func secretsOf(raw string, u *url.URL) []string {
	return []string{strings.TrimSpace(raw), u.String(), u.Query().Get("sig"), u.EscapedPath()}
}

// TestConnection checks the webhook URL's shape: a Teams webhook cannot be
// called without posting a message to the channel.
func (Connector) TestConnection(ctx context.Context, req connectors.Request) error {
	u, err := webhookURL(req.Credentials["webhook_url"])
	if err != nil {
		return err
	}
	if _, err := webhookKind(req.Credentials["webhook_type"], u); err != nil {
		return err
	}
	return connectors.CannotTest("the URL looks right, but a Teams webhook accepts only real messages, so checking it would post one; send a test run to check it")
}
