// Package layers holds one test: the imports of every package point the way
// ../shared/DESIGN.md's package map says (down the table), read with
// `go list`, so an arrow pointing up fails `make test`.
package layers

import (
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

const module = "github.com/switchboard-dev/switchboard/"

type pkg struct {
	ImportPath string
	Imports    []string // non-test imports only: tests may reach further
	Standard   bool
}

// known are the arrows that still point up, each with what would fix it;
// the test fails on any other, and on one of these once it is gone (so the
// list only shrinks).
var known = map[string]string{}

func under(prefixes ...string) func(string) bool {
	return func(p string) bool {
		for _, pre := range prefixes {
			if p == pre || strings.HasPrefix(p, pre+"/") {
				return true
			}
		}
		return false
	}
}

func TestImportsPointDown(t *testing.T) {
	pkgs := list(t)
	std := map[string]bool{}
	for _, p := range pkgs {
		if p.Standard {
			std[p.ImportPath] = true
		}
	}
	internal := func(p string) (string, bool) { return strings.CutPrefix(p, module) }
	// Each check returns a complaint or "".
	checks := []func(from, imp string) string{
		func(from, imp string) string { // nothing imports cmd or internal/app, but cmd
			rel, ok := internal(imp)
			if ok && (under("cmd")(rel) || (rel == "internal/app" && !under("cmd")(from))) {
				return "nothing imports cmd or internal/app (only cmd/switchboard wires)"
			}
			return ""
		},
		func(from, imp string) string { // the SDK is stdlib-only
			if from == "connectors" && !std[imp] {
				return "the connector SDK (package connectors) imports the standard library only"
			}
			return ""
		},
		func(from, imp string) string { // connectors use only the SDK and low shared packages
			rel, ok := internal(imp)
			if under("connectors")(from) && ok && !under("connectors", "internal/netguard", "internal/webhooksig", "internal/expr", "internal/periodic")(rel) {
				return "connectors import only the SDK, other connectors and the low shared packages (netguard, webhooksig, expr, periodic)"
			}
			return ""
		},
		func(from, imp string) string { // GORM only in the store
			if strings.HasPrefix(imp, "gorm.io/") && !under("internal/store")(from) {
				return "internal/store is the only package importing GORM"
			}
			return ""
		},
		func(from, imp string) string { // River only in the engine
			if strings.HasPrefix(imp, "github.com/riverqueue/") && !under("internal/engine")(from) {
				return "River (and its tables) belong to internal/engine"
			}
			return ""
		},
		func(from, imp string) string { // the low packages import no Switchboard package above them
			rel, ok := internal(imp)
			if !ok {
				return ""
			}
			low := map[string][]string{
				"internal/fielderr":   nil,
				"internal/cronspec":   nil,
				"internal/formdef":    {"internal/fielderr"},
				"internal/webhooksig": {"internal/fielderr"},
				"internal/metrics":    nil,
				"internal/periodic":   nil,
				"internal/netguard":   nil,
				"internal/secrets":    nil,
				"internal/config":     {"internal/netguard"},
				"internal/expr":       {"connectors"},
				"internal/workflow":   {"internal/expr", "internal/webhooksig", "internal/fielderr", "internal/formdef", "internal/cronspec", "internal/tlsconf", "connectors"},
				"internal/store":      {"internal/secrets", "migrations"},
			}
			for p, allowed := range low {
				if under(p)(from) && !under(append(allowed, p)...)(rel) {
					return p + " sits below " + rel + " in DESIGN.md's map"
				}
			}
			return ""
		},
		func(from, imp string) string { // the engine and the triggers never reach up to the API or the app
			rel, ok := internal(imp)
			if !ok {
				return ""
			}
			if under("internal/engine", "internal/trigger", "internal/auth", "internal/connections", "internal/oauth", "internal/flows")(from) &&
				under("internal/api", "internal/webui", "internal/app")(rel) {
				return "only cmd and internal/app wire the API to the rest"
			}
			if under("internal/engine")(from) && under("internal/trigger")(rel) {
				return "triggers hand runs to the engine, not the other way"
			}
			return ""
		},
	}
	seen := map[string]bool{}
	for _, p := range pkgs {
		from, ok := internal(p.ImportPath)
		if !ok {
			continue
		}
		for _, imp := range p.Imports {
			for _, check := range checks {
				why := check(from, imp)
				if why == "" {
					continue
				}
				arrow := from + " -> " + strings.TrimPrefix(imp, module)
				if _, ok := known[arrow]; ok {
					seen[arrow] = true
					continue
				}
				t.Errorf("%s: %s", arrow, why)
			}
		}
	}
	for arrow := range known {
		if !seen[arrow] {
			t.Errorf("%s is gone: remove it from the known list", arrow)
		}
	}
}

// list runs `go list -deps -json ./...` at the module root.
func list(t *testing.T) []pkg {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	cmd := exec.Command("go", "list", "-deps", "-json", "./...")
	cmd.Dir = root
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(out)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decoding go list: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go list: %v", err)
	}
	if len(pkgs) < 30 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

// River's tables belong to the engine as its imports do: no other
// package's code names them in SQL (the store once read river_job).
func TestRiverTablesOnlyInTheEngine(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	read := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == filepath.Join("internal", "engine") || rel == "frontend" || rel == "docs" || strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, ".sql") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		read++
		if m := riverTable.Find(src); m != nil {
			t.Errorf("%s names River's table %s: only internal/engine reads the queue", rel, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if read < 100 {
		t.Fatalf("read only %d files", read)
	}
}

var riverTable = regexp.MustCompile(`\briver_(job|leader|queue|migration|client)\w*`)
