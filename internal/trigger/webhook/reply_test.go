package webhook

import (
	"net/http"
	"testing"
)

// A step output can shape a synchronous reply, but never into a page of the
// app's origin: no cookies, redirects, CORS or HTML.
func TestSyncReplyKeepsOnlySafeHeaders(t *testing.T) {
	out := map[string]any{"status": float64(200), "body": "<script>alert(1)</script>", "headers": map[string]any{
		"Content-Type":                "text/html",
		"Set-Cookie":                  "sb_session=x",
		"Location":                    "https://evil.example/",
		"Access-Control-Allow-Origin": "*",
		"Content-Security-Policy":     "default-src *",
		"Refresh":                     "0; url=https://evil.example/",
		"Cache-Control":               "no-store",
		"X-Order-Id":                  "42",
	}}
	r := syncReply(http.Header{}, out)
	for _, h := range []string{"Set-Cookie", "Location", "Access-Control-Allow-Origin", "Content-Security-Policy", "Refresh"} {
		if v := r.Header.Get(h); v != "" {
			t.Errorf("reply carries %s: %q", h, v)
		}
	}
	if ct := r.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type = %q, want text/html downgraded to text/plain", ct)
	}
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("X-Order-Id") != "42" {
		t.Errorf("harmless headers dropped: %v", r.Header)
	}
	for ct, want := range map[string]string{"application/json": "application/json", "application/xml; charset=utf-8": "application/xml; charset=utf-8",
		"text/csv": "text/csv; charset=utf-8", "image/svg+xml": "text/plain; charset=utf-8", "text/plain": "text/plain; charset=utf-8"} {
		r := syncReply(http.Header{}, map[string]any{"body": "x", "headers": map[string]any{"content-type": ct}})
		if got := r.Header.Get("Content-Type"); got != want {
			t.Errorf("Content-Type %q -> %q, want %q", ct, got, want)
		}
	}
}
