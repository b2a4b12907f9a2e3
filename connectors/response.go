package connectors

import (
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryAfter reads a Retry-After header value: seconds (fractions allowed)
// or an HTTP date; 0 when absent or unreadable.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
		return Seconds(secs)
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// ParseBody decodes a JSON response (by Content-Type, or by its first byte
// when the type is missing) and returns any other body as text.
func ParseBody(contentType string, b []byte) any {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/json" || strings.HasSuffix(mt, "+json") || (mt == "" && len(b) > 0 && (b[0] == '{' || b[0] == '[')) {
		var v any
		if err := json.Unmarshal(b, &v); err == nil {
			return v
		}
	}
	return string(b)
}

// FlattenHeader joins repeated header values, for step outputs.
func FlattenHeader(h http.Header) map[string]any {
	out := make(map[string]any, len(h))
	for k, v := range h {
		out[k] = strings.Join(v, ", ")
	}
	return out
}
