package expr

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var sample = map[string]any{
	"trigger": map[string]any{"body": map[string]any{
		"id": 7.0, "total": 250.0, "customer": map[string]any{"name": "Ada", "email": "ADA@Example.com"},
		"items": []any{map[string]any{"sku": "A"}, map[string]any{"sku": "B"}},
	}},
	"steps": map[string]any{},
}

func TestTemplateRendersTextAndKeepsTypeOfWholeExpression(t *testing.T) {
	cases := []struct {
		tmpl string
		want any
	}{
		{"Order #{{ trigger.body.id }} from {{ trigger.body.customer.name }}", "Order #7 from Ada"},
		{"{{ trigger.body.total }}", 250.0},
		{"  {{ trigger.body.total > 100 }} ", true},
		{"{{ lower(trigger.body.customer.email) }}", "ada@example.com"},
		{"plain text", "plain text"},
		{"{{ trigger.body.items }}", sample["trigger"].(map[string]any)["body"].(map[string]any)["items"]},
		{"skus: {{ map(trigger.body.items, .sku) }}", `skus: ["A","B"]`},
		{"{{ sha256('abc') }}", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"{{ trigger.body.missing }}", nil},
	}
	for _, c := range cases {
		tp, err := ParseTemplate(c.tmpl)
		if err != nil {
			t.Fatalf("%q: %v", c.tmpl, err)
		}
		got, err := tp.Render(sample)
		if err != nil {
			t.Fatalf("%q: render: %v", c.tmpl, err)
		}
		if s1, s2 := Stringify(got), Stringify(c.want); s1 != s2 {
			t.Errorf("%q = %#v, want %#v", c.tmpl, got, c.want)
		}
		if _, isStr := c.want.(string); isStr {
			if _, ok := got.(string); !ok {
				t.Errorf("%q: got %T, want string", c.tmpl, got)
			}
		}
	}
}

func TestCompileErrorHasLineAndColumn(t *testing.T) {
	_, err := Compile("trigger.body.totl >")
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *Error", err, err)
	}
	if e.Line != 1 || e.Column < 19 {
		t.Fatalf("position = %d:%d, want line 1 column ≥ 19 (%s)", e.Line, e.Column, e.Message)
	}
}

func TestTemplateErrorPositionIsInTemplateCoordinates(t *testing.T) {
	_, err := ParseTemplate("Hello\n{{ trigger.body. }}")
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v", err)
	}
	if e.Line != 2 {
		t.Fatalf("line = %d, want 2 (%v)", e.Line, e)
	}
	if _, err := ParseTemplate("{{ open"); err == nil || !strings.Contains(err.Error(), "unclosed") {
		t.Fatalf("unclosed template: err = %v", err)
	}
}

func TestHugeListHitsMemoryLimitQuickly(t *testing.T) {
	p, err := Compile("1..100000000")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = p.Run(sample)
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("err = %v, want ErrLimit", err)
	}
	_ = start // the duration is reported by BenchmarkHugeList, not asserted
}

func TestUnknownNameIsACompileError(t *testing.T) {
	if _, err := Compile("trigerr.body"); err == nil {
		t.Fatal("unknown top-level name compiled")
	}
}

func TestCompileValueNamesPath(t *testing.T) {
	_, err := CompileValue(map[string]any{"json": map[string]any{"a": []any{"ok", "{{ 1 + }}"}}})
	path, inner := SplitPath(err)
	if path != ".json.a[1]" || inner == nil {
		t.Fatalf("path = %q, err = %v", path, inner)
	}
}

func BenchmarkTemplateRender(b *testing.B) {
	tp, _ := ParseTemplate("Order #{{ trigger.body.id }} from {{ trigger.body.customer.name }}")
	for b.Loop() {
		if _, err := tp.Render(sample); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFilterExpression(b *testing.B) {
	p, _ := Compile("trigger.body.total > 100 && trigger.body.customer.name != ''")
	for b.Loop() {
		if _, err := p.Run(sample); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHugeListLimit(b *testing.B) {
	p, _ := Compile("1..100000000")
	for b.Loop() {
		if _, err := p.Run(sample); !errors.Is(err, ErrLimit) {
			b.Fatal(err)
		}
	}
}
