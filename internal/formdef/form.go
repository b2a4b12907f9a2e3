// Package formdef is the hosted form itself: the definition a workflow
// document carries at trigger.form, its validation with exact paths, the
// server-side parsing of a submission into typed values, and the rendering of
// an accessible page that works without JavaScript. It sits below
// internal/workflow (which embeds the definition) and uses the standard
// library and internal/fielderr only; the receiver that serves the pages,
// records submissions and starts runs is internal/trigger/form.
package formdef

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/fielderr"
)

// Field types.
const (
	TypeText     = "text"
	TypeTextarea = "textarea"
	TypeEmail    = "email"
	TypeNumber   = "number"
	TypeDate     = "date"
	TypeSelect   = "select"
	TypeRadio    = "radio"
	TypeCheckbox = "checkbox"
	TypeHidden   = "hidden"
)

// DateLayout is how dates are written in definitions, posted by browsers and
// handed to runs.
const DateLayout = "2006-01-02"

// Limits on a definition, so one form cannot make a page of megabytes.
const (
	MaxFields      = 100
	maxKeyLength   = 64
	maxLabelLength = 200
	maxHelpLength  = 1000
	maxDescLength  = 5000
	maxPattern     = 1000
	maxOptions     = 500
)

// Definition is a hosted form, at trigger.form in a workflow document.
type Definition struct {
	// Title is the page heading (default: the workflow's name).
	Title string `json:"title,omitempty"`
	// Description is shown under the title; blank lines separate paragraphs.
	Description string `json:"description,omitempty"`
	// Fields are the form's inputs, in page order.
	Fields []Field `json:"fields"`
	// SubmitLabel is the button's text (default "Submit").
	SubmitLabel string `json:"submit_label,omitempty"`
	// EmbedOrigins are the sites (scheme://host[:port]) that may show the
	// form in a frame; none by default, so no other site can frame it.
	EmbedOrigins []string `json:"embed_origins,omitempty"`
	// Success is what a person sees after a valid submission: a message
	// (default "Thank you. Your response has been received.") or a redirect.
	Success *Success `json:"success,omitempty"`
}

// Success is the answer to a valid submission: set message or redirect.
type Success struct {
	// Message shown on the success page.
	Message string `json:"message,omitempty"`
	// Redirect is an absolute http(s) URL the browser is sent to (303).
	Redirect string `json:"redirect,omitempty"`
}

// Field is one input of a form.
type Field struct {
	// Key names the value in the run's trigger (trigger.fields.<key>): a
	// letter, then letters, digits and _.
	Key string `json:"key"`
	// Label is the text bound to the input (required except for hidden fields).
	Label string `json:"label,omitempty"`
	// Type is text (default), textarea, email, number, date, select, radio,
	// checkbox or hidden.
	Type string `json:"type,omitempty"`
	// Required fields must be filled in (a required checkbox must be ticked).
	Required bool `json:"required,omitempty"`
	// Min and Max bound a number (a JSON number) or a date ("2006-01-02").
	Min *Bound `json:"min,omitempty"`
	Max *Bound `json:"max,omitempty"`
	// MinLength and MaxLength bound the length in characters of text,
	// textarea, email and hidden values.
	MinLength int `json:"min_length,omitempty"`
	MaxLength int `json:"max_length,omitempty"`
	// Pattern is a Go regular expression the whole value must match
	// (it is anchored at both ends).
	Pattern string `json:"pattern,omitempty"`
	// Help is a hint shown with the field.
	Help string `json:"help,omitempty"`
	// Default is the value shown when the page opens: a string, a number,
	// or true/false for a checkbox.
	Default any `json:"default,omitempty"`
	// Options are the choices of a select or radio field.
	Options []Option `json:"options,omitempty"`
	// Prefill takes the field's value from the page's query string
	// (/forms/{token}?email=a@b.c), over the default.
	Prefill bool `json:"prefill,omitempty"`
}

// Option is one choice of a select or radio field.
type Option struct {
	Value string `json:"value"`
	// Label shown to people (default: the value).
	Label string `json:"label,omitempty"`
}

// Bound is a min or max: a number for number fields, a date for date fields.
// In JSON it is a number or a "YYYY-MM-DD" string.
type Bound struct {
	Number *float64
	Date   string
}

