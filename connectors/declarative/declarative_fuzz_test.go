package declarative

import "testing"

// Any connector file parses to a connector or problems, quickly: no panic,
// no alias expansion, no deep recursion.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"id: x\nname: X\nbase_url: https://api.example\nactions:\n  - id: a\n    name: A\n    method: GET\n    path: /x\n",
		"id: &a x\nname: *a\n", "a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
		`{"id":"x","actions":[{"id":"a","method":"POST","body":{"json":"{{ input.x }}"}}]}`, "\xff\xfe", "---\n---\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = Parse("fuzz.yaml", data)
	})
}
