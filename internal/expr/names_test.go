package expr

import (
	"strings"
	"testing"
)

func TestCompileWithNamesUsesOnlyTheGivenNames(t *testing.T) {
	names := []string{"input", "credentials"}
	v, err := CompileValueWithNames(map[string]any{"to": "{{ input.email }}", "n": "{{ len(input.tags) }}",
		"auth": "Bearer {{ credentials.token }}"}, names)
	if err != nil {
		t.Fatal(err)
	}
	out, err := v.Render(map[string]any{"input": map[string]any{"email": "a@b.c", "tags": []any{1, 2}},
		"credentials": map[string]any{"token": "t"}})
	if err != nil {
		t.Fatal(err)
	}
	m := out.(map[string]any)
	if m["to"] != "a@b.c" || m["n"] != 2 || m["auth"] != "Bearer t" {
		t.Fatalf("rendered %v", m)
	}
	if _, err := ParseTemplateWithNames("{{ trigger.body }}", names); err == nil || !strings.Contains(err.Error(), "available: input, credentials") {
		t.Fatalf("a workflow name was accepted: %v", err)
	}
	if _, err := CompileWithNames("input.x", names); err != nil {
		t.Fatal(err)
	}
	// The workflow's names are unchanged.
	if _, err := Compile("input.x"); err == nil {
		t.Fatal("Compile accepted input")
	}
}