// NumberBound returns a numeric bound.
func NumberBound(f float64) *Bound { return &Bound{Number: &f} }

// DateBound returns a date bound ("2006-01-02").
func DateBound(d string) *Bound { return &Bound{Date: d} }

// MarshalJSON writes a number or a string.
func (b Bound) MarshalJSON() ([]byte, error) {
	if b.Number != nil {
		return json.Marshal(*b.Number)
	}
	return json.Marshal(b.Date)
}

// UnmarshalJSON reads a number or a string.
func (b *Bound) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		*b = Bound{}
		return json.Unmarshal(data, &b.Date)
	}
	var f float64
	if err := json.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("must be a number or a date such as \"2026-01-31\", not %s", data)
	}
	*b = Bound{Number: &f}
	return nil
}

func (b *Bound) String() string {
	if b == nil {
		return ""
	}
	if b.Number != nil {
		return formatNumber(*b.Number)
	}
	return b.Date
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// kind is the field's type with the default applied.
func (f *Field) kind() string {
	if f.Type == "" {
		return TypeText
	}
	return f.Type
}

func (f *Field) label() string {
	if f.Label != "" {
		return f.Label
	}
	return f.Key
}

func (o Option) label() string {
	if o.Label != "" {
		return o.Label
	}
	return o.Value
}

// FieldError is one problem in a definition, at a path such as
// "trigger.form.fields[2].pattern".
type FieldError = fielderr.Error

// ValidationError lists every problem ValidateAt found.
type ValidationError = fielderr.List

var keyPattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]*$`)

var typeNames = "text, textarea, email, number, date, select, radio, checkbox or hidden"

type checker struct {
	errs []*FieldError
}

func (c *checker) add(path, format string, args ...any) {
	c.errs = append(c.errs, &FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
}

// ValidateAt checks the definition as written in a workflow document and
// returns a *ValidationError whose paths start with path ("trigger.form").
func (d Definition) ValidateAt(path string) error {
	c := &checker{}
	if len(d.Title) > maxLabelLength {
		c.add(path+".title", "is longer than %d characters", maxLabelLength)
	}
	if len(d.Description) > maxDescLength {
		c.add(path+".description", "is longer than %d characters", maxDescLength)
	}
	if len(d.SubmitLabel) > maxLabelLength {
		c.add(path+".submit_label", "is longer than %d characters", maxLabelLength)
	}
	for i, o := range d.EmbedOrigins {
		if !validOrigin(o) {
			c.add(fmt.Sprintf("%s.embed_origins[%d]", path, i), "must be an origin such as https://example.com (scheme and host, no path)")
		}
	}
	if s := d.Success; s != nil {
		switch {
		case s.Message != "" && s.Redirect != "":
			c.add(path+".success", "set message or redirect, not both")
		case s.Redirect != "":
			u, err := url.Parse(s.Redirect)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				c.add(path+".success.redirect", "must be an absolute http or https URL")
			}
		case len(s.Message) > maxDescLength:
			c.add(path+".success.message", "is longer than %d characters", maxDescLength)
		}
	}
	switch {
	case len(d.Fields) == 0:
		c.add(path+".fields", "needs at least one field")
	case len(d.Fields) > MaxFields:
		c.add(path+".fields", "has %d fields; at most %d are allowed", len(d.Fields), MaxFields)
	}
	keys := map[string]int{}
	for i := range d.Fields {
		f := &d.Fields[i]
		p := fmt.Sprintf("%s.fields[%d]", path, i)
		switch {
		case f.Key == "":
			c.add(p+".key", "is required")
		case len(f.Key) > maxKeyLength || !keyPattern.MatchString(f.Key):
			c.add(p+".key", "must start with a letter and hold only letters, digits and _ (at most %d)", maxKeyLength)
		default:
			if j, dup := keys[f.Key]; dup {
				c.add(p+".key", "duplicates the key of fields[%d]", j)
			} else {
				keys[f.Key] = i
			}
		}
		checkField(c, p, f)
	}
	if len(c.errs) == 0 {
		return nil
	}
	return &ValidationError{Errors: c.errs}
}

func checkField(c *checker, p string, f *Field) {
	kind := f.kind()
	switch kind {
	case TypeText, TypeTextarea, TypeEmail, TypeNumber, TypeDate, TypeSelect, TypeRadio, TypeCheckbox, TypeHidden:
	default:
		c.add(p+".type", "unknown field type %q (%s)", f.Type, typeNames)
		return
	}
	if f.Label == "" && kind != TypeHidden {
		c.add(p+".label", "is required: every visible field needs a label")
	} else if len(f.Label) > maxLabelLength {
		c.add(p+".label", "is longer than %d characters", maxLabelLength)
	}
	if len(f.Help) > maxHelpLength {
		c.add(p+".help", "is longer than %d characters", maxHelpLength)
	}
	textual := kind == TypeText || kind == TypeTextarea || kind == TypeEmail || kind == TypeHidden

	// Bounds.
	for _, b := range []struct {
		name  string
		bound *Bound
	}{{"min", f.Min}, {"max", f.Max}} {
		if b.bound == nil {
			continue
		}
		switch kind {
		case TypeNumber:
			if b.bound.Number == nil {
				c.add(p+"."+b.name, "must be a number for a number field")
			}
		case TypeDate:
			if b.bound.Number != nil {
				c.add(p+"."+b.name, "must be a date such as \"2026-01-31\" for a date field")
			} else if _, err := time.Parse(DateLayout, b.bound.Date); err != nil {
				c.add(p+"."+b.name, "must be a date written YYYY-MM-DD, not %q", b.bound.Date)
			}
		default:
			c.add(p+"."+b.name, "applies only to number and date fields (use min_length and max_length for text)")
		}
	}
	if f.Min != nil && f.Max != nil {
		switch {
		case kind == TypeNumber && f.Min.Number != nil && f.Max.Number != nil && *f.Min.Number > *f.Max.Number:
			c.add(p+".max", "is less than min")
		case kind == TypeDate && f.Min.Number == nil && f.Max.Number == nil && validDate(f.Min.Date) &&
			validDate(f.Max.Date) && f.Min.Date > f.Max.Date:
			c.add(p+".max", "is before min")
		}
	}

	// Lengths and pattern.
	if f.MinLength != 0 || f.MaxLength != 0 {
		switch {
		case !textual:
			c.add(p, "min_length and max_length apply only to text, textarea, email and hidden fields")
		case f.MinLength < 0:
			c.add(p+".min_length", "must be 0 or more")
		case f.MaxLength < 0:
			c.add(p+".max_length", "must be 0 (no limit) or more")
		case f.MaxLength > 0 && f.MinLength > f.MaxLength:
			c.add(p+".max_length", "is less than min_length")
		}
	}
	if f.Pattern != "" {
		switch {
		case !textual:
			c.add(p+".pattern", "applies only to text, textarea, email and hidden fields")
		case len(f.Pattern) > maxPattern:
			c.add(p+".pattern", "is longer than %d characters", maxPattern)
		default:
			if _, err := compilePattern(f.Pattern); err != nil {
				c.add(p+".pattern", "%s", describeRegexpError(err))
			}
		}
	}

	// Options.
	choice := kind == TypeSelect || kind == TypeRadio
	switch {
	case choice && len(f.Options) == 0:
		c.add(p+".options", "needs at least one option for a %s field", kind)
	case !choice && len(f.Options) > 0:
		c.add(p+".options", "apply only to select and radio fields")
	case len(f.Options) > maxOptions:
		c.add(p+".options", "has %d options; at most %d are allowed", len(f.Options), maxOptions)
	}
	if choice {
		seen := map[string]int{}
		for j, o := range f.Options {
			op := fmt.Sprintf("%s.options[%d]", p, j)
			if o.Value == "" {
				c.add(op+".value", "is required")
				continue
			}
			if k, dup := seen[o.Value]; dup {
				c.add(op+".value", "duplicates the value of options[%d]", k)
			}
			seen[o.Value] = j
			if len(o.Label) > maxLabelLength {
				c.add(op+".label", "is longer than %d characters", maxLabelLength)
			}
		}
	}

	// Default.
	if f.Default != nil {
		checkDefault(c, p+".default", f)
	}
}

func checkDefault(c *checker, p string, f *Field) {
	switch kind := f.kind(); kind {
	case TypeCheckbox:
		if _, ok := f.Default.(bool); !ok {
			c.add(p, "must be true or false for a checkbox")
		}
	case TypeNumber:
		s, ok := scalarString(f.Default)
		if _, isBool := f.Default.(bool); !ok || isBool || !numberPattern.MatchString(s) {
			c.add(p, "must be a number for a number field")
		}
	case TypeDate:
		if s, ok := f.Default.(string); !ok || !validDate(s) {
			c.add(p, "must be a date written YYYY-MM-DD")
		}
	case TypeSelect, TypeRadio:
		s, _ := scalarString(f.Default)
		found := false
		for _, o := range f.Options {
			found = found || o.Value == s
		}
		if !found {
			c.add(p, "must be the value of one of the options")
		}
	default:
		if _, ok := scalarString(f.Default); !ok {
			c.add(p, "must be a string or a number")
		}
	}
}

// scalarString writes a default as the text an input shows.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case float64:
		return formatNumber(x), true
	case int:
		return strconv.Itoa(x), true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

func validDate(s string) bool {
	_, err := time.Parse(DateLayout, s)
	return err == nil
}

// compilePattern checks the pattern on its own, then anchors it.
func compilePattern(p string) (*regexp.Regexp, error) {
	if _, err := regexp.Compile(p); err != nil {
		return nil, err
	}
	return regexp.Compile(`^(?:` + p + `)$`)
}

func describeRegexpError(err error) string {
	if se, ok := err.(*syntax.Error); ok {
		return fmt.Sprintf("invalid regexp: %s: `%s`", se.Code, se.Expr)
	}
	return "invalid regexp: " + err.Error()
}

// honeypotNames are tried in order; the first no field uses is the trap.
var honeypotNames = []string{"website", "homepage", "company_url", "hp_website"}

// Honeypot is the name of the hidden field people leave empty and spam bots
// fill in: "website", unless a real field already has that key.
func (d Definition) Honeypot() string {
	for _, n := range honeypotNames {
		used := false
		for i := range d.Fields {
			used = used || d.Fields[i].Key == n
		}
		if !used {
			return n
		}
	}
	return "hp_" + strconv.Itoa(len(d.Fields))
}

// HoneypotFilled reports whether a submission filled in the trap field.
func (d Definition) HoneypotFilled(posted url.Values) bool {
	return strings.TrimSpace(posted.Get(d.Honeypot())) != ""
}

// SuccessMessage is the text of the success page.
func (d Definition) SuccessMessage() string {
	if d.Success != nil && d.Success.Message != "" {
		return d.Success.Message
	}
	return "Thank you. Your response has been received."
}

// Redirect is where a valid submission sends the browser ("" for none).
func (d Definition) Redirect() string {
	if d.Success != nil {
		return d.Success.Redirect
	}
	return ""
}

// Initial returns what the fields show when the page opens: each field's
// default, replaced by the query string's value for prefill fields.
func Initial(d Definition, query url.Values) url.Values {
	out := url.Values{}
	for i := range d.Fields {
		f := &d.Fields[i]
		if f.Prefill {
			if vs, ok := query[f.Key]; ok && len(vs) > 0 {
				out.Set(f.Key, vs[0])
				continue
			}
		}
		if f.Default == nil {
			continue
		}
		if f.kind() == TypeCheckbox {
			if b, _ := f.Default.(bool); b {
				out.Set(f.Key, "on")
			}
			continue
		}
		if s, ok := scalarString(f.Default); ok {
			out.Set(f.Key, s)
		}
	}
	return out
}

// validOrigin accepts scheme://host[:port] with nothing after it, so an
// origin cannot smuggle other CSP directives.
func validOrigin(o string) bool {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	return !strings.ContainsAny(o, " ;,'\"")
}

// FrameAncestors is the CSP frame-ancestors source list for the form.
func (d Definition) FrameAncestors() string {
	if len(d.EmbedOrigins) == 0 {
		return "'none'"
	}
	out := make([]string, len(d.EmbedOrigins))
	for i, o := range d.EmbedOrigins {
		out[i] = strings.TrimSuffix(o, "/")
	}
	return strings.Join(out, " ")
}
