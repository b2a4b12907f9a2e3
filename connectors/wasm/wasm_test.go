package wasm_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/connectors/wasm"
	"github.com/switchboard-dev/switchboard/connectors/wasm/wasmtest"
	"github.com/switchboard-dev/switchboard/internal/netguard"
)

func newRuntime(t *testing.T, lim wasm.Limits) *wasm.Runtime {
	t.Helper()
	rt, err := wasm.NewRuntime(context.Background(), wasm.Options{Limits: lim, CacheDir: wasmtest.CacheDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	return rt
}

func load(t *testing.T, rt *wasm.Runtime, mod []byte) *wasm.Connector {
	t.Helper()
	spec, err := rt.Inspect(context.Background(), mod)
	if err != nil {
		t.Fatalf("inspect: %v", err)
	}
	return rt.Connector(spec, wasm.Hash(mod), func(context.Context) ([]byte, error) { return mod, nil })
}

// loopbackClient is the guarded client with the test servers' loopback
// range allowed, as an admin would allow a private API.
func loopbackClient() *http.Client {
	return netguard.NewClient(netguard.Options{Policy: netguard.Policy{AllowPrefixes: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}}, nil)
}

func sign(secret, method, uri, ts string) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%s\n%s\n%s", method, uri, ts)
	return hex.EncodeToString(m.Sum(nil))
}

// acmeServer serves three pages of orders to requests carrying the bearer
// token and a valid signature, and counts what it refused.
func acmeServer(t *testing.T, token, secret string) (*httptest.Server, *int) {
	var mu sync.Mutex
	refused := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		ts := r.Header.Get("X-Acme-Timestamp")
		if r.Header.Get("Authorization") != "Bearer "+token || r.Header.Get("X-Acme-Signature") != sign(secret, r.Method, r.URL.RequestURI(), ts) {
			refused++
			t.Logf("refused %s %s auth=%q ts=%q sig=%q", r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"), ts, r.Header.Get("X-Acme-Signature"))
			http.Error(w, `{"error":"bad signature"}`, http.StatusUnauthorized)
			return
		}
		if r.URL.Query().Get("status") == "limited" {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		page := r.URL.Query().Get("page")
		next := map[string]int{"1": 2, "2": 3, "3": 0}[page]
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"orders":[{"id":"o-%s-a","total":10},{"id":"o-%s-b","total":20}],"next_page":%d}`, page, page, next)
	}))
	t.Cleanup(srv.Close)
	return srv, &refused
}

func TestExamplePluginPagesThroughSignedRequests(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	c := load(t, rt, wasmtest.Build(t, "examples/plugins/orders"))
	spec := c.Spec()
	if spec.ID != "acme_orders" || spec.Auth.Kind != connectors.AuthToken || len(spec.Actions) != 1 {
		t.Fatalf("spec = %+v", spec)
	}
	if a, _ := spec.Action("list_orders"); len(a.Input) != 3 || a.Input[1].Type != connectors.TypeSelect {
		t.Fatalf("action spec = %+v", a)
	}
	srv, refused := acmeServer(t, "tok-123456", "shh-secret")
	creds := map[string]string{"api_token": "tok-123456", "signing_secret": "shh-secret"}
	res, err := c.Execute(context.Background(), connectors.Request{Action: "list_orders", HTTP: loopbackClient(),
		Input: map[string]any{"base_url": srv.URL, "status": "open", "max_pages": float64(10)}, Credentials: creds})
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	out := res.Output.(map[string]any)
	if out["count"] != float64(6) || out["pages"] != float64(3) || *refused != 0 {
		t.Fatalf("output = %v, refused = %d", out, *refused)
	}

	// A wrong signing secret is refused by the server: a permanent 401.
	_, err = c.Execute(context.Background(), connectors.Request{Action: "list_orders", HTTP: loopbackClient(),
		Input:       map[string]any{"base_url": srv.URL},
		Credentials: map[string]string{"api_token": "tok-123456", "signing_secret": "wrong"}})
	if connectors.KindOf(err) != connectors.KindPermanent || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("wrong secret: err = %v", err)
	}
	// 429 with Retry-After maps to rate limited with its delay.
	_, err = c.Execute(context.Background(), connectors.Request{Action: "list_orders", HTTP: loopbackClient(),
		Input: map[string]any{"base_url": srv.URL, "status": "limited"}, Credentials: creds})
	if connectors.KindOf(err) != connectors.KindRateLimited || connectors.RetryAfterOf(err) != 7*time.Second {
		t.Fatalf("rate limited: err = %v (%s, %s)", err, connectors.KindOf(err), connectors.RetryAfterOf(err))
	}
}

func TestPluginRequestsGoThroughTheGuard(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	c := load(t, rt, wasmtest.Build(t, "connectors/wasm/testdata/misbehave"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "inside") }))
	defer srv.Close()
	guarded := netguard.NewClient(netguard.Options{}, nil)
	for _, url := range []string{srv.URL, "http://169.254.169.254/latest/meta-data/", "http://[::1]:1/", "http://10.0.0.1/"} {
		_, err := c.Execute(context.Background(), connectors.Request{Action: "fetch", HTTP: guarded, Input: map[string]any{"url": url},
			Credentials: map[string]string{"token": "t0ken"}})
		if err == nil || connectors.KindOf(err) != connectors.KindPermanent || !strings.Contains(err.Error(), "not allowed") {
			t.Errorf("%s: err = %v, want a permanent refusal", url, err)
		}
	}
	// No HTTP client in the request: the runtime's own guard applies.
	if _, err := c.Execute(context.Background(), connectors.Request{Action: "fetch", Input: map[string]any{"url": srv.URL}, Credentials: map[string]string{"token": "t0ken"}}); err == nil || !strings.Contains(err.Error(), "not allowed") {
		t.Errorf("fallback client: err = %v", err)
	}
	// Allowlisted, the same request goes through.
	res, err := c.Execute(context.Background(), connectors.Request{Action: "fetch", HTTP: loopbackClient(), Input: map[string]any{"url": srv.URL},
		Credentials: map[string]string{"token": "t0ken"}})
	if err != nil || res.Output.(map[string]any)["body"] != "inside" {
		t.Fatalf("allowlisted: %v, %v", res.Output, err)
	}
}

func TestMisbehavingPluginsFailTheirCallWithinLimits(t *testing.T) {
	// The loop gets a short time limit; the others a long one, so that a
	// busy machine cannot turn their failure into a timeout.
	mod := wasmtest.Build(t, "connectors/wasm/testdata/misbehave")
	short := load(t, newRuntime(t, wasm.Limits{Timeout: 2 * time.Second}), mod)
	rt := newRuntime(t, wasm.Limits{Timeout: time.Minute, MemoryPages: 1024})
	c := load(t, rt, mod)
	trap := load(t, rt, wasmtest.Module{Spec: `{"id":"trap","name":"Trap","auth":{"kind":"none"},"actions":[{"id":"go","name":"Go","input":[]}]}`, Trap: true}.Bytes())
	cases := []struct {
		conn   *wasm.Connector
		action string
		want   string
	}{
		{short, "loop", "ran past its time limit of 2s"},
		{c, "alloc", "ran out of memory (its limit is 64 MiB)"},
		{c, "crash", "(its output: panic: assignment to entry in nil map"},
		{trap, "go", "trapped: wasm error: unreachable"},
		{c, "fail", "permanent: invalid argument"},
	}
	// Every bad call runs at once, next to good ones that must succeed.
	var wg sync.WaitGroup
	errs := make([]error, len(cases))
	for i, tc := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = tc.conn.Execute(context.Background(), connectors.Request{Action: tc.action, Input: map[string]any{}})
		}()
	}
	for i := range 5 {
		res, err := c.Execute(context.Background(), connectors.Request{Action: "ok", Input: map[string]any{"n": float64(i)}})
		if err != nil || res.Output.(map[string]any)["n"] != float64(i) {
			t.Fatalf("a good call next to bad ones: %v, %v", res.Output, err)
		}
	}
	wg.Wait()
	for i, tc := range cases {
		err := errs[i]
		if err == nil || !strings.Contains(err.Error(), tc.want) || connectors.KindOf(err) != connectors.KindPermanent {
			t.Errorf("%s: err = %v (kind %s), want a permanent error with %q", tc.action, err, connectors.KindOf(err), tc.want)
		}
	}
	// The process and the runtime are fine afterwards.
	if _, err := c.Execute(context.Background(), connectors.Request{Action: "ok", Input: map[string]any{}}); err != nil {
		t.Fatalf("after: %v", err)
	}
}

func TestCanceledRunStopsAPluginAndIsNotItsFault(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{Timeout: time.Minute})
	c := load(t, rt, wasmtest.Build(t, "connectors/wasm/testdata/misbehave"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Execute(ctx, connectors.Request{Action: "loop", Input: map[string]any{}})
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if err == nil || connectors.KindOf(err) != connectors.KindRetryable {
			t.Fatalf("err = %v, want retryable", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a canceled loop kept running")
	}
}

func TestSandboxHasNoFilesEnvironmentOrArguments(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	c := load(t, rt, wasmtest.Build(t, "connectors/wasm/testdata/misbehave"))
	t.Setenv("SWITCHBOARD_CANARY", "visible")
	res, err := c.Execute(context.Background(), connectors.Request{Action: "escape", Input: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	out := res.Output.(map[string]any)
	for _, k := range []string{"read_file", "read_dir", "write_file"} {
		if out[k] == "no error" {
			t.Errorf("%s succeeded inside the sandbox", k)
		}
	}
	if out["environ"] != "" || out["args"] != "" {
		t.Errorf("environment %q, args %q: want none", out["environ"], out["args"])
	}
}

func TestSecretsAreRedactedFromOutputErrorsAndLogs(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	c := load(t, rt, wasmtest.Build(t, "connectors/wasm/testdata/misbehave"))
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	res, err := c.Execute(context.Background(), connectors.Request{Action: "leak", Input: map[string]any{},
		Credentials: map[string]string{"token": "s3cr3t-value"}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	out := fmt.Sprint(res.Output)
	if strings.Contains(out, "s3cr3t-value") || !strings.Contains(out, "[redacted]") {
		t.Errorf("output = %s", out)
	}
	if strings.Contains(logs.String(), "s3cr3t-value") || !strings.Contains(logs.String(), "plugin: the token is [redacted]") {
		t.Errorf("logs = %s", logs.String())
	}
}

func TestInspectRefusesBadModulesWithTheReason(t *testing.T) {
	rt := newRuntime(t, wasm.Limits{})
	good := `{"id":"tiny","name":"Tiny","auth":{"kind":"none"},"actions":[{"id":"go","name":"Go","input":[]}]}`
	cases := []struct {
		name string
		mod  []byte
		want string
	}{
		{"not wasm", []byte("PK\x03\x04 a zip file"), "not a WebAssembly module"},
		{"truncated", wasmtest.Module{Spec: good}.Bytes()[:40], "not a valid WebAssembly module"},
		{"wrong ABI", wasmtest.Module{ABI: 99, Spec: good}.Bytes(), "speaks host ABI version 99; this Switchboard speaks version 1"},
		{"forbidden import", wasmtest.Module{Spec: good, Imports: []string{"env.system"}}.Bytes(), "imports env.system"},
		{"unknown host function", wasmtest.Module{Spec: good, Imports: []string{"switchboard.exec"}}.Bytes(), "imports switchboard.exec, a host function this Switchboard does not offer"},
		{"missing export", wasmtest.Module{Spec: good, NoInvoke: true}.Bytes(), "does not export switchboard_invoke"},
		{"spec not JSON", wasmtest.Module{Spec: `{"id":`}.Bytes(), "spec is not JSON"},
		{"invalid spec", wasmtest.Module{Spec: `{"id":"Bad Id","name":"x","auth":{"kind":"none"},"actions":[]}`}.Bytes(), "spec does not validate: connector id \"Bad Id\""},
		{"no actions", wasmtest.Module{Spec: `{"id":"empty","name":"Empty","auth":{"kind":"none"},"actions":[]}`}.Bytes(), "has no actions"},
		{"bad field type", wasmtest.Module{Spec: `{"id":"x","name":"X","auth":{"kind":"none"},"actions":[{"id":"a","name":"A","input":[{"key":"k","label":"K","type":"blob"}]}]}`}.Bytes(), "unknown type \"blob\""},
		{"too much memory", wasmtest.Module{Spec: good, ExtraMemory: true}.Bytes(), "not a valid WebAssembly module"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rt.Inspect(context.Background(), tc.mod)
			if !errors.Is(err, wasm.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrInvalid with %q", err, tc.want)
			}
		})
	}
	if _, err := rt.Inspect(context.Background(), wasmtest.Module{Spec: good}.Bytes()); err != nil {
		t.Fatalf("the well-formed hand-made module: %v", err)
	}
}
