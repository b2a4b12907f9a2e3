package declarative

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/expr"
)

// Connector is a connector built from a file. It is immutable; a changed file
// becomes a new Connector swapped into the registry.
type Connector struct {
	spec                connectors.Spec
	file                string
	hash                string
	baseURL             *url.URL
	baseFromCredentials bool // auth.fields declares base_url: a connection may override it
	auth                authConfig
	actions             map[string]*action
	errorIf             *expr.Program
	errorMessage        *expr.Template
	errorRetryAfter     *expr.Template
	tests               []*testCase
	testAction          *action // auth.test: the harmless request of "Test connection" (nil: none)
}

// Spec describes the connector.
func (c *Connector) Spec() connectors.Spec { return c.spec }

// Hash is the content hash of the file the connector was built from.
func (c *Connector) Hash() string { return c.hash }

// File is the name the connector was parsed under.
func (c *Connector) File() string { return c.file }

// Tests is the number of inline tests the file carries.
func (c *Connector) Tests() int { return len(c.tests) }

// WithBaseURL returns a copy that sends every request to base instead of the
// file's base_url (tests point connectors at a local receiver this way).
func (c *Connector) WithBaseURL(base string) (*Connector, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("base URL %q: want http(s)://host[/path]", base)
	}
	cp := *c
	cp.baseURL = u
	cp.baseFromCredentials = false
	return &cp, nil
}

// Execute renders the action's request from the input and credentials, sends
// it with req.HTTP, and maps the answer: 429 and 503 (with Retry-After) are
// rate limits, 408, 425 and other 5xx retryable, other 4xx permanent.
func (c *Connector) Execute(ctx context.Context, req connectors.Request) (connectors.Result, error) {
	a, ok := c.actions[req.Action]
	if !ok {
		return connectors.Result{}, connectors.BadInput(fmt.Errorf("connector %s has no action %q", c.spec.ID, req.Action))
	}
	return c.run(ctx, a, req)
}

// TestConnection sends the file's auth.test request; without one it says
// it cannot test.
func (c *Connector) TestConnection(ctx context.Context, req connectors.Request) error {
	if c.testAction == nil {
		return connectors.CannotTest("the connector file of " + c.spec.Name + " declares no auth.test request, so there is no harmless call to check the credentials with")
	}
	_, err := c.run(ctx, c.testAction, req)
	return err
}

var _ connectors.ConnectionTester = (*Connector)(nil)

func (c *Connector) run(ctx context.Context, a *action, req connectors.Request) (connectors.Result, error) {
	input := make(map[string]any, len(req.Input)+len(a.defaults))
	for k, v := range a.defaults {
		input[k] = v
	}
	for k, v := range req.Input {
		// Empty text counts as absent, as it does for required fields, so
		// templates can test optional inputs with != nil.
		if v != nil && v != "" {
			input[k] = v
		}
	}
	creds := make(map[string]any, len(req.Credentials))
	for k, v := range req.Credentials {
		creds[k] = v
	}
	hreq, err := c.request(ctx, a, req, map[string]any{"input": input, "credentials": creds})
	if err != nil {
		return connectors.Result{}, err
	}
	// The URL without its query: a token may travel there.
	where := *hreq.URL
	where.RawQuery, where.User = "", nil
	resp, raw, err := connectors.Exchange(req.HTTP, hreq, hreq.Method+" "+where.String())
	if err != nil {
		return connectors.Result{}, err
	}
	response := map[string]any{"status": resp.StatusCode, "headers": connectors.FlattenHeader(resp.Header),
		"body": connectors.ParseBody(resp.Header.Get("Content-Type"), raw)}
	if err := c.statusError(resp, response); err != nil {
		return connectors.Result{}, err
	}
	if a.output == nil {
		return connectors.Result{Output: response["body"]}, nil
	}
	out, err := a.output.Render(map[string]any{"response": response, "input": input})
	if err != nil {
		path, inner := expr.SplitPath(err)
		return connectors.Result{}, connectors.Permanent(fmt.Errorf("output%s: %w", path, inner))
	}
	return connectors.Result{Output: out}, nil
}

