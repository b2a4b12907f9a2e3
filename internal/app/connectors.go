package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/connectors/declarative"
	_ "github.com/switchboard-dev/switchboard/connectors/declarative/builtin" // pipedrive, shipped as YAML
	"github.com/switchboard-dev/switchboard/connectors/wasm"
	"github.com/switchboard-dev/switchboard/internal/config"
	"github.com/switchboard-dev/switchboard/internal/netguard"
	"github.com/switchboard-dev/switchboard/internal/plugins"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// startConnectors loads the declarative connectors folder into reg and keeps
// watching it until ctx ends. Uploads through the API are written there too.
func startConnectors(ctx context.Context, cfg config.Config, reg *connectors.Registry, log *slog.Logger) (*declarative.Loader, error) {
	l := declarative.NewLoader(reg, declarative.Options{Dir: cfg.ConnectorsDir, Logger: log.With("part", "connectors")})
	if err := l.Start(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

// startPlugins loads the WebAssembly plugins stored in the database into reg
// and keeps them in step with it until ctx ends. Connectors in reg before
// (built-ins) and the declarative loader's ids are not a plugin's to take.
func startPlugins(ctx context.Context, cfg config.Config, st *store.Store, reg *connectors.Registry, loader *declarative.Loader, log *slog.Logger) (*plugins.Manager, *wasm.Runtime, error) {
	policy, _ := netguard.ParseAllowList(cfg.OutboundAllow) // checked by Validate
	rt, err := wasm.NewRuntime(ctx, wasm.Options{
		Limits:   wasm.Limits{Timeout: cfg.PluginTimeout, MemoryPages: uint32(cfg.PluginMemoryMB) * 16},
		CacheDir: cfg.PluginCacheDir, Outbound: netguard.Options{Policy: policy}, Logger: log.With("part", "plugins")})
	if err != nil {
		return nil, nil, err
	}
	m := plugins.New(st, rt, reg, plugins.Options{Logger: log.With("part", "plugins"), Taken: func(id string) bool {
		_, err := loader.Info(id)
		return err == nil
	}})
	if err := m.Start(ctx); err != nil {
		rt.Close(context.Background())
		return nil, nil, fmt.Errorf("loading plugins: %w", err)
	}
	return m, rt, nil
}

// connectorsCmd runs 'connectors validate FILE…' (structure and templates)
// and 'connectors test FILE…' (those checks and the inline tests: what the
// server accepts). Problems go to stderr as file:line: path: message.
func connectorsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) < 2 || (args[0] != "validate" && args[0] != "test") {
		return errors.New("want 'connectors validate FILE…' or 'connectors test FILE…'")
	}
	failed := 0
	for _, path := range args[1:] {
		if !checkConnectorFile(ctx, args[0] == "test", path, stdout, stderr) {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d file(s) refused", failed, len(args)-1)
	}
	return nil
}

// sameFile reports whether a registered connector was built from the very
// file being checked (the shipped pipedrive.yaml, say).
func sameFile(registered connectors.Connector, c *declarative.Connector) bool {
	d, ok := registered.(*declarative.Connector)
	return ok && d.Hash() == c.Hash()
}

func checkConnectorFile(ctx context.Context, runTests bool, path string, stdout, stderr io.Writer) bool {
	name := filepath.Base(path)
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", path, err)
		return false
	}
	if strings.EqualFold(filepath.Ext(name), ".wasm") {
		return checkPluginFile(ctx, name, data, stdout, stderr)
	}
	c, err := declarative.Parse(name, data)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return false
	}
	spec := c.Spec()
	if b, builtin := registry().Get(spec.ID); builtin && !sameFile(b, c) {
		fmt.Fprintf(stderr, "%s: id: %q is a built-in connector; a file cannot replace it\n", name, spec.ID)
		return false
	}
	if !runTests {
		fmt.Fprintf(stdout, "%s: ok: %s %s, %d action(s), %s; run 'switchboard connectors test' for its %d inline test(s)\n",
			name, spec.ID, spec.Version, len(spec.Actions), c.Hash(), c.Tests())
		return true
	}
	results := c.RunTests(ctx)
	for _, r := range results {
		if r.Err != nil {
			fmt.Fprintf(stderr, "FAIL %s:%d: %s %q: %v\n", name, r.Line, r.Path, r.Name, r.Err)
		} else {
			fmt.Fprintf(stdout, "ok   %s:%d: %s %q\n", name, r.Line, r.Path, r.Name)
		}
	}
	if declarative.TestErrors(name, results) != nil {
		return false
	}
	if len(results) == 0 {
		fmt.Fprintf(stdout, "%s: ok, but it has no inline tests (add some under tests:)\n", name)
		return true
	}
	fmt.Fprintf(stdout, "%s: ok: %s %s, %d inline test(s) passed\n", name, spec.ID, spec.Version, len(results))
	return true
}

// checkPluginFile checks a WebAssembly plugin module as an upload would.
func checkPluginFile(ctx context.Context, name string, data []byte, stdout, stderr io.Writer) bool {
	rt, err := wasm.NewRuntime(ctx, wasm.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return false
	}
	defer rt.Close(context.Background())
	spec, err := rt.Inspect(ctx, data)
	if err != nil {
		fmt.Fprintf(stderr, "%s: refused: %v\n", name, err)
		return false
	}
	if _, builtin := registry().Get(spec.ID); builtin {
		fmt.Fprintf(stderr, "%s: id: %q is a built-in connector; a plugin cannot replace it\n", name, spec.ID)
		return false
	}
	fmt.Fprintf(stdout, "%s: ok: plugin %s %s (ABI %d), %d action(s), %s\n", name, spec.ID, spec.Version, wasm.ABIVersion, len(spec.Actions), wasm.Hash(data))
	return true
}
