package wasm

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/netguard"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// ErrInvalid is wrapped by every reason a module is refused (Inspect).
var ErrInvalid = errors.New("invalid plugin module")

// InvalidError is why a module was refused: Reason is meant for the admin.
type InvalidError struct{ Reason string }

func (e *InvalidError) Error() string { return e.Reason }
func (e *InvalidError) Unwrap() error { return ErrInvalid }

func invalid(format string, args ...any) error {
	return &InvalidError{Reason: fmt.Sprintf(format, args...)}
}

// Limits bound every plugin call. Zero fields take the defaults.
type Limits struct {
	// MemoryPages caps a plugin instance's linear memory, in 64 KiB pages
	// (default 2048 = 128 MiB).
	MemoryPages uint32
	// Timeout bounds one call, wall clock, HTTP waits included (default 30s).
	// The module is closed when it passes: this is also its CPU bound.
	Timeout time.Duration
	// MaxOutputBytes caps the JSON a call returns (default 1 MiB).
	MaxOutputBytes int
	// MaxResponseBytes caps one HTTP response body handed to the plugin
	// (default 4 MiB; the guarded client's own cap applies too).
	MaxResponseBytes int
	// MaxRequests caps the HTTP requests of one call (default 100).
	MaxRequests int
	// MaxLogLines caps the log lines of one call (default 100).
	MaxLogLines int
	// MaxConcurrent caps the plugin instances alive at once in this process
	// (default 8); more calls wait their turn.
	MaxConcurrent int
	// MaxModuleBytes caps an uploaded module (default 32 MiB).
	MaxModuleBytes int
}

func (l Limits) withDefaults() Limits {
	if l.MemoryPages == 0 {
		l.MemoryPages = 2048
	}
	if l.Timeout <= 0 {
		l.Timeout = 30 * time.Second
	}
	if l.MaxOutputBytes <= 0 {
		l.MaxOutputBytes = 1 << 20
	}
	if l.MaxResponseBytes <= 0 {
		l.MaxResponseBytes = 4 << 20
	}
	if l.MaxRequests <= 0 {
		l.MaxRequests = 100
	}
	if l.MaxLogLines <= 0 {
		l.MaxLogLines = 100
	}
	if l.MaxConcurrent <= 0 {
		l.MaxConcurrent = 8
	}
	if l.MaxModuleBytes <= 0 {
		l.MaxModuleBytes = 32 << 20
	}
	return l
}

// Options configure a Runtime.
type Options struct {
	Limits Limits
	// CacheDir keeps compiled machine code on disk across processes (a test
	// binary, a restart); "" compiles once per process, in memory.
	CacheDir string
	// Outbound is the guard for calls whose Request has no HTTP client
	// (the engine always gives one).
	Outbound netguard.Options
	Logger   *slog.Logger
}

// Runtime compiles and runs plugins. One per process: modules are compiled
// once (by content hash) and instantiated afresh for every call, so no state
// survives from one run to the next.
type Runtime struct {
	rt       wazero.Runtime
	limits   Limits
	slots    chan struct{}
	fallback *http.Client
	log      *slog.Logger
	wasi     map[string]bool // WASI function names wazero implements

	mu       sync.Mutex
	compiled map[string]*compiled
}

type compiled struct {
	once sync.Once
	cm   wazero.CompiledModule
	err  error
}

// NewRuntime starts a runtime; Close it when done.
func NewRuntime(ctx context.Context, o Options) (*Runtime, error) {
	lim := o.Limits.withDefaults()
	cfg := wazero.NewRuntimeConfig().
		WithCloseOnContextDone(true). // a deadline stops even a tight loop
		WithMemoryLimitPages(lim.MemoryPages)
	if o.CacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(o.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("plugin compilation cache: %w", err)
		}
		cfg = cfg.WithCompilationCache(cache)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Runtime{rt: wazero.NewRuntimeWithConfig(ctx, cfg), limits: lim, slots: make(chan struct{}, lim.MaxConcurrent),
		fallback: netguard.NewClient(o.Outbound, nil), log: log, compiled: map[string]*compiled{}, wasi: map[string]bool{}}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r.rt); err != nil {
		r.rt.Close(ctx)
		return nil, fmt.Errorf("plugin runtime: %w", err)
	}
	for name := range r.rt.Module(wasi_snapshot_preview1.ModuleName).ExportedFunctionDefinitions() {
		r.wasi[name] = true
	}
	if err := r.instantiateHost(ctx); err != nil {
		r.rt.Close(ctx)
		return nil, fmt.Errorf("plugin runtime: %w", err)
	}
	return r, nil
}

// Close frees every compiled module.
func (r *Runtime) Close(ctx context.Context) error { return r.rt.Close(ctx) }

// Limits are the runtime's limits, defaults filled in.
func (r *Runtime) Limits() Limits { return r.limits }

