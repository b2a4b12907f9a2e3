// Package connectors is the connector SDK: the contract between Switchboard and
// every connector, built-in or third party. It depends on the standard library
// only, so other Go modules can implement connectors without pulling in the
// engine.
package connectors

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
)

// Connector is a named integration (Slack, HubSpot, HTTP…) that describes
// itself with a Spec and executes the actions the spec lists.
type Connector interface {
	// Spec describes the connector. It must be static: no I/O, same value on
	// every call.
	Spec() Spec
	// Execute runs one action. The returned error should be built with
	// Retryable, Permanent, RateLimited or BadInput so the engine knows whether
	// a retry can help; any other error counts as retryable.
	Execute(ctx context.Context, req Request) (Result, error)
}

// Request is one action invocation.
type Request struct {
	// Action is the action id within the connector (e.g. "request" for
	// "http.request").
	Action string
	// Input is the step's rendered input: templates already evaluated.
	Input map[string]any
	// Credentials are the decrypted fields of the step's connection, if any.
	Credentials map[string]string
	// HTTP is the client every outbound call must use: it enforces the
	// instance's network policy and records each attempt.
	HTTP *http.Client
	// Dial opens a raw connection under the same network policy, for
	// protocols other than HTTP (SMTP). Nil means only public addresses: a
	// connector must never dial on its own.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// IdempotencyKey is stable across retries of the same run, step and item;
	// send it to receivers that dedupe (Idempotency-Key, webhook-id).
	IdempotencyKey string
	// Logger is scoped to the run and step. Never log credentials or payloads.
	Logger *slog.Logger
}

// Result is what an action produced; Output becomes steps.<id> in later
// expressions.
type Result struct {
	Output any
}

// ConnectionTester is implemented by connectors that can check credentials
// ("Test connection" in the UI) with a real, harmless call: nil means the
// service accepted them. When these credentials offer no such call (an
// incoming-webhook URL can only be checked by posting), return CannotTest
// with the reason, never nil. Only Credentials, HTTP and Dial are set.
type ConnectionTester interface {
	TestConnection(ctx context.Context, req Request) error
}

// ErrCannotTest marks a connection test that contacted nothing, because no
// harmless call exists; errors.Is finds it in CannotTest's error.
var ErrCannotTest = errors.New("cannot test without a real delivery")

type cannotTest struct{ reason string }

func (e *cannotTest) Error() string        { return e.reason }
func (e *cannotTest) Is(target error) bool { return target == ErrCannotTest }

// CannotTest says, in words a person reads, why the connection cannot be
// tested without sending something real.
func CannotTest(reason string) error { return &cannotTest{reason: reason} }

// OptionsLoader is implemented by connectors that load a dropdown's choices
// from the vendor (channels, pipelines…), given credentials.
type OptionsLoader interface {
	LoadOptions(ctx context.Context, action, field string, req Request) ([]Option, error)
}
