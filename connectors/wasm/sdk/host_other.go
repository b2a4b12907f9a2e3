//go:build !wasip1

package sdk

// Outside a wasip1 build there is no host: the calls fail plainly, so the
// package still compiles for editors, vet and unit tests of plugin logic.

func hostHTTP([]byte) []byte {
	return []byte(`{"error":{"kind":"permanent","message":"no Switchboard host: build with GOOS=wasip1 GOARCH=wasm"}}`)
}

func hostLog(int32, []byte) {}

func hostNow() int64 { return 0 }
