package store

import "testing"

func TestCleanJSONReplacesOnlyRealNULEscapes(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":"x\u0000y"}`:    `{"a":"x\ufffdy"}`,
		`{"a":"\\u0000"}`:     `{"a":"\\u0000"}`,
		`{"a":"\\\u0000"}`:    `{"a":"\\\ufffd"}`,
		`{"a\u0000":1}`:       `{"a\ufffd":1}`,
		"{\"a\":\"\xff\"}":    "{\"a\":\"\uFFFD\"}",
		`{"a":"\u00001"}`:     `{"a":"\ufffd1"}`,
		`{"a":"plain \n ok"}`: `{"a":"plain \n ok"}`,
	} {
		if got := string(cleanJSON([]byte(in))); got != want {
			t.Errorf("cleanJSON(%q) = %q, want %q", in, got, want)
		}
	}
}
