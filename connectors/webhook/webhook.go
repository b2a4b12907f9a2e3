// Package webhook sends signed webhooks the Standard Webhooks way, with a
// webhook-id that stays the same across retries of one run, step and item.
package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/webhooksig"
)

func init() { connectors.Register(Connector{}) }

// Connector implements webhook.send.
type Connector struct {
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Spec describes the connector.
func (Connector) Spec() connectors.Spec {
	return connectors.Spec{
		ID: "webhook", Name: "Signed webhook", Icon: "send", Version: "1.0.0",
		Description: "POST JSON to a URL, signed with Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature).",
		Auth: connectors.AuthSpec{Kind: connectors.AuthCustom, Fields: []connectors.Field{
			{Key: "secret", Label: "Signing secret", Type: connectors.TypeString, Required: true, Secret: true,
				Help: "whsec_ followed by base64 of at least 16 random bytes; share it with the receiver"},
		}, Test: "Cannot be tested: the signing secret is checked by the receiver when a real delivery arrives."},
		Actions: []connectors.ActionSpec{{
			ID: "send", Name: "Send a signed webhook",
			Input: []connectors.Field{
				{Key: "url", Label: "URL", Type: connectors.TypeString, Required: true},
				{Key: "payload", Label: "Payload", Type: connectors.TypeAny, Help: "Sent as the JSON body"},
				{Key: "raw_body", Label: "Raw JSON body", Type: connectors.TypeText, Help: "Exact bytes to send instead of payload"},
				{Key: "headers", Label: "Extra headers", Type: connectors.TypeObject},
			},
			SampleOutput: map[string]any{"status": 200, "webhook_id": "msg_sb_0123abcd"},
		}},
	}
}

// Execute signs and sends the payload.
func (c Connector) Execute(ctx context.Context, req connectors.Request) (connectors.Result, error) {
	raw, _ := req.Input["url"].(string)
	u, ok := connectors.HTTPURL(raw)
	if !ok {
		return connectors.Result{}, connectors.BadInput(fmt.Errorf("url %q: want an http:// or https:// address", raw))
	}
	var body []byte
	var err error
	if rawBody, ok := req.Input["raw_body"].(string); ok && rawBody != "" {
		if !json.Valid([]byte(rawBody)) {
			return connectors.Result{}, connectors.BadInput(fmt.Errorf("raw_body is not valid JSON"))
		}
		body = []byte(rawBody)
	} else {
		if req.Input["payload"] == nil {
			return connectors.Result{}, connectors.BadInput(fmt.Errorf("payload or raw_body is required"))
		}
		if body, err = json.Marshal(req.Input["payload"]); err != nil {
			return connectors.Result{}, connectors.BadInput(fmt.Errorf("payload: %w", err))
		}
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	// The id is derived from the run, step and item, so a retry carries the
	// same id and the receiver can drop the duplicate.
	id := "msg_" + req.IdempotencyKey
	h, err := webhooksig.Sign(webhooksig.Config{Scheme: webhooksig.SchemeStandardWebhooks}, req.Credentials["secret"], body, now(), id)
	if err != nil {
		return connectors.Result{}, connectors.BadInput(fmt.Errorf("signing: %w", err))
	}
	hreq, err := connectors.NewRequest(ctx, http.MethodPost, u.String(), body, "")
	if err != nil {
		return connectors.Result{}, err
	}
	if extra, ok := req.Input["headers"].(map[string]any); ok {
		for k, v := range extra {
			if s, ok := v.(string); ok {
				hreq.Header.Set(k, s)
			}
		}
	}
	for k, vs := range h {
		hreq.Header[k] = vs
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, respBody, err := connectors.Exchange(req.HTTP, hreq, "POST "+u.Redacted())
	if err != nil {
		return connectors.Result{}, err
	}
	out := map[string]any{"status": resp.StatusCode, "webhook_id": id, "body": string(respBody)}
	code := resp.StatusCode
	return connectors.Result{Output: out}, connectors.StatusError(code, connectors.RetryAfter(resp.Header.Get("Retry-After"), now()), fmt.Errorf("HTTP %d", code))
}
