package api_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/connectors/declarative"
	"github.com/switchboard-dev/switchboard/connectors/wasm"
	"github.com/switchboard-dev/switchboard/connectors/wasm/wasmtest"
	"github.com/switchboard-dev/switchboard/internal/api"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/connections"
	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/flows"
	"github.com/switchboard-dev/switchboard/internal/netguard"
	"github.com/switchboard-dev/switchboard/internal/plugins"
	"github.com/switchboard-dev/switchboard/internal/secrets"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/trigger/webhook"
	"github.com/switchboard-dev/switchboard/internal/waitfor"
)

// setupPlugins starts a server wired as `switchboard serve` wires it: one
// registry shared by the API, the engine, the declarative loader and the
// plugin manager; actions may reach 127.0.0.1 (not ::1, not metadata).
func setupPlugins(t *testing.T, dialect string, lim wasm.Limits) *connectorsBundle {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t, dialect)
	_, err := engine.MigrateQueue(ctx, st)
	storetest.Must(t, err, "queue migrations")
	log := slog.New(slog.DiscardHandler)
	reg := connectors.Default.Clone()
	loader := declarative.NewLoader(reg, declarative.Options{Dir: filepath.Join(t.TempDir(), "connectors"), Logger: log})
	storetest.Must(t, loader.Start(t.Context()), "loader")
	rt, err := wasm.NewRuntime(ctx, wasm.Options{Limits: lim, CacheDir: wasmtest.CacheDir(t)})
	storetest.Must(t, err, "plugin runtime")
	t.Cleanup(func() { rt.Close(context.Background()) })
	mgr := plugins.New(st, rt, reg, plugins.Options{Logger: log, Taken: func(id string) bool { _, err := loader.Info(id); return err == nil }})
	storetest.Must(t, mgr.Start(t.Context()), "plugins")
	ring, _, err := secrets.LoadOrCreateFile(filepath.Join(t.TempDir(), "secret.key"))
	storetest.Must(t, err, "keys")
	conns := connections.New(st, reg, ring)
	policy, _ := netguard.ParseAllowList("127.0.0.1")
	eng, err := engine.New(st, engine.Options{Queue: engine.QueueOptions{Workers: 4}, Registry: reg, Credentials: conns,
		Outbound: netguard.Options{Policy: policy}, Logger: log})
	storetest.Must(t, err, "engine")
	storetest.Must(t, eng.Start(ctx), "start engine")
	t.Cleanup(func() { eng.Stop(context.Background()) })
	authSvc := auth.New(st, auth.Options{})
	h := api.New(api.Deps{
		Store: st, Flows: flows.New(st, reg, "http://sb.test"), Registry: reg, Connectors: loader, Plugins: mgr, Runs: eng,
		Webhooks:    webhook.New(st, eng, eng, webhook.Options{MaxBody: 1 << 20, Logger: log}),
		Connections: conns, Auth: authSvc, PublicURL: "http://sb.test", Logger: log,
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	_, key, err := authSvc.NewAPIKey(ctx, "tests", auth.RoleAdmin, "test")
	storetest.Must(t, err, "API key")
	return &connectorsBundle{bundle: &bundle{st: st, srv: srv, key: key, auth: authSvc, handler: h}, reg: reg}
}

// waitRunEnd waits (bounded) for a run to end and returns it.
func waitRunEnd(t *testing.T, st *store.Store, runID string) *store.Run {
	t.Helper()
	var run *store.Run
	waitfor.Until(t, 90*time.Second, "run "+runID+" to end", func() bool {
		run, _ = st.GetRun(context.Background(), runID)
		return run != nil && (run.State == store.RunSucceeded || run.State == store.RunFailed)
	})
	return run
}

// acmeReceiver is the Acme shop API of the example plugin: bearer token,
// HMAC-signed requests, three pages of two orders.
func acmeReceiver(t *testing.T) (*httptest.Server, func() []string) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := hmac.New(sha256.New, []byte("acme-signing"))
		fmt.Fprintf(m, "%s\n%s\n%s", r.Method, r.URL.RequestURI(), r.Header.Get("X-Acme-Timestamp"))
		ok := r.Header.Get("Authorization") == "Bearer acme-token" && r.Header.Get("X-Acme-Signature") == hex.EncodeToString(m.Sum(nil))
		mu.Lock()
		seen = append(seen, fmt.Sprintf("%s %v", r.URL.RequestURI(), ok))
		mu.Unlock()
		if !ok {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		page := r.URL.Query().Get("page")
		next := map[string]int{"1": 2, "2": 3, "3": 0}[page]
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"orders":[{"id":"o-%s-a","total":10},{"id":"o-%s-b","total":20}],"next_page":%d}`, page, page, next)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), seen...) }
}

func (b *connectorsBundle) hookRun(t *testing.T, doc, body string) string {
	t.Helper()
	wf := b.do(t, "POST", "/api/v1/workflows", "application/json", doc)
	if wf.status != 201 {
		t.Fatalf("workflow: %d %s", wf.status, wf.raw)
	}
	hook := strings.TrimPrefix(wf.body["webhook_url"].(string), "http://sb.test")
	r := b.do(t, "POST", hook, "application/json", body)
	if r.status != 202 {
		t.Fatalf("webhook: %d %s", r.status, r.raw)
	}
	return r.body["run_id"].(string)
}

func TestAdminUploadsAWasmPluginThatRunsInAWorkflow(t *testing.T) {
	orders := wasmtest.Build(t, "examples/plugins/orders")
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setupPlugins(t, dialect, wasm.Limits{})
		recv, seen := acmeReceiver(t)

		up := b.do(t, "POST", "/api/v1/connectors", "application/wasm", string(orders))
		if up.status != 201 || up.body["id"] != "acme_orders" || up.body["origin"] != "plugin" || up.body["revision"] != float64(1) ||
			up.body["hash"] != wasm.Hash(orders) || up.body["enabled"] != true {
			t.Fatalf("upload: %d %s", up.status, up.raw)
		}
		// Listed with its spec, from which the UI draws the forms.
		list := b.do(t, "GET", "/api/v1/connectors", "", "")
		var spec map[string]any
		for _, it := range list.body["items"].([]any) {
			if m := it.(map[string]any); m["id"] == "acme_orders" {
				spec = m
			}
		}
		if spec == nil {
			t.Fatalf("acme_orders not listed: %s", list.raw)
		}
		act := spec["actions"].([]any)[0].(map[string]any)
		fields := act["input"].([]any)
		if act["id"] != "list_orders" || len(fields) != 3 || fields[1].(map[string]any)["type"] != "select" ||
			spec["auth"].(map[string]any)["fields"].([]any)[1].(map[string]any)["secret"] != true {
			t.Fatalf("spec as served: %v", spec)
		}
		if inst := b.do(t, "GET", "/api/v1/connectors/installed", "", ""); !strings.Contains(inst.raw, `"origin":"plugin"`) || !strings.Contains(inst.raw, `"origin":"builtin"`) {
			t.Fatalf("installed: %s", inst.raw)
		}

		if r := b.do(t, "POST", "/api/v1/connections", "application/json",
			`{"name":"acme","connector":"acme_orders","fields":{"api_token":"acme-token","signing_secret":"acme-signing"}}`); r.status != 201 {
			t.Fatalf("connection: %d %s", r.status, r.raw)
		}
		doc := `{"schema":"switchboard/v1","name":"orders","trigger":{"type":"webhook"},"steps":[
		 {"id":"list","type":"action","action":"acme_orders.list_orders","connection":"acme",
		  "input":{"base_url":"{{ trigger.body.base }}","status":"open"}},
		 {"id":"sum","type":"map","fields":{"count":"{{ steps.list.count }}","first":"{{ steps.list.orders[0].id }}"}}]}`
		runID := b.hookRun(t, doc, `{"base":"`+recv.URL+`"}`)
		if run := waitRunEnd(t, b.st, runID); run.State != store.RunSucceeded {
			t.Fatalf("run %s: %s", run.State, b.do(t, "GET", "/api/v1/runs/"+runID, "", "").raw)
		}
		steps, _ := b.st.ListStepRuns(context.Background(), runID)
		var out map[string]any
		_ = json.Unmarshal(steps[len(steps)-1].Output, &out)
		if out["count"] != float64(6) || out["first"] != "o-1-a" {
			t.Fatalf("last step output %s", steps[len(steps)-1].Output)
		}
		if s := seen(); len(s) != 3 || s[0] != "/orders?page=1&status=open true" || s[2] != "/orders?page=3&status=open true" {
			t.Fatalf("receiver saw %v", s)
		}
		dels, _ := b.st.ListDeliveries(context.Background(), runID)
		if len(dels) != 3 {
			t.Fatalf("%d deliveries recorded, want one per page", len(dels))
		}
		detail := b.do(t, "GET", "/api/v1/runs/"+runID, "", "")
		if strings.Contains(detail.raw, "acme-token") || strings.Contains(detail.raw, "acme-signing") {
			t.Fatalf("a credential appears in the run record: %s", detail.raw)
		}

		// Off: gone from the list (and from runs); on: back.
		if r := b.do(t, "POST", "/api/v1/connectors/acme_orders/disable", "", ""); r.status != 200 || r.body["enabled"] != false {
			t.Fatalf("disable: %d %s", r.status, r.raw)
		}
		if _, ok := b.reg.Get("acme_orders"); ok {
			t.Fatal("a disabled plugin is still registered")
		}
		if r := b.do(t, "POST", "/api/v1/connectors/acme_orders/enable", "", ""); r.status != 200 || r.body["enabled"] != true {
			t.Fatalf("enable: %d %s", r.status, r.raw)
		}
		// A second upload is a new revision; the history lists both.
		if r := b.do(t, "POST", "/api/v1/connectors", "application/wasm", string(orders)); r.status != 201 || r.body["revision"] != float64(2) {
			t.Fatalf("re-upload: %d %s", r.status, r.raw)
		}
		if r := b.do(t, "GET", "/api/v1/connectors/acme_orders/versions", "", ""); r.status != 200 || len(r.body["items"].([]any)) != 2 {
			t.Fatalf("versions: %d %s", r.status, r.raw)
		}
		if r := b.do(t, "POST", "/api/v1/connectors/acme_orders/versions/1/activate", "", ""); r.status != 200 || r.body["revision"] != float64(1) {
			t.Fatalf("activate: %d %s", r.status, r.raw)
		}
		// Refused to a non-admin.
		_, editorKey, _ := b.auth.NewAPIKey(context.Background(), "ed", auth.RoleEditor, "test")
		if r := b.doAs(t, editorKey, "POST", "/api/v1/connectors", "application/wasm", string(orders)); r.status != 403 {
			t.Fatalf("editor upload: %d", r.status)
		}
		if r := b.do(t, "DELETE", "/api/v1/connectors/acme_orders", "", ""); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.raw)
		}
		if r := b.do(t, "DELETE", "/api/v1/connectors/acme_orders", "", ""); r.status != 404 {
			t.Fatalf("delete again: %d %s", r.status, r.raw)
		}
	})
}

func TestBadPluginModulesAreRefusedAtUploadWithTheReason(t *testing.T) {
	spec := `{"id":"tiny","name":"Tiny","auth":{"kind":"none"},"actions":[{"id":"go","name":"Go","input":[]}]}`
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setupPlugins(t, dialect, wasm.Limits{})
		for _, tc := range []struct {
			name   string
			mod    []byte
			status int
			want   string
		}{
			{"malformed", []byte("\x00asm\x01\x00\x00\x00\xff\xff garbage"), 422, "not a valid WebAssembly module"},
			{"not wasm", []byte(`{"id":"x"}`), 415, ""},
			{"wrong ABI", wasmtest.Module{ABI: 2, Spec: spec}.Bytes(), 422, "speaks host ABI version 2; this Switchboard speaks version 1"},
			{"invalid spec", wasmtest.Module{Spec: `{"id":"tiny","name":"","auth":{"kind":"none"},"actions":[]}`}.Bytes(), 422, "spec does not validate: connector tiny: name is empty"},
			{"forbidden import", wasmtest.Module{Spec: spec, Imports: []string{"wasi_snapshot_preview1.sock_open"}}.Bytes(), 422, "imports wasi_snapshot_preview1.sock_open"},
			{"built-in id", wasmtest.Module{Spec: strings.Replace(spec, "tiny", "slack", 1)}.Bytes(), 409, "built-in or declarative connector"},
		} {
			ct := "application/wasm"
			if tc.name == "not wasm" {
				ct = "application/octet-stream"
			}
			r := b.do(t, "POST", "/api/v1/connectors", ct, string(tc.mod))
			if r.status != tc.status || !strings.Contains(r.raw, tc.want) || r.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s: %d %s, want %d with %q", tc.name, r.status, r.raw, tc.status, tc.want)
			}
		}
		if plugins, _ := b.st.ListPlugins(context.Background()); len(plugins) != 0 {
			t.Fatalf("a refused module was stored: %+v", plugins)
		}
		if c, _ := b.reg.Get("slack"); c == nil || fmt.Sprintf("%T", c) == "*wasm.Connector" {
			t.Fatal("the built-in slack connector was replaced")
		}
	})
}

func TestMisbehavingPluginFailsItsStepWhileOtherRunsGoOn(t *testing.T) {
	orders := wasmtest.Build(t, "examples/plugins/orders")
	bad := wasmtest.Build(t, "connectors/wasm/testdata/misbehave")
	trap := wasmtest.Module{Spec: `{"id":"trap","name":"Trap","auth":{"kind":"none"},"actions":[{"id":"go","name":"Go","input":[]}]}`, Trap: true}.Bytes()
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		// A long runtime limit, so that a busy machine cannot turn the other
		// failures into timeouts; the loop gets its step's own timeout.
		b := setupPlugins(t, dialect, wasm.Limits{Timeout: 2 * time.Minute, MemoryPages: 1024})
		recv, _ := acmeReceiver(t)
		for _, mod := range [][]byte{orders, bad, trap} {
			if r := b.do(t, "POST", "/api/v1/connectors", "application/wasm", string(mod)); r.status != 201 {
				t.Fatalf("upload: %d %s", r.status, r.raw)
			}
		}
		for _, c := range []string{`{"name":"acme","connector":"acme_orders","fields":{"api_token":"acme-token","signing_secret":"acme-signing"}}`,
			`{"name":"mis","connector":"misbehave","fields":{"token":"tok-secret"}}`} {
			if r := b.do(t, "POST", "/api/v1/connections", "application/json", c); r.status != 201 {
				t.Fatalf("connection: %d %s", r.status, r.raw)
			}
		}
		step := func(action, input string) string {
			return `{"schema":"switchboard/v1","name":"` + action + `","trigger":{"type":"webhook"},"steps":[
			 {"id":"s","type":"action","action":"` + action + `","connection":"mis","input":` + input + `,"retry":{"max_attempts":1}}]}`
		}
		cases := []struct{ doc, want string }{
			{strings.Replace(step("misbehave.loop", `{}`), `"retry"`, `"timeout":"3s","retry"`, 1), "ran past its time limit of 3s"},
			{step("misbehave.alloc", `{}`), "ran out of memory (its limit is 64 MiB)"},
			{strings.Replace(step("trap.go", `{}`), `"connection":"mis",`, "", 1), "trapped: wasm error: unreachable"},
			{step("misbehave.fetch", `{"url":"http://169.254.169.254/latest/meta-data/"}`), "destination address is not allowed"},
			{step("misbehave.fetch", `{"url":"http://[::1]:9/"}`), "destination address is not allowed"},
		}
		var ids []string
		for _, tc := range cases {
			ids = append(ids, b.hookRun(t, tc.doc, `{}`))
		}
		good := b.hookRun(t, `{"schema":"switchboard/v1","name":"good","trigger":{"type":"webhook"},"steps":[
		 {"id":"list","type":"action","action":"acme_orders.list_orders","connection":"acme","input":{"base_url":"`+recv.URL+`"}}]}`, `{}`)
		if run := waitRunEnd(t, b.st, good); run.State != store.RunSucceeded {
			t.Fatalf("the good run next to bad ones: %s %s", run.State, run.Error)
		}
		for i, tc := range cases {
			run := waitRunEnd(t, b.st, ids[i])
			steps, _ := b.st.ListStepRuns(context.Background(), ids[i])
			if run.State != store.RunFailed || len(steps) != 1 || !strings.Contains(steps[0].Error, tc.want) {
				t.Errorf("case %d: run %s %q, step %+v; want a failed step with %q", i, run.State, run.Error, steps, tc.want)
			}
		}
		// Afterwards the plugins still work.
		if run := waitRunEnd(t, b.st, b.hookRun(t, step("misbehave.ok", `{"n":3}`), `{}`)); run.State != store.RunSucceeded {
			t.Fatalf("after: %s %s", run.State, run.Error)
		}
	})
}
