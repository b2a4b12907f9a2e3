package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors/wasm/wasmtest"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/waitfor"
)

// TestWasmPluginUploadedToTheBinaryRunsInEveryProcess uploads the example
// plugin to the real binary with an API key, as an admin would with curl,
// and runs it in a workflow: on PostgreSQL in a separate worker process
// (which loads the module from the database), on SQLite again after a
// restart.
func TestWasmPluginUploadedToTheBinaryRunsInEveryProcess(t *testing.T) {
	mod := wasmtest.Build(t, "examples/plugins/orders")
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		var mu sync.Mutex
		var seen []string
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			m := hmac.New(sha256.New, []byte("acme-signing"))
			fmt.Fprintf(m, "%s\n%s\n%s", r.Method, r.URL.RequestURI(), r.Header.Get("X-Acme-Timestamp"))
			if r.Header.Get("Authorization") != "Bearer acme-token" || r.Header.Get("X-Acme-Signature") != hex.EncodeToString(m.Sum(nil)) {
				http.Error(w, "bad signature", http.StatusUnauthorized)
				return
			}
			mu.Lock()
			seen = append(seen, r.URL.RequestURI())
			mu.Unlock()
			next := map[string]int{"1": 2, "2": 0}[r.URL.Query().Get("page")]
			fmt.Fprintf(w, `{"orders":[{"id":"o-%s"}],"next_page":%d}`, r.URL.Query().Get("page"), next)
		}))
		defer recv.Close()
		var k [32]byte
		rand.Read(k[:])
		secret := "SWITCHBOARD_SECRET_KEY=" + base64.StdEncoding.EncodeToString(k[:])
		role := "SWITCHBOARD_ROLE=all"
		if dialect == store.Postgres {
			role = "SWITCHBOARD_ROLE=api"
		}
		// Compiled code is shared through the cache folder (--plugin-cache-dir).
		in := newInstance(t, dialect, secret, role, "SWITCHBOARD_PLUGIN_CACHE_DIR="+wasmtest.CacheDir(t))
		in.start()

		req, _ := http.NewRequest("POST", in.url("/api/v1/connectors"), bytes.NewReader(mod))
		req.Header.Set("Authorization", "Bearer "+in.apiKey())
		req.Header.Set("Content-Type", "application/wasm")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 201 || !strings.Contains(string(raw), `"origin":"plugin"`) {
			t.Fatalf("upload: %d %s", resp.StatusCode, raw)
		}
		if r, raw := in.request(t, "POST", "/api/v1/connections",
			`{"name":"acme","connector":"acme_orders","fields":{"api_token":"acme-token","signing_secret":"acme-signing"}}`); r.StatusCode != 201 {
			t.Fatalf("connection: %d %s", r.StatusCode, raw)
		}
		doc := `{"schema":"switchboard/v1","name":"orders","trigger":{"type":"webhook"},"steps":[
		 {"id":"list","type":"action","action":"acme_orders.list_orders","connection":"acme","input":{"base_url":"` + recv.URL + `"}}]}`
		r, raw := in.request(t, "POST", "/api/v1/workflows", doc)
		var wf struct {
			WebhookURL string `json:"webhook_url"`
		}
		if json.Unmarshal(raw, &wf); r.StatusCode != 201 || wf.WebhookURL == "" {
			t.Fatalf("workflow: %d %s", r.StatusCode, raw)
		}
		hook := in.url(strings.TrimPrefix(wf.WebhookURL, "http://"+in.addr))

		if dialect == store.Postgres {
			// Runs execute only in a worker process, which never saw the upload.
			startWorker(t, in)
		}
		runOnce := func() {
			t.Helper()
			code, runID := postHook(t, hook, `{}`)
			if code != 202 {
				t.Fatalf("webhook: %d", code)
			}
			var d runDetail
			waitfor.Until(t, 60*time.Second, "run "+runID+" to end", func() bool {
				in.getJSON(t, "/api/v1/runs/"+runID, &d)
				return d.State == "succeeded" || d.State == "failed"
			})
			if d.State != "succeeded" || len(d.Steps) != 1 || !strings.Contains(string(d.Steps[0].Output), `"count":2`) || len(d.Deliveries) != 2 {
				t.Fatalf("run: %+v", d)
			}
			detail := in.getRaw(t, "/api/v1/runs/"+runID)
			if strings.Contains(detail, "acme-token") || strings.Contains(detail, "acme-signing") {
				t.Fatalf("a credential appears in the run record: %s", detail)
			}
		}
		runOnce()
		if dialect == store.SQLite {
			in.kill()
			in.start()
			runOnce()
		}
		mu.Lock()
		defer mu.Unlock()
		if len(seen) == 0 || seen[0] != "/orders?page=1&status=open" {
			t.Fatalf("receiver saw %v", seen)
		}
	})
}

// startWorker starts a --role worker process on in's database and waits
// until it has loaded the plugins.
func startWorker(t *testing.T, in *instance) {
	t.Helper()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(append([]string(nil), in.env...), "SWITCHBOARD_ROLE=worker", "SWITCHBOARD_ADDR="+addr)
	logs := &bytes.Buffer{}
	w := lockedWriter{in.mu, logs}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			in.mu.Lock()
			t.Logf("worker log:\n%s", logs.String())
			in.mu.Unlock()
		}
	})
	waitfor.Until(t, 30*time.Second, "the worker to load the plugin", func() bool {
		in.mu.Lock()
		defer in.mu.Unlock()
		return strings.Contains(logs.String(), "plugin loaded") && strings.Contains(logs.String(), "switchboard worker started")
	})
}
