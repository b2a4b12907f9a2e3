package wasm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/connectors/wasm/wire"
	"github.com/tetratelabs/wazero/api"
)

// Connector is a plugin as a connectors.Connector. Its spec is the one read
// (and validated) at upload; the module is compiled on its first call in
// this process and cached by hash.
type Connector struct {
	rt   *Runtime
	spec connectors.Spec
	hash string
	load func(context.Context) ([]byte, error)
}

// Connector returns the plugin whose module has the given hash and spec;
// load fetches the module's bytes the first time it is needed.
func (r *Runtime) Connector(spec connectors.Spec, hash string, load func(context.Context) ([]byte, error)) *Connector {
	return &Connector{rt: r, spec: spec, hash: hash, load: load}
}

// Spec is the plugin's spec.
func (c *Connector) Spec() connectors.Spec { return c.spec }

// Hash is the module's content address.
func (c *Connector) Hash() string { return c.hash }

// Execute runs one action in a fresh instance of the plugin, within the
// runtime's limits. Whatever the plugin does — trap, loop, exhaust its
// memory — ends as an error of this call only.
func (c *Connector) Execute(ctx context.Context, req connectors.Request) (connectors.Result, error) {
	cm, err := c.rt.compile(ctx, c.hash, c.load)
	if err != nil {
		return connectors.Result{}, connectors.Permanent(fmt.Errorf("plugin %s cannot be loaded: %w", c.spec.ID, err))
	}
	limit := c.rt.limits.Timeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < limit {
		limit = time.Until(dl)
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	log := req.Logger
	if log == nil {
		log = c.rt.log
	}
	client := req.HTTP
	if client == nil {
		client = c.rt.fallback
	}
	st := &callState{rt: c.rt, log: log.With("plugin", c.spec.ID), red: newRedactor(req.Credentials), spec: c.spec,
		creds: req.Credentials, client: client, limit: limit}
	in, err := json.Marshal(wire.InvokeRequest{Action: req.Action, Input: req.Input, Secrets: req.Credentials, IdempotencyKey: req.IdempotencyKey})
	if err != nil {
		return connectors.Result{}, connectors.BadInput(fmt.Errorf("encoding the input: %w", err))
	}
	var raw []byte
	err = c.rt.withInstance(ctx, cm, st, func(ctx context.Context, mod api.Module) error {
		res, err := mod.ExportedFunction(ExportMalloc).Call(ctx, uint64(len(in)))
		if err != nil {
			return err
		}
		if !mod.Memory().Write(uint32(res[0]), in) {
			return fmt.Errorf("the plugin's buffer for its input lies outside its memory")
		}
		res, err = mod.ExportedFunction(ExportInvoke).Call(ctx, res[0], uint64(len(in)))
		if err != nil {
			return err
		}
		raw, err = readPacked(mod, res[0], c.rt.limits.MaxOutputBytes, "output")
		return err
	})
	if stderr := st.stderr.String(); stderr != "" {
		st.log.Debug("plugin wrote to stdout/stderr", "text", st.red.Text(firstLines(stderr, 5)))
	}
	if err != nil {
		return connectors.Result{}, fmt.Errorf("plugin %s, action %s: %w", c.spec.ID, req.Action, c.rt.explain(ctx, err, st, "running the action"))
	}
	var reply wire.InvokeReply
	if err := json.Unmarshal(raw, &reply); err != nil {
		return connectors.Result{}, connectors.Permanent(fmt.Errorf("plugin %s returned output that is not JSON: %v", c.spec.ID, err))
	}
	if e := reply.Error; e != nil {
		return connectors.Result{}, kindError(e, st.red)
	}
	return connectors.Result{Output: st.red.Value(reply.Output)}, nil
}

// kindError maps the plugin's error to the SDK's kinds, so the engine
// retries or not exactly as for a built-in.
func kindError(e *wire.Error, red *redactor) error {
	err := errors.New(red.Text(e.Message))
	switch connectors.ErrorKind(e.Kind) {
	case connectors.KindPermanent:
		return connectors.Permanent(err)
	case connectors.KindBadInput:
		return connectors.BadInput(err)
	case connectors.KindRateLimited:
		return connectors.RateLimited(time.Duration(e.RetryAfter*float64(time.Second)), err)
	default:
		return connectors.Retryable(err)
	}
}

var _ connectors.Connector = (*Connector)(nil)
