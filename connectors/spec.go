package connectors

import (
	"fmt"
	"regexp"
)

// Spec describes a connector as data: the API serves it, the UI draws forms
// from it, and the engine checks step inputs against it.
type Spec struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Icon        string       `json:"icon,omitempty"`
	Version     string       `json:"version,omitempty"`
	Auth        AuthSpec     `json:"auth"`
	Actions     []ActionSpec `json:"actions"`
}

// AuthKind says how a connection to the connector authenticates.
type AuthKind string

const (
	AuthNone   AuthKind = "none"
	AuthToken  AuthKind = "token"
	AuthBasic  AuthKind = "basic"
	AuthCustom AuthKind = "custom"
	AuthOAuth2 AuthKind = "oauth2"
)

// AuthSpec lists the credential fields a connection holds.
type AuthSpec struct {
	Kind     AuthKind `json:"kind" enum:"none,token,basic,custom,oauth2"`
	Fields   []Field  `json:"fields,omitempty"`
	Optional bool     `json:"optional,omitempty"`
	// Test says in words what "Test connection" does (the harmless call it
	// makes), or why it cannot test; the UI shows it beside the button.
	Test string `json:"test,omitempty"`
}

// ActionSpec describes one action.
type ActionSpec struct {
	ID           string  `json:"id"`
	Name         string  `json:"name"`
	Description  string  `json:"description,omitempty"`
	Input        []Field `json:"input"`
	SampleOutput any     `json:"sample_output,omitempty"`
}

// FieldType is the type of an input or credential field.
type FieldType string

const (
	TypeString  FieldType = "string"
	TypeText    FieldType = "text"
	TypeNumber  FieldType = "number"
	TypeBoolean FieldType = "boolean"
	TypeSelect  FieldType = "select"
	TypeObject  FieldType = "object"
	TypeList    FieldType = "list"
	TypeAny     FieldType = "any"
)

// Field is one typed input.
type Field struct {
	Key      string    `json:"key"`
	Label    string    `json:"label"`
	Type     FieldType `json:"type" enum:"string,text,number,boolean,select,object,list,any"`
	Required bool      `json:"required,omitempty"`
	Help     string    `json:"help,omitempty"`
	Default  any       `json:"default,omitempty"`
	Options  []Option  `json:"options,omitempty"`
	Secret   bool      `json:"secret,omitempty"`
}

// Option is one choice of a select field.
type Option struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Validate checks that the spec is well formed: ids, unique keys, known types.
func (s Spec) Validate() error {
	if !idPattern.MatchString(s.ID) {
		return fmt.Errorf("connector id %q: must match %s", s.ID, idPattern)
	}
	if s.Name == "" {
		return fmt.Errorf("connector %s: name is empty", s.ID)
	}
	if err := validateFields(s.Auth.Fields); err != nil {
		return fmt.Errorf("connector %s auth: %w", s.ID, err)
	}
	seen := map[string]bool{}
	for _, a := range s.Actions {
		if !idPattern.MatchString(a.ID) {
			return fmt.Errorf("connector %s: action id %q must match %s", s.ID, a.ID, idPattern)
		}
		if seen[a.ID] {
			return fmt.Errorf("connector %s: duplicate action %q", s.ID, a.ID)
		}
		seen[a.ID] = true
		if err := validateFields(a.Input); err != nil {
			return fmt.Errorf("connector %s action %s: %w", s.ID, a.ID, err)
		}
	}
	return nil
}

func validateFields(fields []Field) error {
	seen := map[string]bool{}
	for _, f := range fields {
		if f.Key == "" {
			return fmt.Errorf("field with empty key")
		}
		if seen[f.Key] {
			return fmt.Errorf("duplicate field %q", f.Key)
		}
		seen[f.Key] = true
		switch f.Type {
		case TypeString, TypeText, TypeNumber, TypeBoolean, TypeObject, TypeList, TypeAny:
		case TypeSelect:
			if len(f.Options) == 0 {
				return fmt.Errorf("select field %q has no options", f.Key)
			}
		default:
			return fmt.Errorf("field %q: unknown type %q", f.Key, f.Type)
		}
	}
	return nil
}

// Action returns the action spec with the given id.
func (s Spec) Action(id string) (ActionSpec, bool) {
	for _, a := range s.Actions {
		if a.ID == id {
			return a, true
		}
	}
	return ActionSpec{}, false
}
