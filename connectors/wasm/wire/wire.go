// Package wire holds the JSON messages of the WebAssembly connector ABI
// (version 1, docs/wasm-plugins.md) that both sides write and read: the
// host (connectors/wasm) and the plugin SDK (connectors/wasm/sdk) share
// them so the two cannot drift. Standard library only: plugins import it.
package wire

// InvokeRequest is what the host passes to a plugin's invoke export.
type InvokeRequest struct {
	Action         string            `json:"action"`
	Input          map[string]any    `json:"input"`
	Secrets        map[string]string `json:"secrets"`
	IdempotencyKey string            `json:"idempotency_key,omitempty"`
}

// InvokeReply is the plugin's answer: an output or an error.
type InvokeReply struct {
	Output any    `json:"output,omitempty"`
	Error  *Error `json:"error,omitempty"`
}

// Error is a failure with its kind (retryable, permanent, rate_limited,
// bad_input) as it crosses the boundary.
type Error struct {
	Kind       string  `json:"kind"`
	Message    string  `json:"message"`
	RetryAfter float64 `json:"retry_after,omitempty"` // seconds
}
