package wasmtest

// Module describes a tiny hand-assembled plugin module: the ABI's exports
// with constant answers. Zero values give a well-formed plugin whose invoke
// returns Reply.
type Module struct {
	ABI         int32    // what switchboard_abi_version answers (0: 1)
	Spec        string   // what switchboard_spec returns
	Reply       string   // what switchboard_invoke returns, unless Trap
	Trap        bool     // invoke executes 'unreachable'
	Imports     []string // extra imported functions "module.name", type () -> ()
	NoInvoke    bool     // leave out the switchboard_invoke export
	ExtraMemory bool     // ask for more pages than any limit allows
}

// Bytes assembles the module.
func (m Module) Bytes() []byte {
	abi := m.ABI
	if abi == 0 {
		abi = 1
	}
	spec, reply := []byte(m.Spec), []byte(m.Reply)
	const specAt, replyAt = 0, 8192
	// Types: 0 ()->i32, 1 (i32)->i32, 2 ()->i64, 3 (i32,i32)->i64, 4 ()->()
	types := vec(
		fn(nil, []byte{0x7f}), fn([]byte{0x7f}, []byte{0x7f}), fn(nil, []byte{0x7e}),
		fn([]byte{0x7f, 0x7f}, []byte{0x7e}), fn(nil, nil))
	var imports [][]byte
	for _, imp := range m.Imports {
		mod, name := imp, ""
		for i := range imp {
			if imp[i] == '.' {
				mod, name = imp[:i], imp[i+1:]
				break
			}
		}
		imports = append(imports, cat(str(mod), str(name), []byte{0x00, 0x04}))
	}
	nImp := len(imports)
	funcs := vec([]byte{0}, []byte{1}, []byte{2}, []byte{3})
	pages := byte(1)
	mem := vec([]byte{0x00, pages})
	if m.ExtraMemory {
		mem = vec(cat([]byte{0x00}, uleb(70000))) // past wazero's 65536-page maximum
	}
	exports := [][]byte{
		cat(str("memory"), []byte{0x02, 0x00}),
		cat(str("switchboard_abi_version"), []byte{0x00}, uleb(uint64(nImp+0))),
		cat(str("switchboard_malloc"), []byte{0x00}, uleb(uint64(nImp+1))),
		cat(str("switchboard_spec"), []byte{0x00}, uleb(uint64(nImp+2))),
	}
	if !m.NoInvoke {
		exports = append(exports, cat(str("switchboard_invoke"), []byte{0x00}, uleb(uint64(nImp+3))))
	}
	invoke := cat([]byte{0x42}, sleb(int64(replyAt)<<32|int64(len(reply))), []byte{0x0b})
	if m.Trap {
		invoke = []byte{0x00, 0x0b}
	}
	code := vec(
		body(cat([]byte{0x41}, sleb(int64(abi)), []byte{0x0b})),
		body(cat([]byte{0x41}, sleb(16384), []byte{0x0b})),
		body(cat([]byte{0x42}, sleb(int64(specAt)<<32|int64(len(spec))), []byte{0x0b})),
		body(invoke),
	)
	data := vec(
		cat([]byte{0x00, 0x41}, sleb(specAt), []byte{0x0b}, uleb(uint64(len(spec))), spec),
		cat([]byte{0x00, 0x41}, sleb(replyAt), []byte{0x0b}, uleb(uint64(len(reply))), reply),
	)
	out := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	out = append(out, section(1, types)...)
	if nImp > 0 {
		out = append(out, section(2, vec(imports...))...)
	}
	out = append(out, section(3, funcs)...)
	out = append(out, section(5, mem)...)
	out = append(out, section(7, vec(exports...))...)
	out = append(out, section(10, code)...)
	out = append(out, section(11, data)...)
	return out
}

func fn(params, results []byte) []byte {
	return cat([]byte{0x60}, uleb(uint64(len(params))), params, uleb(uint64(len(results))), results)
}

func body(instrs []byte) []byte {
	b := cat([]byte{0x00}, instrs) // no locals
	return cat(uleb(uint64(len(b))), b)
}

func section(id byte, content []byte) []byte {
	return cat([]byte{id}, uleb(uint64(len(content))), content)
}

func vec(items ...[]byte) []byte { return cat(append([][]byte{uleb(uint64(len(items)))}, items...)...) }

func str(s string) []byte { return cat(uleb(uint64(len(s))), []byte(s)) }

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func uleb(v uint64) []byte {
	var out []byte
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			out = append(out, b|0x80)
			continue
		}
		return append(out, b)
	}
}

func sleb(v int64) []byte {
	var out []byte
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && b&0x40 == 0) || (v == -1 && b&0x40 != 0) {
			return append(out, b)
		}
		out = append(out, b|0x80)
	}
}
