// Package wasmtest helps test WebAssembly plugins: it builds Go plugins with
// the standard toolchain (cached on disk by source hash, so a test binary
// links each plugin at most once per source change), hands out a shared
// compilation cache folder, and assembles tiny hand-made modules for the
// cases no Go plugin can produce (a trap, a wrong ABI version, a forbidden
// import).
package wasmtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

var buildMu sync.Mutex

// ModuleRoot is the Switchboard module's folder.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// CacheDir is a wazero compilation cache shared by every test binary of
// this machine, so a plugin's machine code is compiled once, not per test.
func CacheDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "switchboard-wazero-cache")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Build compiles the Go plugin in pkg (a folder relative to the module
// root, such as "examples/plugins/orders") with GOOS=wasip1 GOARCH=wasm
// -buildmode=c-shared and returns the module. ldflags may set variables
// (-X main.name=value). The result is cached by the hash of the plugin's
// and the SDK's sources, the Go version and ldflags.
func Build(t testing.TB, pkg string, ldflags ...string) []byte {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	root := ModuleRoot(t)
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version(), strings.Join(ldflags, " "))
	for _, dir := range []string{pkg, "connectors/wasm/sdk"} {
		hashDir(t, h, filepath.Join(root, dir))
	}
	key := hex.EncodeToString(h.Sum(nil))[:24]
	cache := filepath.Join(os.TempDir(), "switchboard-plugins")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(cache, filepath.Base(pkg)+"-"+key+".wasm")
	if b, err := os.ReadFile(out); err == nil {
		return b
	}
	tmp := out + fmt.Sprintf(".%d.tmp", os.Getpid())
	args := []string{"build", "-buildmode=c-shared", "-o", tmp}
	if len(ldflags) > 0 {
		args = append(args, "-ldflags="+strings.Join(ldflags, " "))
	}
	cmd := exec.Command("go", append(args, "./"+pkg)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	start := time.Now()
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building plugin %s: %v\n%s", pkg, err, msg)
	}
	t.Logf("built plugin %s in %s", pkg, time.Since(start).Round(time.Millisecond))
	if err := os.Rename(tmp, out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hashDir(t testing.TB, h interface{ Write([]byte) (int, error) }, dir string) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(b))
		h.Write(b)
	}
}
