package declarative_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/connectors/declarative"
)

// aliasBomb is "billion laughs": 434 bytes that expand to 9^8 strings.
const aliasBomb = `id: bomb
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`

func TestYAMLAliasesAreRefused(t *testing.T) {
	_, err := declarative.Parse("bomb.yaml", []byte(aliasBomb))
	if err == nil || !strings.Contains(err.Error(), "alias") {
		t.Fatalf("alias bomb: %v, want a refusal naming aliases", err)
	}
	small := "id: x\nname: &n X\ndescription: *n\n"
	if _, err := declarative.Parse("small.yaml", []byte(small)); err == nil || !strings.Contains(err.Error(), "alias") {
		t.Fatalf("small alias: %v", err)
	}
}

// A bomb in the watched folder is refused and logged, not fatal (the
// loader's tests show the other files still load).
func TestConnectorsFolderSkipsABomb(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bomb.yaml"), []byte(aliasBomb), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := connectors.NewRegistry()
	l := declarative.NewLoader(reg, declarative.Options{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	refused := l.Scan(context.Background())
	if len(refused) != 1 || !strings.Contains(refused[0].Error(), "alias") {
		t.Fatalf("refused = %v", refused)
	}
}
