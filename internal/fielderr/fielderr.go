// Package fielderr is Switchboard's one field-error type: a problem at a path
// in a document ("steps[1].fields.text", "trigger.form.fields[2].pattern",
// "trigger.webhook.verify.secrets[0]"). The workflow, form and webhook
// verification checks all report it, so the API turns any of them into
// problem+json field errors without mapping one type onto another.
package fielderr

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Error is one problem, at Path (empty: the whole document).
type Error struct {
	Path    string `json:"path"`
	Message string `json:"message"`
	Step    string `json:"step,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// List is every problem a check found.
type List struct {
	Errors []*Error
}

func (l *List) Error() string {
	msgs := make([]string, len(l.Errors))
	for i, fe := range l.Errors {
		msgs[i] = fe.Error()
	}
	return strings.Join(msgs, "; ")
}

// Invalid lists what is wrong with a flat input (a connection, a
// subscription, a user) by field key; the API answers it as problem+json
// field errors like a List.
type Invalid struct {
	// What names the input ("connection"); empty for a generic input.
	What     string
	Problems map[string]string
	// Sentinel is what errors.Is matches (a package's ErrInvalid); may be nil.
	Sentinel error
}

func (e *Invalid) Error() string {
	msgs := make([]string, 0, len(e.Problems))
	for _, fe := range e.Fields() {
		msgs = append(msgs, fe.Error())
	}
	prefix := "invalid: "
	if e.What != "" {
		prefix = "invalid " + e.What + ": "
	}
	return prefix + strings.Join(msgs, "; ")
}

func (e *Invalid) Unwrap() error { return e.Sentinel }

// Title says what was refused: "the connection is invalid".
func (e *Invalid) Title() string {
	if e.What == "" {
		return "invalid input"
	}
	return "the " + e.What + " is invalid"
}

// Fields are the problems as field errors, by key.
func (e *Invalid) Fields() []*Error {
	out := make([]*Error, 0, len(e.Problems))
	for k, msg := range e.Problems {
		out = append(out, &Error{Path: k, Message: msg})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// CheckUTF8 reports where b stops being UTF-8 (nil when it all is): JSON
// bodies must be UTF-8 (RFC 8259), and Go's decoder would otherwise turn the
// bad bytes into U+FFFD silently.
func CheckUTF8(b []byte) *Error {
	if utf8.Valid(b) {
		return nil
	}
	line, col := 1, 1
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return &Error{Message: fmt.Sprintf("body is not valid UTF-8 (byte %d, line %d, column %d)", i, line, col), Line: line, Column: col}
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i += n
	}
	return nil // unreachable: utf8.Valid said otherwise
}
