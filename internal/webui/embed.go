// Package webui serves the built frontend (frontend/ -> vite build -> dist/) from the binary.
//
// The caller routes every non-API path here. Existing files are served as they are; any other
// GET path gets index.html so the single-page app can route on the client. Vite's hashed files
// under /assets/ are cached forever, index.html is always revalidated.
package webui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheNoCache   = "no-cache"
)

// Handler serves the frontend embedded in the binary.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// fs.Sub only fails for an invalid path name; "dist" is valid.
		panic("webui: " + err.Error())
	}
	return NewHandler(sub)
}

// NewHandler serves the files of fsys (the contents of Vite's outDir) with an index.html
// fallback for client-side routes. When fsys has no index.html it answers every page request
// with a short note that the UI was not built.
func NewHandler(fsys fs.FS) http.Handler {
	return &handler{fsys: fsys}
}

type handler struct {
	fsys fs.FS
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// The app runs only its own scripts and is never framed (clickjacking);
	// React Flow sets inline styles, hence style-src 'unsafe-inline'.
	w.Header().Set("Content-Security-Policy", appCSP)
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "same-origin")

	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name != "" && name != "index.html" && servable(name) {
		if data, err := readFile(h.fsys, name); err == nil {
			if strings.HasPrefix(name, "assets/") {
				w.Header().Set("Cache-Control", cacheImmutable)
			} else {
				w.Header().Set("Cache-Control", cacheNoCache)
				setETag(w, data)
			}
			http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
			return
		}
	}

	// A missing hashed asset is a stale reference (old index.html after a deploy):
	// answering with HTML would only produce a confusing MIME-type error in the browser.
	if strings.HasPrefix(name, "assets/") {
		w.Header().Set("Cache-Control", cacheNoCache)
		http.NotFound(w, r)
		return
	}

	index, err := readFile(h.fsys, "index.html")
	if err != nil {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write([]byte(notBuiltPage))
		}
		return
	}
	w.Header().Set("Cache-Control", cacheNoCache)
	setETag(w, index)
	http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(index))
}

// servable rejects hidden files (dist/.gitkeep and the like).
func servable(name string) bool {
	for _, part := range strings.Split(name, "/") {
		if strings.HasPrefix(part, ".") {
			return false
		}
	}
	return true
}

// readFile returns the contents of a regular file; directories count as missing.
func readFile(fsys fs.FS, name string) ([]byte, error) {
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("webui: not a regular file")
	}
	return fs.ReadFile(fsys, name)
}

// setETag lets browsers revalidate no-cache files with If-None-Match (embedded files have no
// modification time, so Last-Modified is not available).
func setETag(w http.ResponseWriter, data []byte) {
	sum := sha256.Sum256(data)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:12])+`"`)
}

const notBuiltPage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Switchboard</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5}code{background:#f1f3f6;padding:.1rem .3rem;border-radius:4px}</style>
</head>
<body>
<h1>Switchboard</h1>
<p>The web UI was not built into this binary. The API and webhooks work as usual.</p>
<p>To build the UI, run <code>make run</code> (builds the UI and the binary, then serves) or <code>make ui</code> and rebuild the binary.</p>
</body>
</html>
`

const appCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
	"font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"
