package store

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// Text and JSON columns hold valid UTF-8 without NUL on both databases:
// PostgreSQL refuses NUL in text and jsonb (and invalid UTF-8 anywhere), and
// SQLite is made to store the same, so a value reads back identical on
// either. Bytes that must be kept exactly go in a bytea/blob column.

// Replacement is what NUL and invalid UTF-8 become.
const Replacement = "\uFFFD"

// CleanText returns s as valid UTF-8 without NUL.
func CleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, Replacement)
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", Replacement)
	}
	return s
}

// CleanValue applies CleanText to every string and map key of a decoded
// JSON-like value (maps, lists, strings); other values pass unchanged.
func CleanValue(v any) any {
	switch x := v.(type) {
	case string:
		return CleanText(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[CleanText(k)] = CleanValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = CleanValue(e)
		}
		return out
	}
	return v
}

// cleanJSON rewrites a JSON text so both databases accept it: every \u0000
// escape becomes \ufffd and invalid UTF-8 becomes U+FFFD. An escaped
// backslash followed by "u0000" is text, not NUL, and is left alone.
func cleanJSON(b []byte) []byte {
	if !utf8.Valid(b) {
		b = bytes.ToValidUTF8(b, []byte(Replacement))
	}
	if !bytes.Contains(b, []byte(`\u0000`)) {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			out = append(out, b[i])
			continue
		}
		if i+1 < len(b) && b[i+1] == 'u' && i+6 <= len(b) && string(b[i+2:i+6]) == "0000" {
			out = append(out, `\ufffd`...)
			i += 5
			continue
		}
		// Any other escape: copy it whole so "\\" never starts a new one.
		out = append(out, b[i])
		if i+1 < len(b) {
			out = append(out, b[i+1])
			i++
		}
	}
	return out
}
