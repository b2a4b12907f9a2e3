package webui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

const indexHTML = `<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body><div id="root"></div></body></html>`

func testFS() fstest.MapFS {
	return fstest.MapFS{
		".gitkeep":                {Data: []byte{}},
		"index.html":              {Data: []byte(indexHTML)},
		"favicon.svg":             {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`)},
		"assets/index-abc123.js":  {Data: []byte(`console.log("app")`)},
		"assets/index-def456.css": {Data: []byte(`body{margin:0}`)},
	}
}

func do(t *testing.T, h http.Handler, method, target string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestIndexAndFallback(t *testing.T) {
	h := NewHandler(testFS())
	for _, target := range []string{
		"/",
		"/index.html",
		"/workflows/wf_123",
		"/workflows/wf_123/runs/run_456",
		"/some/deep/path?x=1",
		"/assets",        // a directory, not a file
		"/.gitkeep",      // hidden files are not served
		"/../etc/passwd", // cleaned to /etc/passwd, which does not exist
	} {
		t.Run(target, func(t *testing.T) {
			rec := do(t, h, http.MethodGet, target, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200", rec.Code)
			}
			if got := rec.Body.String(); got != indexHTML {
				t.Fatalf("body = %q, want index.html", got)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control = %q, want no-cache", got)
			}
			if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "text/html") {
				t.Errorf("Content-Type = %q, want text/html", got)
			}
			if rec.Header().Get("ETag") == "" {
				t.Errorf("missing ETag on index.html")
			}
		})
	}
}

func TestHashedAssetsAreImmutable(t *testing.T) {
	h := NewHandler(testFS())
	cases := map[string]struct{ body, ctype string }{
		"/assets/index-abc123.js":  {`console.log("app")`, "text/javascript"},
		"/assets/index-def456.css": {`body{margin:0}`, "text/css"},
	}
	for target, want := range cases {
		rec := do(t, h, http.MethodGet, target, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status = %d", target, rec.Code)
		}
		if rec.Body.String() != want.body {
			t.Errorf("%s: body = %q", target, rec.Body.String())
		}
		if got := rec.Header().Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control = %q", target, got)
		}
		if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, want.ctype) {
			t.Errorf("%s: Content-Type = %q, want %s", target, got, want.ctype)
		}
	}
}

func TestMissingAssetIs404(t *testing.T) {
	rec := do(t, NewHandler(testFS()), http.MethodGet, "/assets/index-old999.js", nil)
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status = %d, want 404", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "<div id=\"root\">") {
		t.Fatalf("missing asset answered with index.html")
	}
	if got := rec.Header().Get("Cache-Control"); strings.Contains(got, "immutable") {
		t.Errorf("404 must not be cached forever, Cache-Control = %q", got)
	}
}

func TestOtherFilesServedAndRevalidated(t *testing.T) {
	rec := do(t, NewHandler(testFS()), http.MethodGet, "/favicon.svg", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d", rec.Code)
	}
	if got := rec.Header().Get("Content-Type"); got != "image/svg+xml" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-cache" {
		t.Errorf("Cache-Control = %q, want no-cache", got)
	}
}

func TestIndexRevalidation(t *testing.T) {
	h := NewHandler(testFS())
	first := do(t, h, http.MethodGet, "/", nil)
	etag := first.Header().Get("ETag")
	second := do(t, h, http.MethodGet, "/workflows/x", map[string]string{"If-None-Match": etag})
	if second.Code != http.StatusNotModified {
		t.Fatalf("status = %d, want 304", second.Code)
	}
	if second.Body.Len() != 0 {
		t.Errorf("304 with a body")
	}
}

func TestHeadAndMethods(t *testing.T) {
	h := NewHandler(testFS())
	rec := do(t, h, http.MethodHead, "/workflows/x", nil)
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Fatalf("HEAD: status = %d, body len = %d", rec.Code, rec.Body.Len())
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		rec := do(t, h, m, "/", nil)
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s: status = %d, want 405", m, rec.Code)
		}
		if got := rec.Header().Get("Allow"); got != "GET, HEAD" {
			t.Errorf("%s: Allow = %q", m, got)
		}
	}
}

func TestNotBuilt(t *testing.T) {
	h := NewHandler(fstest.MapFS{".gitkeep": {Data: []byte{}}})
	for _, target := range []string{"/", "/workflows/abc"} {
		rec := do(t, h, http.MethodGet, target, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status = %d", target, rec.Code)
		}
		body := rec.Body.String()
		for _, want := range []string{"not built", "make run", "make ui"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: body lacks %q:\n%s", target, want, body)
			}
		}
		if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "text/html") {
			t.Errorf("Content-Type = %q", got)
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("Cache-Control = %q, want no-store", got)
		}
	}
}

// The embedded build (whatever it holds: only .gitkeep on a clean checkout, or a real
// build) must yield a working handler.
func TestEmbeddedHandler(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/workflows/anything")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d", res.StatusCode)
	}
	if !strings.Contains(string(body), "Switchboard") {
		t.Fatalf("body does not mention Switchboard:\n%s", body)
	}
}

// The app refuses to be framed (clickjacking) and runs only its own scripts.
func TestAppPagesCarryAContentSecurityPolicy(t *testing.T) {
	h := NewHandler(testFS())
	for _, target := range []string{"/", "/workflows/x", "/assets/index-abc123.js"} {
		rec := do(t, h, "GET", target, nil)
		csp := rec.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: CSP = %q", target, csp)
		}
		if rec.Header().Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: X-Frame-Options = %q", target, rec.Header().Get("X-Frame-Options"))
		}
	}
}
