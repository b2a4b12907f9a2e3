package e2e

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store"
)

// The real binary, with webhooks on a host name of their own: links name
// the hooks host and each host serves only its half; an inline webhook
// secret is sealed in the database file (and still verifies after a
// restart); a synchronous reply built by a workflow cannot set cookies,
// redirect or serve HTML from the app's origin.
func TestHardenedBinaryEndToEnd(t *testing.T) {
	in := newInstance(t, store.SQLite)
	appHost := in.addr
	hooksHost := "hooks.localtest:" + strings.Split(in.addr, ":")[1]
	in.env = append(in.env, "SWITCHBOARD_HOOKS_URL=http://"+hooksHost)
	in.start()

	const secret = "tok-E2E-SEALED-7f3a"
	status, wf, raw := in.postJSONRaw(t, "/api/v1/workflows", `{"schema":"switchboard/v1","name":"sealed","trigger":{"type":"webhook","webhook":{
	 "verify":{"scheme":"token","header":"X-Api-Key","secrets":["`+secret+`"]}}},
	 "steps":[{"id":"m","type":"map","fields":{"x":"1"}}]}`)
	if status != 201 {
		t.Fatalf("create: %d %s", status, raw)
	}
	hookURL, _ := wf["webhook_url"].(string)
	if !strings.HasPrefix(hookURL, "http://"+hooksHost+"/hooks/") {
		t.Fatalf("webhook_url = %q, want it on the hooks host", hookURL)
	}
	path := strings.TrimPrefix(hookURL, "http://"+hooksHost)
	send := func(host, path, body string, h http.Header) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("POST", in.url(path), strings.NewReader(body))
		req.Host = host
		for k, v := range h {
			req.Header[k] = v
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	key := http.Header{"X-Api-Key": {secret}}
	if r := send(hooksHost, path, `{}`, key); r.StatusCode != 202 {
		t.Fatalf("hook on the hooks host: %d", r.StatusCode)
	}
	if r := send(appHost, path, `{}`, key); r.StatusCode != 404 {
		t.Fatalf("hook on the app's host: %d, want 404", r.StatusCode)
	}

	// A synchronous answer shaped by the workflow.
	status, syncWF, raw := in.postJSONRaw(t, "/api/v1/workflows", `{"schema":"switchboard/v1","name":"echo","trigger":{"type":"webhook","webhook":{
	 "respond":"sync","response":{"step":"page"}}},
	 "steps":[{"id":"page","type":"map","fields":{"status":"200","body":"<script>alert(document.cookie)</script>",
	  "headers":{"Content-Type":"text/html","Set-Cookie":"sb_session=stolen","Location":"https://evil.example/"}}}]}`)
	if status != 201 {
		t.Fatalf("create sync: %d %s", status, raw)
	}
	syncPath := strings.TrimPrefix(syncWF["webhook_url"].(string), "http://"+hooksHost)
	r := send(hooksHost, syncPath, `{}`, nil)
	if r.StatusCode != 200 {
		t.Fatalf("sync reply: %d", r.StatusCode)
	}
	if r.Header.Get("Set-Cookie") != "" || r.Header.Get("Location") != "" || strings.Contains(r.Header.Get("Content-Type"), "html") ||
		r.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(r.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("sync reply headers: %v", r.Header)
	}

	// Stopped: the database files do not hold the secret.
	in.cmd.Process.Signal(os.Interrupt)
	in.cmd.Wait()
	if f := in.dbFileHolding(t, "E2E-SEALED"); f != "" {
		t.Fatalf("%s holds the inline webhook secret in clear text", f)
	}
	// Started again: the sealed secret opens and verifies.
	in.start()
	if r := send(hooksHost, path, `{}`, key); r.StatusCode != 202 {
		t.Fatalf("after a restart the sealed secret does not verify: %d", r.StatusCode)
	}
	if r := send(hooksHost, path, `{}`, http.Header{"X-Api-Key": {"wrong"}}); r.StatusCode != 401 && r.StatusCode != 403 {
		t.Fatalf("a wrong secret: %d", r.StatusCode)
	}
}

// dbFileHolding names a SQLite file of the instance (database, WAL, shared
// memory) that holds needle in clear, "" when none does.
func (in *instance) dbFileHolding(t *testing.T, needle string) string {
	t.Helper()
	dataDir := ""
	for _, e := range in.env {
		if v, ok := strings.CutPrefix(e, "SWITCHBOARD_DATA_DIR="); ok {
			dataDir = v
		}
	}
	files, _ := filepath.Glob(filepath.Join(dataDir, "switchboard.db*"))
	if len(files) == 0 {
		t.Fatal("no database files found")
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte(needle)) {
			return f
		}
	}
	return ""
}
