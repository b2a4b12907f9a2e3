package app

import (
	"bytes"
	_ "github.com/switchboard-dev/switchboard/connectors/all" // built-ins, as cmd/switchboard has them
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/connectors/wasm/wasmtest"
)

func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

const cliConnector = `id: cli_demo
name: CLI demo
version: 1.2.3
base_url: https://demo.example/api
auth: {type: bearer, credential: token, fields: [{key: token, secret: true}]}
actions:
  - id: ping
    name: Ping
    input: [{key: msg, required: true}]
    method: POST
    path: /ping
    body: {msg: "{{ input.msg }}"}
tests:
  - name: pings
    action: ping
    input: {msg: hi}
    credentials: {token: t}
    expect: {method: POST, path: /api/ping, body: {msg: hi}, headers: {Authorization: Bearer t}}
`

func TestConnectorsValidateAndTestCommands(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "demo.yaml")
	os.WriteFile(good, []byte(cliConnector), 0o644)
	broken := filepath.Join(dir, "broken.yaml")
	os.WriteFile(broken, []byte(strings.Replace(cliConnector, "method: POST\n    path", "method: POSTT\n    path", 1)), 0o644)
	failing := filepath.Join(dir, "failing.yaml")
	os.WriteFile(failing, []byte(strings.Replace(cliConnector, "body: {msg: hi}", "body: {msg: ho}", 1)), 0o644)
	builtinID := filepath.Join(dir, "http.yaml")
	os.WriteFile(builtinID, []byte(strings.Replace(cliConnector, "id: cli_demo", "id: http", 1)), 0o644)

	if code, out, errOut := runMain(t, "connectors", "validate", good); code != 0 || !strings.Contains(out, "demo.yaml: ok: cli_demo 1.2.3") {
		t.Fatalf("validate good: %d %q %q", code, out, errOut)
	}
	if code, out, errOut := runMain(t, "connectors", "test", good); code != 0 || !strings.Contains(out, `ok   demo.yaml:14: tests[0] "pings"`) {
		t.Fatalf("test good: %d %q %q", code, out, errOut)
	}
	for _, cmd := range []string{"validate", "test"} {
		code, _, errOut := runMain(t, "connectors", cmd, broken)
		if code != 1 || !strings.Contains(errOut, `broken.yaml:10: actions[0].method: must be GET, POST, PUT, PATCH or DELETE (got "POSTT")`) {
			t.Fatalf("%s broken: %d %q", cmd, code, errOut)
		}
	}
	// validate does not run inline tests; test does.
	if code, _, _ := runMain(t, "connectors", "validate", failing); code != 0 {
		t.Fatalf("validate ran the inline tests")
	}
	if code, _, errOut := runMain(t, "connectors", "test", failing); code != 1 || !strings.Contains(errOut, `FAIL failing.yaml:14: tests[0] "pings": body {"msg":"hi"}, want {"msg":"ho"}`) {
		t.Fatalf("test failing: %d %q", code, errOut)
	}
	if code, _, errOut := runMain(t, "connectors", "validate", builtinID); code != 1 || !strings.Contains(errOut, `"http" is a built-in connector`) {
		t.Fatalf("built-in id: %d %q", code, errOut)
	}
	// The shipped Pipedrive file passes: it is the built-in itself.
	if code, out, errOut := runMain(t, "connectors", "test", "../../connectors/declarative/builtin/pipedrive.yaml"); code != 0 || !strings.Contains(out, "inline test(s) passed") {
		t.Fatalf("pipedrive: %d %q %q", code, out, errOut)
	}
	if code, _, _ := runMain(t, "connectors", "check", good); code != 1 {
		t.Fatal("an unknown subcommand was accepted")
	}
}

func TestConnectorsValidateChecksPluginModules(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "tiny.wasm")
	os.WriteFile(good, wasmtest.Module{Spec: `{"id":"tiny","name":"Tiny","version":"0.1.0","auth":{"kind":"none"},"actions":[{"id":"go","name":"Go","input":[]}]}`}.Bytes(), 0o644)
	bad := filepath.Join(dir, "old.wasm")
	os.WriteFile(bad, wasmtest.Module{ABI: 7, Spec: `{}`}.Bytes(), 0o644)
	code, out, _ := runMain(t, "connectors", "validate", good)
	if code != 0 || !strings.Contains(out, "tiny.wasm: ok: plugin tiny 0.1.0 (ABI 1), 1 action(s), sha256:") {
		t.Fatalf("good: %d %s", code, out)
	}
	code, _, errOut := runMain(t, "connectors", "validate", bad)
	if code == 0 || !strings.Contains(errOut, "old.wasm: refused: the plugin speaks host ABI version 7") {
		t.Fatalf("bad: %d %s", code, errOut)
	}
}
