// Package http is the http.request connector: any HTTP call to a user-given
// URL, through the instance's guarded client.
package http

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
)

func init() { connectors.Register(Connector{}) }

// Connector implements http.request.
type Connector struct{}

var methods = []connectors.Option{
	{Value: "GET", Label: "GET"}, {Value: "POST", Label: "POST"}, {Value: "PUT", Label: "PUT"},
	{Value: "PATCH", Label: "PATCH"}, {Value: "DELETE", Label: "DELETE"}, {Value: "HEAD", Label: "HEAD"},
}

// Spec describes the connector.
func (Connector) Spec() connectors.Spec {
	return connectors.Spec{
		ID: "http", Name: "HTTP", Icon: "globe", Version: "1.0.0",
		Description: "Call any HTTP API.",
		Auth: connectors.AuthSpec{Kind: connectors.AuthCustom, Optional: true, Fields: []connectors.Field{
			{Key: "bearer_token", Label: "Bearer token", Type: connectors.TypeString, Secret: true},
			{Key: "username", Label: "Basic auth user", Type: connectors.TypeString},
			{Key: "password", Label: "Basic auth password", Type: connectors.TypeString, Secret: true},
		}, Test: "Cannot be tested: an HTTP connection is used against whatever URL a step names, so there is no one harmless call to make."},
		Actions: []connectors.ActionSpec{{
			ID: "request", Name: "Make an HTTP request",
			Input: []connectors.Field{
				{Key: "method", Label: "Method", Type: connectors.TypeSelect, Options: methods, Default: "GET"},
				{Key: "url", Label: "URL", Type: connectors.TypeString, Required: true, Help: "http:// or https:// address"},
				{Key: "query", Label: "Query parameters", Type: connectors.TypeObject},
				{Key: "headers", Label: "Headers", Type: connectors.TypeObject},
				{Key: "json", Label: "JSON body", Type: connectors.TypeAny, Help: "Sent as application/json"},
				{Key: "form", Label: "Form body", Type: connectors.TypeObject, Help: "Sent as application/x-www-form-urlencoded"},
				{Key: "body", Label: "Raw body", Type: connectors.TypeText},
				{Key: "fail_on_status", Label: "Fail on 4xx/5xx", Type: connectors.TypeBoolean, Default: true},
			},
			SampleOutput: map[string]any{"status": 200, "headers": map[string]any{"Content-Type": "application/json"}, "body": map[string]any{"ok": true}},
		}},
	}
}

// Execute performs the request.
func (Connector) Execute(ctx context.Context, req connectors.Request) (connectors.Result, error) {
	in := req.Input
	method, _ := in["method"].(string)
	if method == "" {
		method = http.MethodGet
	}
	raw, _ := in["url"].(string)
	u, ok := connectors.HTTPURL(raw)
	if !ok {
		return connectors.Result{}, connectors.BadInput(fmt.Errorf("url %q: want an http:// or https:// address", raw))
	}
	if q, ok := in["query"].(map[string]any); ok {
		vals := u.Query()
		for k, v := range q {
			vals.Set(k, connectors.Stringify(v))
		}
		u.RawQuery = vals.Encode()
	}
	var body []byte
	var err error
	contentType := ""
	switch {
	case in["json"] != nil:
		if body, err = json.Marshal(in["json"]); err != nil {
			return connectors.Result{}, connectors.BadInput(fmt.Errorf("json: %w", err))
		}
		contentType = "application/json"
	case in["form"] != nil:
		form := url.Values{}
		for k, v := range in["form"].(map[string]any) {
			form.Set(k, connectors.Stringify(v))
		}
		body = []byte(form.Encode())
		contentType = "application/x-www-form-urlencoded"
	case in["body"] != nil && in["body"] != "":
		body = []byte(in["body"].(string))
	}
	hreq, err := connectors.NewRequest(ctx, method, u.String(), body, contentType)
	if err != nil {
		return connectors.Result{}, err
	}
	if req.IdempotencyKey != "" && method != http.MethodGet && method != http.MethodHead {
		hreq.Header.Set("Idempotency-Key", req.IdempotencyKey)
	}
	if h, ok := in["headers"].(map[string]any); ok {
		for k, v := range h {
			hreq.Header.Set(k, connectors.Stringify(v))
		}
	}
	if tok := req.Credentials["bearer_token"]; tok != "" {
		hreq.Header.Set("Authorization", "Bearer "+tok)
	} else if tok := req.Credentials["access_token"]; tok != "" {
		// An OAuth2 connection: the token is refreshed before each step.
		hreq.Header.Set("Authorization", "Bearer "+tok)
	} else if user := req.Credentials["username"]; user != "" {
		hreq.SetBasicAuth(user, req.Credentials["password"])
	}
	resp, respBody, err := connectors.Exchange(req.HTTP, hreq, method+" "+u.Redacted())
	if err != nil {
		return connectors.Result{}, err
	}
	out := map[string]any{
		"status":  resp.StatusCode,
		"headers": connectors.FlattenHeader(resp.Header),
		"body":    connectors.ParseBody(resp.Header.Get("Content-Type"), respBody),
	}
	if fail, ok := in["fail_on_status"].(bool); ok && !fail {
		return connectors.Result{Output: out}, nil
	}
	code := resp.StatusCode
	return connectors.Result{Output: out}, connectors.StatusError(code,
		connectors.RetryAfter(resp.Header.Get("Retry-After"), time.Now()), fmt.Errorf("HTTP %d %s", code, http.StatusText(code)))
}
