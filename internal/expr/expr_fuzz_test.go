package expr

import "testing"

var fuzzEnv = map[string]any{"trigger": map[string]any{"body": map[string]any{"total": 250, "items": []any{1, "a", nil}, "s": "héllo"}},
	"steps": map[string]any{}, "vars": map[string]any{}, "item": nil, "index": 0}

// Compile and evaluation within the limits never panic and never run away
// (the work budget stops loops), whatever the source.
func FuzzCompileAndRun(f *testing.F) {
	for _, s := range []string{`trigger.body.total > 100`, `sha256(trigger.body.s)`, `count(1..10, {# % 2 == 0})`,
		`let x = repeat("a", 10); upper(x) + lower(x)`, `toJSON(fromJSON("{\"a\":1}"))`, `1..100000000`,
		`map(trigger.body.items, {string(#)})`, `"\xff" + trigger.body.s`, `((((((((((1))))))))))`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Compile(src)
		if err != nil {
			return
		}
		_, _ = p.Run(fuzzEnv)
	})
}

// Templates parse and render or fail, never panic.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{`Hello {{ trigger.body.s }}`, `{{ trigger.body.items }}`, `{{`, `}}{{}}`, `{{ "}}" }}`,
		`a {{ 1 }} b {{ 2 }} c`, "{{ trigger.body.\x00 }}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tp, err := ParseTemplate(src)
		if err != nil {
			return
		}
		v, err := tp.Render(fuzzEnv)
		if s, ok := v.(string); err == nil && ok && len(s) > MaxOutputBytes {
			t.Fatalf("template output %d bytes over the limit", len(s))
		}
	})
}
