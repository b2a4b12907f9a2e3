package declarative

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/waitfor"
)

// builtinConn stands for a Go connector registered before the loader.
type builtinConn struct{}

func (builtinConn) Spec() connectors.Spec {
	return connectors.Spec{ID: "http", Name: "HTTP", Auth: connectors.AuthSpec{Kind: connectors.AuthNone},
		Actions: []connectors.ActionSpec{{ID: "request", Name: "Request"}}}
}

func (builtinConn) Execute(context.Context, connectors.Request) (connectors.Result, error) {
	return connectors.Result{}, nil
}

type folder struct {
	t    *testing.T
	dir  string
	tick time.Time
}

// write writes a file with a later modification time than the last one, so
// a scan sees the change whatever the file system's time resolution.
func (f *folder) write(name, content string) {
	f.t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
	f.tick = f.tick.Add(time.Second)
	if err := os.Chtimes(p, f.tick, f.tick); err != nil {
		f.t.Fatal(err)
	}
}

func newFolder(t *testing.T) *folder {
	return &folder{t: t, dir: t.TempDir(), tick: time.Now().Add(-time.Hour)}
}

func version(t *testing.T, reg *connectors.Registry, id string) string {
	t.Helper()
	c, ok := reg.Get(id)
	if !ok {
		return ""
	}
	return c.Spec().Version
}

func TestLoaderKeepsGoodConnectorsWhenAFileBreaks(t *testing.T) {
	ctx := context.Background()
	f := newFolder(t)
	reg := connectors.NewRegistry()
	if err := reg.Add(builtinConn{}); err != nil {
		t.Fatal(err)
	}
	f.write("acme.yaml", acme)
	f.write("broken.yml", strings.Replace(strings.Replace(acme, "id: acme", "id: other", 1), "method: POST", "method: SEND", 1))
	f.write("notes.txt", "not a connector")
	f.write(".hidden.yaml", "id: [")
	l := NewLoader(reg, Options{Dir: f.dir})
	refused := l.Scan(ctx)
	if len(refused) != 1 || !strings.Contains(refused[0].Error(), "broken.yml:19: actions[0].method") {
		t.Fatalf("refused %v", refused)
	}
	if version(t, reg, "acme") != "1.0.0" || version(t, reg, "other") != "" {
		t.Fatalf("registry: acme %q, other %q", version(t, reg, "acme"), version(t, reg, "other"))
	}

	// A changed file is swapped in.
	f.write("acme.yaml", strings.Replace(acme, "version: 1.0.0", "version: 1.1.0", 1))
	if refused := l.Scan(ctx); len(refused) != 0 {
		t.Fatal(refused)
	}
	if version(t, reg, "acme") != "1.1.0" {
		t.Fatalf("acme %q after the change", version(t, reg, "acme"))
	}
	info, _ := l.Info("acme")
	if info.Origin != "file" || info.File != "acme.yaml" || info.Hash == "" || !info.Enabled || info.Tests != 1 {
		t.Fatalf("info %+v", info)
	}

	// A broken change, or a failing inline test, keeps the previous version.
	f.write("acme.yaml", strings.Replace(acme, "version: 1.0.0", "version: 1.2.0\nbase_url: x", 1))
	f.write("acme.yaml", strings.Replace(acme, "version: 1.0.0\n", "version: 1.3.0\n", 1)+"    error: {kind: permanent}\n")
	refused = l.Scan(ctx)
	if len(refused) != 1 || !strings.Contains(refused[0].Error(), "acme.yaml:34: tests[0]") {
		t.Fatalf("refused %v", refused)
	}
	if version(t, reg, "acme") != "1.1.0" {
		t.Fatalf("acme %q: the previous good version must stay", version(t, reg, "acme"))
	}
	if _, ok := l.Refused()["acme.yaml"]; !ok {
		t.Fatal("Refused() does not list acme.yaml")
	}
	// Unchanged files are not loaded again.
	if refused := l.Scan(ctx); len(refused) != 0 {
		t.Fatalf("second scan refused %v again", refused)
	}

	// A built-in id and a second file with a loaded id are refused.
	f.write("http.yaml", strings.Replace(acme, "id: acme", "id: http", 1))
	f.write("acme-copy.yaml", strings.Replace(acme, "version: 1.0.0", "version: 9.0.0", 1))
	refused = l.Scan(ctx)
	if len(refused) != 2 || !errors.Is(errors.Join(refused...), ErrBuiltin) || !errors.Is(errors.Join(refused...), ErrConflict) {
		t.Fatalf("refused %v", refused)
	}
	if c, _ := reg.Get("http"); c != (builtinConn{}) || version(t, reg, "acme") != "1.1.0" {
		t.Fatal("a file replaced a built-in or a loaded connector")
	}

	// The fixed file loads; a removed file's connector goes.
	f.write("broken.yml", strings.Replace(acme, "id: acme", "id: other", 1))
	os.Remove(filepath.Join(f.dir, "acme.yaml"))
	l.Scan(ctx)
	if version(t, reg, "other") != "1.0.0" || version(t, reg, "acme") != "9.0.0" {
		t.Fatalf("other %q, acme %q (acme-copy.yaml may take over once acme.yaml is gone)", version(t, reg, "other"), version(t, reg, "acme"))
	}
	os.Remove(filepath.Join(f.dir, "acme-copy.yaml"))
	l.Scan(ctx)
	if version(t, reg, "acme") != "" {
		t.Fatal("a removed file's connector is still registered")
	}
}

