package workflow_test

import (
	"testing"

	"github.com/switchboard-dev/switchboard/connectors"
	_ "github.com/switchboard-dev/switchboard/connectors/all"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

// Any document parses, validates and (when valid) compiles, or fails with
// an error; never a panic.
func FuzzDocument(f *testing.F) {
	for _, s := range []string{
		`{"schema":"switchboard/v1","name":"x","trigger":{"type":"webhook"},"steps":[{"id":"a","type":"filter","if":"true"}]}`,
		`{"schema":"switchboard/v1","name":"x","trigger":{"type":"schedule","schedule":{"cron":"*/5 * * * *","timezone":"Europe/Paris"}},"steps":[{"id":"d","type":"delay","for":"1h"}]}`,
		`{"schema":"switchboard/v1","name":"x","trigger":{"type":"form","form":{"fields":[{"key":"a","label":"A","type":"number","min":1}]}},"steps":[{"id":"p","type":"paths","paths":[{"name":"a","steps":[{"id":"m","type":"map","fields":{"x":"{{ trigger.fields.a }}"}}]}]}]}`,
		`{"schema":"switchboard/v1","name":"x","trigger":{"type":"webhook","webhook":{"verify":{"scheme":"hmac","secrets":["x"]}}},"steps":[{"id":"e","type":"for_each","items":"trigger.body","steps":[{"id":"h","type":"action","action":"http.request","input":{"url":"http://x"}}]}]}`,
		`{"steps":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]}`, "\x00", `{"name":"\xff"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := workflow.Parse(raw)
		if err != nil {
			return
		}
		if workflow.Validate(d, connectors.Default) != nil {
			return
		}
		if _, err := workflow.Compile(d); err != nil {
			t.Fatalf("a valid document does not compile: %v", err)
		}
	})
}
