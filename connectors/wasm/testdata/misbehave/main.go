// Command misbehave is a test plugin whose actions do what a sandbox must
// survive: loop forever, allocate without bound, crash, reach for files,
// environment and internal addresses, and leak secrets.
package main

import (
	"os"
	"strings"

	"github.com/switchboard-dev/switchboard/connectors/wasm/sdk"
)

func act(id string, run func(*sdk.Call) (any, error), in ...sdk.Field) sdk.Action {
	if in == nil {
		in = []sdk.Field{}
	}
	return sdk.Action{ID: id, Name: id, Input: in, Run: run}
}

var sink [][]byte

func init() {
	sdk.Register(sdk.Spec{
		ID: "misbehave", Name: "Misbehave", Version: "0.0.1",
		Auth: sdk.Auth{Kind: "token", Fields: []sdk.Field{{Key: "token", Label: "Token", Type: "string", Secret: true}}},
		Actions: []sdk.Action{
			act("ok", func(c *sdk.Call) (any, error) { return map[string]any{"ok": true, "n": c.Number("n")}, nil }, sdk.Field{Key: "n", Label: "n", Type: "number"}),
			act("loop", func(*sdk.Call) (any, error) {
				for i := 0; ; i++ {
					if i < 0 {
						return i, nil
					}
				}
			}),
			act("alloc", func(*sdk.Call) (any, error) {
				for {
					sink = append(sink, make([]byte, 4<<20))
				}
			}),
			act("crash", func(*sdk.Call) (any, error) {
				done := make(chan bool)
				go func() { var m map[string]int; m["x"] = 1; done <- true }() // a panic no recover sees
				<-done
				return nil, nil
			}),
			act("escape", func(*sdk.Call) (any, error) {
				out := map[string]any{}
				_, err := os.ReadFile("/etc/passwd")
				out["read_file"] = errText(err)
				_, err = os.ReadDir("/")
				out["read_dir"] = errText(err)
				err = os.WriteFile("/tmp/plugin-was-here", []byte("x"), 0o644)
				out["write_file"] = errText(err)
				out["environ"] = strings.Join(os.Environ(), ",")
				out["args"] = strings.Join(os.Args, ",")
				h, _ := os.Hostname()
				out["hostname"] = h
				return out, nil
			}),
			act("fetch", func(c *sdk.Call) (any, error) {
				resp, err := sdk.Do(sdk.Request{URL: c.String("url"), Auth: true})
				if err != nil {
					return nil, err
				}
				return map[string]any{"status": resp.Status, "body": string(resp.Body)}, nil
			}, sdk.Field{Key: "url", Label: "URL", Type: "string", Required: true}),
			act("leak", func(c *sdk.Call) (any, error) {
				sdk.Log(sdk.LevelInfo, "the token is "+c.Secrets["token"], "token", c.Secrets["token"])
				os.Stderr.WriteString("stderr has " + c.Secrets["token"] + "\n")
				return map[string]any{"token": c.Secrets["token"], "nested": []any{"x" + c.Secrets["token"]}}, nil
			}),
			act("fail", func(c *sdk.Call) (any, error) {
				return nil, sdk.Permanent(os.ErrInvalid)
			}),
		},
	})
}

func errText(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

func main() {}