// Hash is a module's content address.
func Hash(wasm []byte) string {
	sum := sha256.Sum256(wasm)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// compile returns the compiled module for hash, compiling bytes from load
// the first time in this process.
func (r *Runtime) compile(ctx context.Context, hash string, load func(context.Context) ([]byte, error)) (wazero.CompiledModule, error) {
	r.mu.Lock()
	c := r.compiled[hash]
	if c == nil {
		c = &compiled{}
		r.compiled[hash] = c
	}
	r.mu.Unlock()
	c.once.Do(func() {
		b, err := load(ctx)
		if err != nil {
			c.err = fmt.Errorf("loading plugin module %s: %w", hash, err)
			return
		}
		if got := Hash(b); got != hash {
			c.err = fmt.Errorf("plugin module %s: the stored bytes hash to %s", hash, got)
			return
		}
		c.cm, c.err = r.rt.CompileModule(context.WithoutCancel(ctx), b)
		if c.err != nil {
			c.err = invalid("not a valid WebAssembly module: %v", c.err)
		}
	})
	if c.err != nil {
		// A failure caused by this caller (a canceled load) must not stick.
		r.mu.Lock()
		if r.compiled[hash] == c && !errors.Is(c.err, ErrInvalid) {
			delete(r.compiled, hash)
		}
		r.mu.Unlock()
	}
	return c.cm, c.err
}

// Inspect checks a module as an upload must be checked — it is WebAssembly,
// imports nothing the host does not offer, has the ABI's exports, speaks
// this ABI version and returns a valid spec — and returns that spec. A
// refusal is an *InvalidError (errors.Is ErrInvalid) giving the reason.
func (r *Runtime) Inspect(ctx context.Context, wasm []byte) (connectors.Spec, error) {
	if len(wasm) > r.limits.MaxModuleBytes {
		return connectors.Spec{}, invalid("the module is %d bytes; at most %d are allowed", len(wasm), r.limits.MaxModuleBytes)
	}
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return connectors.Spec{}, invalid("not a WebAssembly module (it does not start with \\0asm)")
	}
	hash := Hash(wasm)
	cm, err := r.compile(ctx, hash, func(context.Context) ([]byte, error) { return wasm, nil })
	if err != nil {
		return connectors.Spec{}, err
	}
	if err := r.checkShape(cm); err != nil {
		return connectors.Spec{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, r.limits.Timeout)
	defer cancel()
	st := &callState{rt: r, log: r.log, red: newRedactor(nil), noHTTP: true, limit: r.limits.Timeout}
	var raw []byte
	err = r.withInstance(ctx, cm, st, func(ctx context.Context, mod api.Module) error {
		res, err := mod.ExportedFunction(ExportABIVersion).Call(ctx)
		if err != nil {
			return err
		}
		if v := uint32(res[0]); v != ABIVersion {
			return invalid("the plugin speaks host ABI version %d; this Switchboard speaks version %d (rebuild it with a matching SDK)", v, ABIVersion)
		}
		res, err = mod.ExportedFunction(ExportSpec).Call(ctx)
		if err != nil {
			return err
		}
		raw, err = readPacked(mod, res[0], r.limits.MaxOutputBytes, "spec")
		return err
	})
	if err != nil {
		return connectors.Spec{}, r.explain(ctx, err, st, "reading the plugin's spec")
	}
	var spec connectors.Spec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return connectors.Spec{}, invalid("the plugin's spec is not JSON of a connector spec: %v", err)
	}
	if err := spec.Validate(); err != nil {
		return connectors.Spec{}, invalid("the plugin's spec does not validate: %v", err)
	}
	if len(spec.Actions) == 0 {
		return connectors.Spec{}, invalid("the plugin's spec has no actions")
	}
	return spec, nil
}

// checkShape refuses imports the host does not offer and missing exports.
func (r *Runtime) checkShape(cm wazero.CompiledModule) error {
	for _, f := range cm.ImportedFunctions() {
		mod, name, _ := f.Import()
		switch mod {
		case HostModule:
			want, ok := hostFunctions[name]
			if !ok {
				return invalid("the plugin imports %s.%s, a host function this Switchboard does not offer (the host offers %s)", mod, name, offered())
			}
			if !sameSig(f, want) {
				return invalid("the plugin imports %s.%s with the wrong signature %v → %v", mod, name, f.ParamTypes(), f.ResultTypes())
			}
		case wasi_snapshot_preview1.ModuleName:
			if !r.wasi[name] {
				return invalid("the plugin imports %s.%s, which the host does not offer", mod, name)
			}
		default:
			return invalid("the plugin imports %s.%s; a plugin may import only %s functions (%s) and WASI (which has no files, sockets or environment here)", mod, name, HostModule, offered())
		}
	}
	if m := cm.ImportedMemories(); len(m) > 0 {
		mod, name, _ := m[0].Import()
		return invalid("the plugin imports memory %s.%s; it must define its own", mod, name)
	}
	if _, ok := cm.ExportedMemories()["memory"]; !ok {
		return invalid("the plugin exports no memory named \"memory\"")
	}
	exports := cm.ExportedFunctions()
	names := make([]string, 0, len(requiredExports))
	for n := range requiredExports {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f, ok := exports[n]
		if !ok {
			return invalid("the plugin does not export %s (is it built with the Switchboard plugin SDK and -buildmode=c-shared?)", n)
		}
		if !sameSig(f, requiredExports[n]) {
			return invalid("the plugin's export %s has the wrong signature %v → %v", n, f.ParamTypes(), f.ResultTypes())
		}
	}
	return nil
}

