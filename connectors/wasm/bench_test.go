package wasm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"strconv"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/connectors/wasm"
	"github.com/switchboard-dev/switchboard/connectors/wasm/wasmtest"
)

// builtinOrders is the example plugin's list_orders written as a built-in
// connector would be: the baseline a plugin call is measured against.
type builtinOrders struct{}

func (builtinOrders) Spec() connectors.Spec {
	return connectors.Spec{ID: "orders_builtin", Name: "Orders", Auth: connectors.AuthSpec{Kind: connectors.AuthToken},
		Actions: []connectors.ActionSpec{{ID: "list_orders", Name: "List", Input: []connectors.Field{}}}}
}

func (builtinOrders) Execute(ctx context.Context, req connectors.Request) (connectors.Result, error) {
	base, _ := url.Parse(req.Input["base_url"].(string))
	var all []map[string]any
	pages := 0
	for p := 1; p != 0 && pages < 10; pages++ {
		u := base.JoinPath("orders")
		u.Path = "/" + u.Path
		u.RawQuery = url.Values{"page": {strconv.Itoa(p)}, "status": {"open"}}.Encode()
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		r, _ := http.NewRequestWithContext(ctx, "GET", u.String(), nil)
		r.Header.Set("Authorization", "Bearer "+req.Credentials["api_token"])
		r.Header.Set("X-Acme-Timestamp", ts)
		r.Header.Set("X-Acme-Signature", sign(req.Credentials["signing_secret"], "GET", u.RequestURI(), ts))
		resp, err := req.HTTP.Do(r)
		if err != nil {
			return connectors.Result{}, connectors.Retryable(err)
		}
		var pg struct {
			Orders   []map[string]any `json:"orders"`
			NextPage int              `json:"next_page"`
		}
		err = json.NewDecoder(resp.Body).Decode(&pg)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			return connectors.Result{}, connectors.Permanent(fmt.Errorf("HTTP %d: %v", resp.StatusCode, err))
		}
		all = append(all, pg.Orders...)
		p = pg.NextPage
	}
	return connectors.Result{Output: map[string]any{"orders": all, "count": len(all), "pages": pages}}, nil
}

func benchOrders(b *testing.B, c connectors.Connector) {
	srv, _ := acmeServer(&testing.T{}, "tok-123456", "shh-secret")
	defer srv.Close()
	req := connectors.Request{Action: "list_orders", HTTP: loopbackClient(), Input: map[string]any{"base_url": srv.URL},
		Credentials: map[string]string{"api_token": "tok-123456", "signing_secret": "shh-secret"}}
	b.ResetTimer()
	for b.Loop() {
		res, err := c.Execute(context.Background(), req)
		if err != nil || res.Output.(map[string]any)["count"] != 6 && res.Output.(map[string]any)["count"] != float64(6) {
			b.Fatalf("%v %v", res.Output, err)
		}
	}
}

// BenchmarkOrdersBuiltin: three signed pages from a local server, built in.
func BenchmarkOrdersBuiltin(b *testing.B) { benchOrders(b, builtinOrders{}) }

// BenchmarkOrdersPluginWarm: the same through the example plugin, compiled
// once; every call is a fresh instance (no state survives a call).
func BenchmarkOrdersPluginWarm(b *testing.B) {
	rt := benchRuntime(b, wasmtest.CacheDir(b))
	benchOrders(b, load2(b, rt, wasmtest.Build(b, "examples/plugins/orders")))
}

// BenchmarkPluginNoopWarm: the floor of a plugin call — instantiate,
// initialise the Go runtime, decode the input, encode the output.
func BenchmarkPluginNoopWarm(b *testing.B) {
	rt := benchRuntime(b, wasmtest.CacheDir(b))
	c := load2(b, rt, wasmtest.Build(b, "connectors/wasm/testdata/misbehave"))
	for b.Loop() {
		if _, err := c.Execute(context.Background(), connectors.Request{Action: "ok", Input: map[string]any{"n": 1.0}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOrdersPluginCold: a process's first call of the plugin — a new
// runtime compiling the module to machine code, with no cache on disk.
func BenchmarkOrdersPluginCold(b *testing.B) { benchCold(b, "") }

// BenchmarkOrdersPluginColdCached: the first call in a new process that has
// the compiled code on disk (--plugin-cache-dir).
func BenchmarkOrdersPluginColdCached(b *testing.B) { benchCold(b, wasmtest.CacheDir(b)) }

func benchCold(b *testing.B, cacheDir string) {
	mod := wasmtest.Build(b, "examples/plugins/orders")
	srv, _ := acmeServer(&testing.T{}, "tok-123456", "shh-secret")
	defer srv.Close()
	req := connectors.Request{Action: "list_orders", HTTP: loopbackClient(), Input: map[string]any{"base_url": srv.URL},
		Credentials: map[string]string{"api_token": "tok-123456", "signing_secret": "shh-secret"}}
	spec, err := benchRuntime(b, cacheDir).Inspect(context.Background(), mod)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		rt, err := wasm.NewRuntime(context.Background(), wasm.Options{CacheDir: cacheDir})
		if err != nil {
			b.Fatal(err)
		}
		c := rt.Connector(spec, wasm.Hash(mod), func(context.Context) ([]byte, error) { return mod, nil })
		if _, err := c.Execute(context.Background(), req); err != nil {
			b.Fatal(err)
		}
		rt.Close(context.Background())
	}
}

func benchRuntime(b *testing.B, cacheDir string) *wasm.Runtime {
	rt, err := wasm.NewRuntime(context.Background(), wasm.Options{CacheDir: cacheDir})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rt.Close(context.Background()) })
	return rt
}

func load2(b *testing.B, rt *wasm.Runtime, mod []byte) *wasm.Connector {
	spec, err := rt.Inspect(context.Background(), mod)
	if err != nil {
		b.Fatal(err)
	}
	return rt.Connector(spec, wasm.Hash(mod), func(context.Context) ([]byte, error) { return mod, nil })
}
