// Package sdk is the plugin side of Switchboard's WebAssembly connector ABI
// (version 1): a plugin author fills in a Spec, writes one ordinary Go
// function per action and calls Register from init. Build the plugin with
// the standard toolchain:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o plugin.wasm .
//
// The package compiles on every platform so editors and 'go vet ./...' work,
// but the host calls only exist in a wasip1 build.
package sdk

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-dev/switchboard/connectors/wasm/wire"
)

// ABIVersion is the host ABI this SDK speaks; the host refuses other values.
const ABIVersion = 1

// Spec describes the plugin's connector; it has the shape of the host's
// connectors.Spec (the same JSON), and the host validates it at upload.
type Spec struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Icon        string   `json:"icon,omitempty"`
	Version     string   `json:"version,omitempty"`
	Auth        Auth     `json:"auth"`
	Actions     []Action `json:"actions"`
}

// Auth lists the credential fields a connection holds. Kind is none, token,
// basic or custom. With token or basic, Request.Auth asks the host to apply
// them (Authorization header) without the plugin touching them.
type Auth struct {
	Kind     string  `json:"kind"`
	Fields   []Field `json:"fields,omitempty"`
	Optional bool    `json:"optional,omitempty"`
}

// Action is one action of the connector and the function that runs it.
type Action struct {
	ID           string  `json:"id"`
	Name         string  `json:"name"`
	Description  string  `json:"description,omitempty"`
	Input        []Field `json:"input"`
	SampleOutput any     `json:"sample_output,omitempty"`
	// Run executes the action; its result becomes the step's output.
	Run func(c *Call) (any, error) `json:"-"`
}

// Field is one typed input or credential field: type is string, text,
// number, boolean, select, object, list or any.
type Field struct {
	Key      string   `json:"key"`
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	Required bool     `json:"required,omitempty"`
	Help     string   `json:"help,omitempty"`
	Default  any      `json:"default,omitempty"`
	Options  []Option `json:"options,omitempty"`
	Secret   bool     `json:"secret,omitempty"`
}

// Option is one choice of a select field.
type Option struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// Call is one invocation of an action.
type Call struct {
	Action string
	// Input is the step's rendered input, checked against the action's
	// fields by the host.
	Input map[string]any
	// Secrets are the connection's credential fields. The host hides their
	// values in outputs, errors and logs, but do not copy them around.
	Secrets map[string]string
	// IdempotencyKey is stable across retries of the same run, step and item.
	IdempotencyKey string
}

// String returns the input field key as a string ("" when absent).
func (c *Call) String(key string) string {
	s, _ := c.Input[key].(string)
	return s
}

// Number returns the input field key as a float64 (0 when absent).
func (c *Call) Number(key string) float64 {
	f, _ := c.Input[key].(float64)
	return f
}

// Request is an outbound HTTP request. The host sends it through its guard
// (no internal addresses unless an admin allows them, timeouts, size caps)
// and records it as a delivery.
type Request struct {
	Method  string              `json:"method"`
	URL     string              `json:"url"`
	Headers map[string][]string `json:"headers,omitempty"`
	Body    []byte              `json:"body,omitempty"`
	// Auth asks the host to apply the connection's credentials: a bearer
	// token (auth kind token) or basic auth (kind basic).
	Auth bool `json:"auth,omitempty"`
}

// Response is the answer to a Request. Body is capped by the host.
type Response struct {
	Status  int                 `json:"status"`
	Headers map[string][]string `json:"headers,omitempty"`
	Body    []byte              `json:"body,omitempty"`
}

