// Package workflow is the workflow document (switchboard/v1): its types,
// validation with exact field paths, and compilation of its expressions.
package workflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/formdef"
	"github.com/switchboard-dev/switchboard/internal/webhooksig"
)

// Schema is the document schema this package reads and writes.
const Schema = "switchboard/v1"

// Document is one version of a workflow.
type Document struct {
	Schema   string         `json:"schema" const:"switchboard/v1"`
	Name     string         `json:"name"`
	Vars     map[string]any `json:"vars,omitempty"`
	Settings *Settings      `json:"settings,omitempty"`
	Trigger  Trigger        `json:"trigger"`
	Steps    []Step         `json:"steps" nullable:"false"`
}

// Settings tune how a workflow runs and how long its history is kept.
type Settings struct {
	// Concurrency caps this workflow's runs executing at once (0: no cap);
	// runs beyond it wait in the queue.
	Concurrency int `json:"concurrency,omitempty"`
	// Retention overrides the instance's run history limits.
	Retention *Retention `json:"retention,omitempty"`
}

// Retention limits run history by age and count.
type Retention struct {
	MaxAge  string `json:"max_age,omitempty"`  // e.g. "720h"
	MaxRuns int    `json:"max_runs,omitempty"` // newest runs kept
}

// Trigger starts runs.
type Trigger struct {
	Type     string              `json:"type" enum:"webhook,schedule,form"`
	Webhook  *WebhookTrigger     `json:"webhook,omitempty"`
	Schedule *ScheduleTrigger    `json:"schedule,omitempty"`
	Form     *formdef.Definition `json:"form,omitempty"`
}

// WebhookTrigger configures /hooks/{token}.
type WebhookTrigger struct {
	// Methods accepted (default POST).
	Methods []string `json:"methods,omitempty"`
	// Verify checks who sent the request (signature, token, basic, IPs).
	Verify *webhooksig.Config `json:"verify,omitempty"`
	// Dedupe drops repeated deliveries of one event.
	Dedupe *Dedupe `json:"dedupe,omitempty"`
	// Events accepts only chosen event types; the rest are ignored (202).
	Events *EventFilter `json:"events,omitempty"`
	// RateLimit caps accepted requests per minute on this endpoint (0: the
	// instance default).
	RateLimit int `json:"rate_limit,omitempty"`
	// MaxBody caps the body in bytes (default the instance's, up to 25 MiB).
	MaxBody int64 `json:"max_body,omitempty"`
	// Respond is "accepted" (default: 202 with the run id once committed) or
	// "sync" (wait for the run and answer with a step's output).
	Respond  string        `json:"respond,omitempty" enum:"accepted,sync"`
	Response *SyncResponse `json:"response,omitempty"`
	// ClientCert requires senders to present a client certificate (mutual
	// TLS; the server must serve HTTPS).
	ClientCert *ClientCert `json:"client_cert,omitempty"`
}

// ClientCert is an endpoint's mutual-TLS requirement.
type ClientCert struct {
	// CA is the PEM of the certificate authority (or authorities) that
	// signs the senders' certificates.
	CA string `json:"ca"`
	// Subjects, when set, are the only accepted certificate subjects:
	// "CN=name" or the whole subject ("CN=name,O=Org").
	Subjects []string `json:"subjects,omitempty"`
}

// Dedupe says where an event's id comes from and how long it is kept.
type Dedupe struct {
	// Header holding the event id (e.g. webhook-id, X-GitHub-Delivery).
	Header string `json:"header,omitempty"`
	// Expression over the trigger computing the id (e.g. trigger.body.id).
	Expression string `json:"expression,omitempty"`
	// Window the id is remembered for (default 168h, longer than senders retry).
	Window string `json:"window,omitempty"`
	// Disabled turns off the automatic dedupe on webhook-id,
	// X-GitHub-Delivery and Idempotency-Key headers.
	Disabled bool `json:"disabled,omitempty"`
}

// EventFilter accepts only some event types.
type EventFilter struct {
	// Header holding the event type (e.g. X-GitHub-Event), or
	Header string `json:"header,omitempty"`
	// Expression over the trigger giving the type (e.g. trigger.body.type).
	Expression string `json:"expression,omitempty"`
	// Accept lists the types that start a run.
	Accept []string `json:"accept"`
}