func (c *Connector) request(ctx context.Context, a *action, req connectors.Request, env map[string]any) (*http.Request, error) {
	bad := func(where string, err error) error {
		path, inner := expr.SplitPath(err)
		return connectors.BadInput(fmt.Errorf("%s%s: %w", where, path, inner))
	}
	base := c.baseURL
	if b := strings.TrimRight(req.Credentials["base_url"], "/"); c.baseFromCredentials && b != "" {
		u, ok := connectors.HTTPURL(b)
		if !ok {
			return nil, connectors.Permanent(fmt.Errorf("the connection's base_url %q is not an http(s) address", b))
		}
		base = u
	}
	var p strings.Builder
	for _, part := range a.path {
		if part.tmpl == nil {
			p.WriteString(part.text)
			continue
		}
		v, err := part.tmpl.Render(env)
		if err != nil {
			return nil, bad("path", err)
		}
		p.WriteString(url.PathEscape(expr.Stringify(v)))
	}
	u := *base
	u.RawPath = ""
	rawPath := strings.TrimRight(base.EscapedPath(), "/") + p.String()
	if unescaped, err := url.PathUnescape(rawPath); err == nil {
		u.Path, u.RawPath = unescaped, rawPath
	}
	q := url.Values{}
	if a.query != nil {
		rendered, err := a.query.Render(env)
		if err != nil {
			return nil, bad("query", err)
		}
		q = params(rendered.(map[string]any))
	}
	var body []byte
	contentType := ""
	if a.body != nil {
		rendered, err := a.body.Render(env)
		if err != nil {
			return nil, bad("body", err)
		}
		rendered = dropNulls(rendered)
		if a.form {
			obj, _ := rendered.(map[string]any)
			body, contentType = []byte(params(obj).Encode()), "application/x-www-form-urlencoded"
		} else {
			if body, err = json.Marshal(rendered); err != nil {
				return nil, connectors.BadInput(fmt.Errorf("body: %w", err))
			}
			contentType = "application/json"
		}
	}
	headers := http.Header{}
	if a.headers != nil {
		rendered, err := a.headers.Render(env)
		if err != nil {
			return nil, bad("headers", err)
		}
		for k, v := range rendered.(map[string]any) {
			if s := expr.Stringify(v); s != "" {
				headers.Set(k, s)
			}
		}
	}
	if err := c.applyAuth(req.Credentials, headers, q); err != nil {
		return nil, err
	}
	u.RawQuery = q.Encode()
	hreq, err := connectors.NewRequest(ctx, a.method, u.String(), body, contentType)
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Accept", "application/json")
	if req.IdempotencyKey != "" && a.method != http.MethodGet {
		hreq.Header.Set("Idempotency-Key", req.IdempotencyKey)
	}
	for k, v := range headers {
		hreq.Header[k] = v
	}
	return hreq, nil
}

func (c *Connector) applyAuth(creds map[string]string, h http.Header, q url.Values) error {
	a := c.auth
	missing := func(key string) error {
		return connectors.BadInput(fmt.Errorf("this action needs a connection with %s", key))
	}
	switch a.typ {
	case "bearer", "header", "query":
		tok := creds[a.credential]
		if tok == "" {
			if a.optional {
				return nil
			}
			return missing(a.credential)
		}
		switch a.typ {
		case "bearer":
			h.Set("Authorization", "Bearer "+tok)
		case "header":
			h.Set(a.header, tok)
		default:
			q.Set(a.param, tok)
		}
	case "basic":
		user := creds[a.username]
		if user == "" {
			if a.optional {
				return nil
			}
			return missing(a.username)
		}
		r := http.Request{Header: h}
		r.SetBasicAuth(user, creds[a.password])
	case "oauth2":
		// The connection's OAuth2 manager hands a fresh token to each step.
		tok := creds["access_token"]
		if tok == "" {
			return connectors.BadInput(errors.New("this action needs a connected OAuth2 connection (access_token)"))
		}
		typ := creds["token_type"]
		if typ == "" || strings.EqualFold(typ, "bearer") {
			typ = "Bearer"
		}
		h.Set("Authorization", typ+" "+tok)
	}
	return nil
}

// statusError classifies the answer like http.request does, using the
// file's error message template when it has one; error.if turns a 2xx
// answer into a permanent failure.
func (c *Connector) statusError(resp *http.Response, response map[string]any) error {
	env := map[string]any{"response": response}
	msg := func() string {
		if c.errorMessage != nil {
			if v, err := c.errorMessage.Render(env); err == nil {
				if s := expr.Stringify(v); s != "" {
					return s
				}
			}
		}
		if s, ok := response["body"].(string); ok && s != "" {
			return connectors.Clip(s, 300)
		}
		return ""
	}
	code := resp.StatusCode
	if code < 400 {
		if c.errorIf != nil {
			v, err := c.errorIf.Run(env)
			if err != nil {
				return connectors.Permanent(fmt.Errorf("error.if: %w", err))
			}
			if expr.Truthy(v) {
				m := msg()
				if m == "" {
					m = "the answer says the call failed"
				}
				return connectors.Permanent(fmt.Errorf("HTTP %d: %s", code, m))
			}
		}
		return nil
	}
	err := fmt.Errorf("HTTP %d %s", code, http.StatusText(code))
	if m := msg(); m != "" {
		err = fmt.Errorf("HTTP %d %s: %s", code, http.StatusText(code), m)
	}
	var wait time.Duration
	if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
		wait = connectors.RetryAfter(resp.Header.Get("Retry-After"), time.Now())
		if wait == 0 && c.errorRetryAfter != nil {
			if v, rerr := c.errorRetryAfter.Render(env); rerr == nil {
				if secs, perr := strconv.ParseFloat(strings.TrimSpace(expr.Stringify(v)), 64); perr == nil && secs > 0 && secs < 86400 {
					wait = time.Duration(secs * float64(time.Second))
				}
			}
		}
	}
	return connectors.StatusError(code, wait, err)
}

// params turns a rendered object into query or form parameters: a key once
// per value it has.
func params(obj map[string]any) url.Values {
	out := url.Values{}
	for k, v := range obj {
		for _, s := range queryValues(v) {
			out.Add(k, s)
		}
	}
	return out
}

// queryValues turns a rendered value into parameter values: nothing for nil
// or "", one per element for a list, one otherwise.
func queryValues(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if x == "" {
			return nil
		}
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, queryValues(e)...)
		}
		return out
	default:
		return []string{expr.Stringify(x)}
	}
}

// dropNulls leaves out object keys whose value is null, at any depth.
func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, sub := range x {
			if sub == nil {
				continue
			}
			out[k] = dropNulls(sub)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, sub := range x {
			out[i] = dropNulls(sub)
		}
		return out
	default:
		return v
	}
}

var _ connectors.Connector = (*Connector)(nil)
