//go:build wasip1

package sdk

import "unsafe"

//go:wasmimport switchboard http_request
func _httpRequest(ptr, n uint32) uint32

//go:wasmimport switchboard reply_read
func _replyRead(ptr uint32)

//go:wasmimport switchboard log
func _log(level int32, ptr, n uint32)

//go:wasmimport switchboard now
func _now() int64

func ptrOf(b []byte) uint32 {
	if len(b) == 0 {
		return 0
	}
	return uint32(uintptr(unsafe.Pointer(&b[0])))
}

func hostHTTP(req []byte) []byte {
	n := _httpRequest(ptrOf(req), uint32(len(req)))
	buf := make([]byte, n)
	if n > 0 {
		_replyRead(ptrOf(buf))
	}
	return buf
}

func hostLog(level int32, b []byte) { _log(level, ptrOf(b), uint32(len(b))) }

func hostNow() int64 { return _now() }

// keep holds buffers handed to the host until the next call, so the
// garbage collector does not reclaim them while the host reads or writes.
var (
	inbox  []byte
	outbox []byte
)

//go:wasmexport switchboard_abi_version
func _abiVersion() uint32 { return ABIVersion }

//go:wasmexport switchboard_malloc
func _malloc(n uint32) uint32 {
	inbox = make([]byte, n)
	return ptrOf(inbox)
}

//go:wasmexport switchboard_spec
func _spec() uint64 { return pack(specJSON()) }

//go:wasmexport switchboard_invoke
func _invoke(ptr, n uint32) uint64 {
	raw := unsafe.Slice((*byte)(unsafe.Pointer(uintptr(ptr))), n)
	return pack(invoke(raw))
}

func pack(b []byte) uint64 {
	outbox = b
	return uint64(ptrOf(b))<<32 | uint64(len(b))
}
