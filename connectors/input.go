package connectors

import (
	"fmt"
	"sort"
	"strings"
)

// CheckInput checks a rendered input against the action's fields: required
// fields present, types right, select values among the options, no unknown
// keys. It returns one message per problem, keyed by field.
func CheckInput(a ActionSpec, input map[string]any) map[string]string {
	problems := map[string]string{}
	known := map[string]bool{}
	for _, f := range a.Input {
		known[f.Key] = true
		v, present := input[f.Key]
		if !present || v == nil || v == "" {
			if f.Required && f.Default == nil {
				problems[f.Key] = "is required"
			}
			continue
		}
		if msg := checkType(f, v); msg != "" {
			problems[f.Key] = msg
		}
	}
	for k := range input {
		if !known[k] {
			problems[k] = "is not an input of " + a.ID
		}
	}
	return problems
}

// CheckInputStatic is CheckInput for a step as saved, where values may still be
// templates: a string holding "{{" can become any type, so only presence and
// unknown keys are checked for it.
func CheckInputStatic(a ActionSpec, input map[string]any) map[string]string {
	concrete := map[string]any{}
	for k, v := range input {
		if s, ok := v.(string); ok && strings.Contains(s, "{{") {
			continue
		}
		concrete[k] = v
	}
	problems := CheckInput(a, concrete)
	for k, msg := range problems {
		if _, templated := input[k]; templated && msg == "is required" {
			delete(problems, k)
		}
	}
	return problems
}

func checkType(f Field, v any) string {
	switch f.Type {
	case TypeString, TypeText:
		if _, ok := v.(string); !ok {
			return fmt.Sprintf("must be a string, not %T", v)
		}
	case TypeNumber:
		switch v.(type) {
		case float64, float32, int, int64, int32:
		default:
			return fmt.Sprintf("must be a number, not %T", v)
		}
	case TypeBoolean:
		if _, ok := v.(bool); !ok {
			return fmt.Sprintf("must be true or false, not %T", v)
		}
	case TypeSelect:
		s, _ := v.(string)
		vals := make([]string, 0, len(f.Options))
		for _, o := range f.Options {
			if o.Value == s {
				return ""
			}
			vals = append(vals, o.Value)
		}
		sort.Strings(vals)
		return fmt.Sprintf("must be one of %s", strings.Join(vals, ", "))
	case TypeObject:
		if _, ok := v.(map[string]any); !ok {
			return fmt.Sprintf("must be an object, not %T", v)
		}
	case TypeList:
		if _, ok := v.([]any); !ok {
			return fmt.Sprintf("must be a list, not %T", v)
		}
	}
	return ""
}