// SyncResponse chooses what a synchronous webhook answers.
type SyncResponse struct {
	// Step whose output is the answer. An output with "status", "headers"
	// and "body" sets those; any other output is the JSON body.
	Step string `json:"step"`
	// Timeout to wait for the run (default 10s, at most 30s); then 202.
	Timeout string `json:"timeout,omitempty"`
}

// ScheduleTrigger fires on a cron schedule.
type ScheduleTrigger struct {
	Cron     string `json:"cron"`
	Timezone string `json:"timezone,omitempty"`
	Misfire  string `json:"misfire,omitempty" enum:"skip,run_once"`
}

// Step is one node of the step tree. Which fields apply depends on Type.
type Step struct {
	ID   string `json:"id"`
	Type string `json:"type" enum:"filter,map,paths,for_each,delay,action"`
	Name string `json:"name,omitempty"`

	If     string         `json:"if,omitempty"`     // filter
	Fields map[string]any `json:"fields,omitempty"` // map
	// FieldOrder is the order of Fields' keys as written (Parse fills it;
	// MarshalJSON keeps it): people read a map in the order they wrote it.
	FieldOrder []string `json:"-"`

	Mode  string `json:"mode,omitempty" enum:"all,first"` // paths
	Paths []Path `json:"paths,omitempty"`                 // paths

	Items       string `json:"items,omitempty"`       // for_each
	Concurrency int    `json:"concurrency,omitempty"` // for_each
	Steps       []Step `json:"steps,omitempty"`       // for_each

	For   string `json:"for,omitempty"`   // delay
	Until string `json:"until,omitempty"` // delay

	Action     string         `json:"action,omitempty"`     // action
	Connection string         `json:"connection,omitempty"` // action
	Input      map[string]any `json:"input,omitempty"`      // action

	Retry   *Retry `json:"retry,omitempty"`
	Timeout string `json:"timeout,omitempty"`
	OnError string `json:"on_error,omitempty" enum:"fail,continue"`
}

// Path is one branch of a paths step.
type Path struct {
	Name  string `json:"name"`
	If    string `json:"if,omitempty"`
	Steps []Step `json:"steps" nullable:"false"`
}

// Retry is a step's retry policy.
type Retry struct {
	MaxAttempts int    `json:"max_attempts"`
	Backoff     string `json:"backoff,omitempty" enum:"exponential,fixed"`
	Initial     string `json:"initial,omitempty"`
	Max         string `json:"max,omitempty"`
}

// Step types.
const (
	StepFilter  = "filter"
	StepMap     = "map"
	StepPaths   = "paths"
	StepForEach = "for_each"
	StepDelay   = "delay"
	StepAction  = "action"
)

// Parse decodes a document strictly: unknown fields are errors, so a typo in
// a key does not silently do nothing.
func Parse(data []byte) (*Document, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var d Document
	if err := dec.Decode(&d); err != nil {
		return nil, describeDecodeError(data, err)
	}
	if dec.More() {
		return nil, &FieldError{Path: "", Message: "trailing data after the document"}
	}
	normalizeNumbers(&d)
	rememberFieldOrder(data, &d)
	return &d, nil
}

func describeDecodeError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case asErr(err, &syn):
		line, col := lineCol(data, int(syn.Offset))
		return &FieldError{Path: "", Message: fmt.Sprintf("invalid JSON at line %d, column %d: %s", line, col, syn.Error())}
	case asErr(err, &typ):
		path := pathAtOffset(data, typ.Offset)
		if path == "" {
			path = typ.Field
		}
		return &FieldError{Path: path, Message: fmt.Sprintf("must be %s, not %s", typ.Type.String(), typ.Value)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return &FieldError{Path: "", Message: strings.TrimPrefix(err.Error(), "json: ") + " (not part of " + Schema + ")"}
	default:
		return &FieldError{Path: "", Message: "invalid document: " + err.Error()}
	}
}

