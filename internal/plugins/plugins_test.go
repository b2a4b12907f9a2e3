package plugins_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/connectors/wasm"
	"github.com/switchboard-dev/switchboard/connectors/wasm/wasmtest"
	"github.com/switchboard-dev/switchboard/internal/netguard"
	"github.com/switchboard-dev/switchboard/internal/plugins"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// process is one Switchboard process's view: its own runtime and registry.
func process(t *testing.T, st *store.Store) (*plugins.Manager, *connectors.Registry) {
	t.Helper()
	rt, err := wasm.NewRuntime(context.Background(), wasm.Options{CacheDir: wasmtest.CacheDir(t)})
	storetest.Must(t, err, "runtime")
	t.Cleanup(func() { rt.Close(context.Background()) })
	reg := connectors.NewRegistry()
	m := plugins.New(st, rt, reg, plugins.Options{})
	storetest.Must(t, m.Sync(context.Background()), "sync")
	return m, reg
}

func TestEveryProcessRunsTheStoredBytes(t *testing.T) {
	mod := wasmtest.Build(t, "connectors/wasm/testdata/misbehave")
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		st := storetest.Open(t, dialect)
		api, _ := process(t, st)
		worker, workerReg := process(t, st)

		in, err := api.Upload(ctx, mod, "ada@example.com")
		storetest.Must(t, err, "upload")
		if in.Hash != wasm.Hash(mod) || in.Revision != 1 || !in.Enabled {
			t.Fatalf("info %+v", in)
		}
		// Stored once by hash: a second upload of the same bytes adds a
		// version, not a module.
		if _, err := api.Upload(ctx, mod, "ada@example.com"); err != nil {
			t.Fatal(err)
		}
		stored, err := st.PluginWasm(ctx, in.Hash)
		storetest.Must(t, err, "module")
		if wasm.Hash(stored) != in.Hash {
			t.Fatal("the stored bytes do not hash to their address")
		}

		if _, ok := workerReg.Get("misbehave"); ok {
			t.Fatal("registered in the worker before it synced")
		}
		storetest.Must(t, worker.Sync(ctx), "worker sync")
		c, ok := workerReg.Get("misbehave")
		if !ok {
			t.Fatal("the worker did not load the plugin")
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.Header.Get("Authorization")) }))
		defer srv.Close()
		client := netguard.NewClient(netguard.Options{Policy: netguard.Policy{AllowPrefixes: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}}, nil)
		res, err := c.Execute(ctx, connectors.Request{Action: "fetch", Input: map[string]any{"url": srv.URL},
			Credentials: map[string]string{"token": "w0rker-token"}, HTTP: client})
		storetest.Must(t, err, "execute in the worker")
		// The host applied the token; the output shows it redacted.
		if body := res.Output.(map[string]any)["body"]; body != "Bearer [redacted]" {
			t.Fatalf("body %v", body)
		}

		if _, err := api.Disable(ctx, "misbehave"); err != nil {
			t.Fatal(err)
		}
		storetest.Must(t, worker.Sync(ctx), "worker sync")
		if _, ok := workerReg.Get("misbehave"); ok {
			t.Fatal("disabled in one process, still registered in another")
		}
		storetest.Must(t, api.Delete(ctx, "misbehave"), "delete")
		if _, err := st.PluginWasm(ctx, in.Hash); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the module outlived its plugin: %v", err)
		}
		if _, err := api.Enable(ctx, "misbehave"); !errors.Is(err, plugins.ErrNotFound) {
			t.Fatalf("enable a deleted plugin: %v", err)
		}
	})
}
