// Package connectortest helps connector authors test against a local
// receiver: it runs an action with a plain HTTP client and checks a spec.
// Standard library only, like the SDK.
package connectortest

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
)

// CheckSpec fails the test when the connector's spec is not well formed.
func CheckSpec(t testing.TB, c connectors.Connector) {
	t.Helper()
	if err := c.Spec().Validate(); err != nil {
		t.Fatalf("spec: %v", err)
	}
	for _, a := range c.Spec().Actions {
		if a.SampleOutput == nil {
			t.Errorf("action %s has no sample output", a.ID)
		}
	}
}

// Run executes one action with input checked against the spec, as the
// engine would, using client (e.g. an httptest server's).
func Run(ctx context.Context, c connectors.Connector, action string, input map[string]any, creds map[string]string, client *http.Client) (connectors.Result, error) {
	a, ok := c.Spec().Action(action)
	if !ok {
		return connectors.Result{}, fmt.Errorf("connector %s has no action %q", c.Spec().ID, action)
	}
	if problems := connectors.CheckInput(a, input); len(problems) > 0 {
		return connectors.Result{}, connectors.BadInput(fmt.Errorf("input: %v", problems))
	}
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return c.Execute(ctx, connectors.Request{Action: action, Input: input, Credentials: creds, HTTP: client,
		IdempotencyKey: "test-key"})
}
