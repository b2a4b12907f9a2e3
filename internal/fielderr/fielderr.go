// Package fielderr is Switchboard's one field-error type: a problem at a path
// in a document ("steps[1].fields.text", "trigger.form.fields[2].pattern",
// "trigger.webhook.verify.secrets[0]"). The workflow, form and webhook
// verification checks all report it, so the API turns any of them into
// problem+json field errors without mapping one type onto another.
package fielderr

import "strings"

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