func TestLoaderUploadDisableEnableDelete(t *testing.T) {
	ctx := context.Background()
	f := newFolder(t)
	reg := connectors.NewRegistry()
	_ = reg.Add(builtinConn{})
	l := NewLoader(reg, Options{Dir: f.dir})

	info, err := l.Upload(ctx, []byte(acme), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	if info.File != "acme.yaml" || info.Spec.ID != "acme" || version(t, reg, "acme") != "1.0.0" {
		t.Fatalf("upload: %+v", info)
	}
	if b, _ := os.ReadFile(filepath.Join(f.dir, "acme.yaml")); string(b) != acme {
		t.Fatal("the upload was not written to the folder")
	}
	if _, err := l.Upload(ctx, []byte(strings.Replace(acme, "id: acme", "id: http", 1)), "yaml"); !errors.Is(err, ErrBuiltin) {
		t.Fatalf("upload over a built-in: %v", err)
	}
	_, err = l.Upload(ctx, []byte(strings.Replace(acme, "method: POST", "method: SEND", 1)), "yaml")
	var fe *Error
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "acme.yaml:19: actions[0].method") {
		t.Fatalf("broken upload: %v", err)
	}
	if version(t, reg, "acme") != "1.0.0" {
		t.Fatal("a broken upload replaced the good version")
	}

	if _, err := l.Disable("acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Disable("http"); err != nil {
		t.Fatal(err)
	}
	if _, ok := reg.Get("acme"); ok {
		t.Fatal("a disabled connector is still registered")
	}
	if _, ok := reg.Get("http"); ok {
		t.Fatal("a disabled built-in is still registered")
	}
	if _, err := l.Disable("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("disable unknown: %v", err)
	}

	// A new process on the same folder sees the uploads and the disabled list.
	reg2 := connectors.NewRegistry()
	_ = reg2.Add(builtinConn{})
	l2 := NewLoader(reg2, Options{Dir: f.dir})
	l2.Scan(ctx)
	if _, ok := reg2.Get("acme"); ok {
		t.Fatal("disabled state was not kept across restarts")
	}
	if info, _ := l2.Info("acme"); info.Enabled || info.Spec.Version != "1.0.0" {
		t.Fatalf("info after restart %+v", info)
	}
	if _, err := l2.Enable("acme"); err != nil {
		t.Fatal(err)
	}
	if version(t, reg2, "acme") != "1.0.0" {
		t.Fatal("enable did not register the connector")
	}
	// The first process picks the change up on its next scan.
	l.Scan(ctx)
	if version(t, reg, "acme") != "1.0.0" {
		t.Fatal("another process's enable was not seen")
	}
	if _, err := l.Enable("http"); err != nil {
		t.Fatal(err)
	}
	if c, _ := reg.Get("http"); c != (builtinConn{}) {
		t.Fatal("enable did not bring the built-in back")
	}

	if err := l.Delete("http"); !errors.Is(err, ErrBuiltin) {
		t.Fatalf("delete built-in: %v", err)
	}
	if err := l.Delete("acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "acme.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("delete left the file")
	}
	if _, ok := reg.Get("acme"); ok {
		t.Fatal("deleted connector still registered")
	}
	if err := l.Delete("acme"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestLoaderPicksUpNewFilesWhileRunning(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newFolder(t)
	f.dir = filepath.Join(f.dir, "connectors") // Start creates it
	reg := connectors.NewRegistry()
	l := NewLoader(reg, Options{Dir: f.dir, Interval: 10 * time.Millisecond})
	if err := l.Start(ctx); err != nil {
		t.Fatal(err)
	}
	f.write("acme.yaml", acme)
	waitfor.Until(t, 5*time.Second, "a file dropped into the folder to be loaded", func() bool {
		_, ok := reg.Get("acme")
		return ok
	})
}