// Header returns the first value of header name (canonical form, e.g.
// "Content-Type").
func (r *Response) Header(name string) string {
	if v := r.Headers[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// JSON decodes the body into v.
func (r *Response) JSON(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("decoding the response body (status %d): %w", r.Status, err)
	}
	return nil
}

// Error kinds, as the host's connectors package names them.
const (
	KindRetryable   = "retryable"
	KindPermanent   = "permanent"
	KindRateLimited = "rate_limited"
	KindBadInput    = "bad_input"
)

// Error is an action failure with its kind; errors of any other type count
// as retryable.
type Error struct {
	Kind       string
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string { return e.Kind + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Retryable marks err as transient.
func Retryable(err error) error { return &Error{Kind: KindRetryable, Err: err} }

// Permanent marks err as one a retry cannot fix.
func Permanent(err error) error { return &Error{Kind: KindPermanent, Err: err} }

// BadInput marks err as a problem with the step's input.
func BadInput(err error) error { return &Error{Kind: KindBadInput, Err: err} }

// RateLimited marks err as a rate limit, to retry after d.
func RateLimited(d time.Duration, err error) error {
	return &Error{Kind: KindRateLimited, RetryAfter: d, Err: err}
}

// ForStatus classifies an HTTP response by status: nil for 2xx, rate
// limited for 429 (with Retry-After seconds), retryable for 5xx and 408,
// permanent otherwise.
func ForStatus(r *Response) error {
	switch {
	case r.Status >= 200 && r.Status < 300:
		return nil
	case r.Status == 429:
		var secs int
		fmt.Sscanf(r.Header("Retry-After"), "%d", &secs)
		return RateLimited(time.Duration(secs)*time.Second, fmt.Errorf("HTTP %d", r.Status))
	case r.Status >= 500 || r.Status == 408:
		return Retryable(fmt.Errorf("HTTP %d", r.Status))
	default:
		return Permanent(fmt.Errorf("HTTP %d", r.Status))
	}
}

// The guest side of the HTTP reply (ABI v1, docs/wasm-plugins.md); the
// other messages are in wire.
type httpReply struct {
	Response
	Error *wire.Error `json:"error,omitempty"`
}

var registered *Spec

// Register makes spec the plugin's connector; call it once, from init.
func Register(spec Spec) {
	if registered != nil {
		panic("sdk.Register called twice")
	}
	registered = &spec
}

func specJSON() []byte {
	if registered == nil {
		return []byte(`{}`)
	}
	b, err := json.Marshal(registered)
	if err != nil {
		return []byte(`{}`)
	}
	return b
}

// invoke runs one call from its request JSON and returns the reply JSON.
func invoke(raw []byte) []byte {
	var req wire.InvokeRequest
	reply := wire.InvokeReply{}
	if err := json.Unmarshal(raw, &req); err != nil {
		reply.Error = &wire.Error{Kind: KindPermanent, Message: "plugin could not read its request: " + err.Error()}
	} else {
		reply = run(req)
	}
	b, err := json.Marshal(reply)
	if err != nil {
		b, _ = json.Marshal(wire.InvokeReply{Error: &wire.Error{Kind: KindPermanent, Message: "plugin output is not JSON: " + err.Error()}})
	}
	return b
}

func run(req wire.InvokeRequest) (reply wire.InvokeReply) {
	if registered == nil {
		return wire.InvokeReply{Error: &wire.Error{Kind: KindPermanent, Message: "plugin registered no spec"}}
	}
	var act *Action
	for i := range registered.Actions {
		if registered.Actions[i].ID == req.Action {
			act = &registered.Actions[i]
		}
	}
	if act == nil || act.Run == nil {
		return wire.InvokeReply{Error: &wire.Error{Kind: KindBadInput, Message: fmt.Sprintf("plugin has no action %q", req.Action)}}
	}
	defer func() {
		if r := recover(); r != nil {
			reply = wire.InvokeReply{Error: &wire.Error{Kind: KindPermanent, Message: fmt.Sprintf("plugin panicked: %v", r)}}
		}
	}()
	if req.Input == nil {
		req.Input = map[string]any{}
	}
	out, err := act.Run(&Call{Action: req.Action, Input: req.Input, Secrets: req.Secrets, IdempotencyKey: req.IdempotencyKey})
	if err != nil {
		return wire.InvokeReply{Error: toWire(err)}
	}
	return wire.InvokeReply{Output: out}
}

func toWire(err error) *wire.Error {
	var e *Error
	if errors.As(err, &e) {
		return &wire.Error{Kind: e.Kind, Message: e.Err.Error(), RetryAfter: e.RetryAfter.Seconds()}
	}
	return &wire.Error{Kind: KindRetryable, Message: err.Error()}
}

// Do sends req through the host and returns its response. A refused or
// failed request returns an *Error with the host's kind (a blocked address
// is permanent, a timeout retryable).
func Do(req Request) (*Response, error) {
	if req.Method == "" {
		req.Method = "GET"
	}
	raw, err := json.Marshal(req)
	if err != nil {
		return nil, Permanent(fmt.Errorf("encoding the request: %w", err))
	}
	var rep httpReply
	if err := json.Unmarshal(hostHTTP(raw), &rep); err != nil {
		return nil, Permanent(fmt.Errorf("reading the host's reply: %w", err))
	}
	if rep.Error != nil {
		return nil, &Error{Kind: rep.Error.Kind, Err: errors.New(rep.Error.Message)}
	}
	return &rep.Response, nil
}

// Log levels for Log.
const (
	LevelDebug = -4
	LevelInfo  = 0
	LevelWarn  = 4
	LevelError = 8
)

// Log writes a structured line to the step's log (attrs are key, value
// pairs). The host caps lines and hides secrets.
func Log(level int, msg string, attrs ...any) {
	m := map[string]any{}
	for i := 0; i+1 < len(attrs); i += 2 {
		m[fmt.Sprint(attrs[i])] = attrs[i+1]
	}
	b, _ := json.Marshal(struct {
		Msg   string         `json:"msg"`
		Attrs map[string]any `json:"attrs,omitempty"`
	}{msg, m})
	hostLog(int32(level), b)
}

// Now is the host's clock.
func Now() time.Time { return time.Unix(0, hostNow()) }