func offered() string {
	names := make([]string, 0, len(hostFunctions))
	for n := range hostFunctions {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func sameSig(f api.FunctionDefinition, want sig) bool {
	eq := func(a, b []api.ValueType) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	return eq(f.ParamTypes(), want.params) && eq(f.ResultTypes(), want.results)
}

// withInstance runs fn on a fresh instance of cm, under a concurrency slot,
// and closes the instance after.
func (r *Runtime) withInstance(ctx context.Context, cm wazero.CompiledModule, st *callState, fn func(context.Context, api.Module) error) error {
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-r.slots }()
	ctx = context.WithValue(ctx, stateKey{}, st)
	cfg := wazero.NewModuleConfig().
		WithName(""). // anonymous: many instances of one module at once
		WithStartFunctions().
		WithStdout(&st.stderr).WithStderr(&st.stderr).
		WithRandSource(rand.Reader).
		WithSysWalltime().WithSysNanotime().WithSysNanosleep()
	// No WithFS, WithEnv, WithArgs or sockets: WASI has nothing to give.
	mod, err := r.rt.InstantiateModule(ctx, cm, cfg)
	if err != nil {
		return err
	}
	defer func() {
		st.memBytes = mod.Memory().Size()
		mod.Close(context.WithoutCancel(ctx))
	}()
	if init := mod.ExportedFunction(exportInit); init != nil {
		if _, err := init.Call(ctx); err != nil {
			return err
		}
	}
	return fn(ctx, mod)
}

// readPacked reads the (pointer << 32 | length) result of an export.
func readPacked(mod api.Module, packed uint64, max int, what string) ([]byte, error) {
	ptr, n := uint32(packed>>32), uint32(packed)
	if int(n) > max {
		return nil, &limitError{fmt.Sprintf("the plugin's %s is %d bytes; at most %d are allowed", what, n, max)}
	}
	b, ok := mod.Memory().Read(ptr, n)
	if !ok {
		return nil, fmt.Errorf("the plugin returned its %s outside its memory (%d bytes at %d)", what, n, ptr)
	}
	return append([]byte(nil), b...), nil
}

type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

// explain turns what went wrong inside a plugin into a clear error with the
// kind the engine needs. doing says what the host was doing.
func (r *Runtime) explain(ctx context.Context, err error, st *callState, doing string) error {
	var inv *InvalidError
	if errors.As(err, &inv) {
		return err
	}
	var lim *limitError
	if errors.As(err, &lim) {
		return connectors.Permanent(fmt.Errorf("%s: %s", doing, lim.msg))
	}
	stderr := st.red.Text(firstLines(st.stderr.String(), 3))
	mib := float64(r.limits.MemoryPages) / 16
	var exit *sys.ExitError
	switch {
	// Memory first: a plugin at its memory limit when its time ran out was
	// collecting garbage in vain.
	case strings.Contains(stderr, "out of memory") || uint64(st.memBytes) > uint64(r.limits.MemoryPages)*65536/10*9:
		return connectors.Permanent(fmt.Errorf("%s: the plugin ran out of memory (its limit is %.0f MiB)%s", doing, mib, suffix(stderr)))
	case errors.As(err, &exit) && exit.ExitCode() == sys.ExitCodeDeadlineExceeded,
		errors.Is(ctx.Err(), context.DeadlineExceeded):
		return connectors.Permanent(fmt.Errorf("%s: the plugin ran past its time limit of %s and was stopped", doing, roundLimit(st.limit)))
	case errors.As(err, &exit) && exit.ExitCode() == sys.ExitCodeContextCanceled, ctx.Err() != nil:
		// The run was canceled or the process is stopping: not the plugin's fault.
		return connectors.Retryable(fmt.Errorf("%s: stopped: %w", doing, context.Cause(ctx)))
	case errors.As(err, &exit):
		return connectors.Permanent(fmt.Errorf("%s: the plugin exited with code %d%s", doing, exit.ExitCode(), suffix(stderr)))
	case strings.Contains(err.Error(), "wasm error:"):
		return connectors.Permanent(fmt.Errorf("%s: the plugin trapped: %s%s", doing, firstLines(err.Error(), 1), suffix(stderr)))
	default:
		return connectors.Permanent(fmt.Errorf("%s: %s%s", doing, st.red.Text(firstLines(err.Error(), 1)), suffix(stderr)))
	}
}

func suffix(stderr string) string {
	if stderr == "" {
		return ""
	}
	return " (its output: " + stderr + ")"
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	out := strings.Join(lines, " | ")
	if len(out) > 500 {
		out = out[:500] + "…"
	}
	return out
}

// roundLimit shows a limit as set: a step timeout of 3s arrives as 2.9997s.
func roundLimit(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