// pathAtOffset finds the path ("steps[0].concurrency") of the value that
// ends at byte offset off, by replaying the tokens up to there.
func pathAtOffset(data []byte, off int64) string {
	type frame struct {
		array bool
		index int
		key   string
		isKey bool // in an object, the next string token is a key
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var stack []*frame
	render := func() string {
		var b strings.Builder
		for _, f := range stack {
			if f.array {
				fmt.Fprintf(&b, "[%d]", f.index)
			} else {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			}
		}
		return b.String()
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && !top.array && top.isKey {
			if k, ok := tok.(string); ok {
				top.key, top.isKey = k, false
				continue
			}
		}
		valueDone := func() {
			if top == nil {
				return
			}
			if top.array {
				top.index++
			} else {
				top.isKey = true
			}
		}
		switch tok {
		case json.Delim('{'):
			if dec.InputOffset() >= off {
				return render()
			}
			stack = append(stack, &frame{isKey: true})
			continue
		case json.Delim('['):
			if dec.InputOffset() >= off {
				return render()
			}
			stack = append(stack, &frame{array: true})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 {
				top = stack[len(stack)-1]
				valueDone()
			}
			continue
		}
		if dec.InputOffset() >= off {
			return render()
		}
		valueDone()
	}
}

func lineCol(data []byte, off int) (int, int) {
	line, col := 1, 1
	for i := 0; i < off && i < len(data); i++ {
		if data[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// normalizeNumbers turns json.Number in free-form values into float64 (as
// plain decoding would) so templates and connectors see ordinary numbers.
func normalizeNumbers(d *Document) {
	d.Vars = normMap(d.Vars)
	var walk func([]Step)
	walk = func(steps []Step) {
		for i := range steps {
			steps[i].Fields = normMap(steps[i].Fields)
			steps[i].Input = normMap(steps[i].Input)
			walk(steps[i].Steps)
			for j := range steps[i].Paths {
				walk(steps[i].Paths[j].Steps)
			}
		}
	}
	walk(d.Steps)
}

func normMap(m map[string]any) map[string]any {
	for k, v := range m {
		m[k] = NormalizeJSON(v)
	}
	return m
}

// NormalizeJSON converts json.Number values to float64, recursively.
func NormalizeJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return x.String()
		}
		return f
	case map[string]any:
		for k, sub := range x {
			x[k] = NormalizeJSON(sub)
		}
		return x
	case []any:
		for i, sub := range x {
			x[i] = NormalizeJSON(sub)
		}
		return x
	default:
		return v
	}
}

// Walk calls fn for every step in the tree, depth first, with its path.
func (d *Document) Walk(fn func(path string, s *Step)) {
	var walk func(prefix string, steps []Step)
	walk = func(prefix string, steps []Step) {
		for i := range steps {
			p := fmt.Sprintf("%s[%d]", prefix, i)
			fn(p, &steps[i])
			walk(p+".steps", steps[i].Steps)
			for j := range steps[i].Paths {
				walk(fmt.Sprintf("%s.paths[%d].steps", p, j), steps[i].Paths[j].Steps)
			}
		}
	}
	walk("steps", d.Steps)
}

// RawDocument is a document kept as the JSON it was stored as. It marshals
// as that JSON (like json.RawMessage); the named type lets the OpenAPI
// document describe it with the Document schema.
type RawDocument []byte

// MarshalJSON returns the document's JSON (null when empty).
func (d RawDocument) MarshalJSON() ([]byte, error) {
	if len(d) == 0 {
		return []byte("null"), nil
	}
	return d, nil
}

// UnmarshalJSON keeps a copy of the JSON.
func (d *RawDocument) UnmarshalJSON(b []byte) error {
	*d = append((*d)[:0], b...)
	return nil
}

// StaticInput is what a filter or map step's record shows as its input: its
// expression or template, which the document holds, so the engine does not
// store it per run (ok is false for any other step, or an unknown id).
func (d *Document) StaticInput(stepID string) (input any, ok bool) {
	var find func(steps []Step) *Step
	find = func(steps []Step) *Step {
		for i := range steps {
			s := &steps[i]
			if s.ID == stepID {
				return s
			}
			if f := find(s.Steps); f != nil {
				return f
			}
			for _, p := range s.Paths {
				if f := find(p.Steps); f != nil {
					return f
				}
			}
		}
		return nil
	}
	s := find(d.Steps)
	switch {
	case s == nil:
		return nil, false
	case s.Type == StepFilter:
		return map[string]any{"if": s.If}, true
	case s.Type == StepMap:
		return s.Fields, true
	}
	return nil, false
}
