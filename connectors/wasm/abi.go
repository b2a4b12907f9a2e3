// Package wasm runs connector plugins compiled to WebAssembly, sandboxed in
// wazero (pure Go, no cgo), behind the same connectors.Connector interface
// as the built-ins. A plugin sees nothing but what ABI version 1 grants (see
// docs/wasm-plugins.md): its call's input and credentials, an HTTP request
// function that the host sends through the instance's guarded client with
// the connection's credentials applied, structured logging and the clock.
// WASI is present because Go's wasip1 port needs it, but with no files, no
// environment, no arguments and no sockets.
package wasm

import (
	"github.com/switchboard-dev/switchboard/connectors/wasm/wire"
	"github.com/tetratelabs/wazero/api"
)

// ABIVersion is the host ABI this runtime speaks; a plugin reporting any
// other value from switchboard_abi_version is refused.
const ABIVersion = 1

// HostModule is the import module name of the host functions.
const HostModule = "switchboard"

// Names of the exports a plugin must have.
const (
	ExportABIVersion = "switchboard_abi_version"
	ExportMalloc     = "switchboard_malloc"
	ExportSpec       = "switchboard_spec"
	ExportInvoke     = "switchboard_invoke"
	exportInit       = "_initialize" // Go reactors (-buildmode=c-shared) have it
)

// sig is a function signature: parameters and results.
type sig struct{ params, results []api.ValueType }

var (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

// requiredExports are the functions the host calls, with their signatures.
var requiredExports = map[string]sig{
	ExportABIVersion: {nil, []api.ValueType{i32}},
	ExportMalloc:     {[]api.ValueType{i32}, []api.ValueType{i32}},
	ExportSpec:       {nil, []api.ValueType{i64}},
	ExportInvoke:     {[]api.ValueType{i32, i32}, []api.ValueType{i64}},
}

// hostFunctions are everything a plugin may import from HostModule.
var hostFunctions = map[string]sig{
	"http_request": {[]api.ValueType{i32, i32}, []api.ValueType{i32}},
	"reply_read":   {[]api.ValueType{i32}, nil},
	"log":          {[]api.ValueType{i32, i32, i32}, nil},
	"now":          {nil, []api.ValueType{i64}},
}

// The host-only wire types of the calls (JSON); the shared ones are in wire.
type httpRequest struct {
	Method  string              `json:"method"`
	URL     string              `json:"url"`
	Headers map[string][]string `json:"headers"`
	Body    []byte              `json:"body"`
	Auth    bool                `json:"auth"`
}

type httpReply struct {
	Status  int                 `json:"status,omitempty"`
	Headers map[string][]string `json:"headers,omitempty"`
	Body    []byte              `json:"body,omitempty"`
	Error   *wire.Error         `json:"error,omitempty"`
}

type logLine struct {
	Msg   string         `json:"msg"`
	Attrs map[string]any `json:"attrs"`
}
