package workflow

import (
	"strings"
	"testing"
)

func parseValidate(t *testing.T, doc string) *ValidationError {
	t.Helper()
	d, err := Parse([]byte(doc))
	if err != nil {
		ve, ok := AsValidation(err)
		if !ok {
			t.Fatalf("parse error not a validation error: %v", err)
		}
		return ve
	}
	if err := Validate(d, nil); err != nil {
		ve, ok := AsValidation(err)
		if !ok {
			t.Fatalf("validate error of type %T", err)
		}
		return ve
	}
	return nil
}

func TestValidDocumentCompiles(t *testing.T) {
	doc := `{"schema":"switchboard/v1","name":"ok","trigger":{"type":"webhook","webhook":{"methods":["POST"]}},
	"steps":[{"id":"big","type":"filter","if":"trigger.body.total > 100"},
	{"id":"msg","type":"map","fields":{"text":"#{{ trigger.body.id }}","n":3}},
	{"id":"post","type":"action","action":"http.request","input":{"method":"POST","url":"http://x","json":"{{ steps.msg }}"}}]}`
	if ve := parseValidate(t, doc); ve != nil {
		t.Fatalf("valid document refused: %v", ve)
	}
	d, _ := Parse([]byte(doc))
	c, err := Compile(d)
	if err != nil {
		t.Fatal(err)
	}
	if c.ByID["msg"].Fields == nil || c.ByID["big"].If == nil {
		t.Fatal("programs missing")
	}
}

func TestValidationNamesExactPaths(t *testing.T) {
	cases := []struct {
		name, doc, path, msg string
	}{
		{"bad template", `{"schema":"switchboard/v1","name":"x","trigger":{"type":"webhook"},"steps":[
			{"id":"a","type":"filter","if":"true"},{"id":"b","type":"map","fields":{"text":"{{ trigger.body. }}"}}]}`,
			"steps[1].fields.text", "line 1"},
		{"bad filter", `{"schema":"switchboard/v1","name":"x","trigger":{"type":"webhook"},"steps":[
			{"id":"big","type":"filter","if":"trigger.body.totl >"}]}`, "steps[0].if", "column"},
		{"duplicate id", `{"schema":"switchboard/v1","name":"x","trigger":{"type":"webhook"},"steps":[
			{"id":"a","type":"filter","if":"true"},{"id":"a","type":"filter","if":"true"}]}`, "steps[1].id", "duplicates"},
		{"unknown type", `{"schema":"switchboard/v1","name":"x","trigger":{"type":"webhook"},"steps":[{"id":"a","type":"fliter"}]}`,
			"steps[0].type", "unknown step type"},
		{"wrong schema", `{"schema":"v0","name":"x","trigger":{"type":"webhook"},"steps":[{"id":"a","type":"filter","if":"true"}]}`,
			"schema", "switchboard/v1"},
		{"type mismatch", `{"schema":"switchboard/v1","name":"x","trigger":{"type":"webhook"},"steps":[{"id":"a","type":"for_each","concurrency":"lots"}]}`,
			"steps[0].concurrency", "must be int"},
		{"nested path", `{"schema":"switchboard/v1","name":"x","trigger":{"type":"webhook"},"steps":[{"id":"r","type":"paths","paths":[
			{"name":"p","steps":[{"id":"m","type":"map","fields":{"o":{"deep":["{{ 1 + }}"]}}}]}]}]}`,
			"steps[0].paths[0].steps[0].fields.o.deep[0]", "line 1"},
		{"unknown key", `{"schema":"switchboard/v1","name":"x","trigger":{"type":"webhook"},"steps":[{"id":"a","type":"filter","iff":"true"}]}`,
			"", "unknown field \"iff\""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ve := parseValidate(t, c.doc)
			if ve == nil {
				t.Fatal("invalid document accepted")
			}
			for _, fe := range ve.Errors {
				if fe.Path == c.path && strings.Contains(fe.Message, c.msg) {
					return
				}
			}
			t.Fatalf("no error at %q containing %q; got %v", c.path, c.msg, ve)
		})
	}
}
