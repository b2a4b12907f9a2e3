package wasm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/connectors/wasm/wire"
	"github.com/switchboard-dev/switchboard/internal/netguard"
	"github.com/tetratelabs/wazero/api"
)

type stateKey struct{}

// callState is what the host functions of one call see. Host functions are
// shared by every instance; they find their call through the context.
type callState struct {
	rt      *Runtime
	log     *slog.Logger
	red     *redactor
	spec    connectors.Spec
	creds   map[string]string
	client  *http.Client
	noHTTP  bool // while reading the spec
	limit   time.Duration
	stderr  capBuffer
	pending []byte // the reply of the last http_request, until reply_read

	memBytes uint32
	requests int
	logLines int
}

func stateOf(ctx context.Context) *callState {
	st, _ := ctx.Value(stateKey{}).(*callState)
	if st == nil {
		// Only instances this runtime starts can call in, always with state.
		panic(errors.New("host function called outside a plugin call"))
	}
	return st
}

func (r *Runtime) instantiateHost(ctx context.Context) error {
	_, err := r.rt.NewHostModuleBuilder(HostModule).
		NewFunctionBuilder().WithFunc(hostHTTPRequest).Export("http_request").
		NewFunctionBuilder().WithFunc(hostReplyRead).Export("reply_read").
		NewFunctionBuilder().WithFunc(hostLog).Export("log").
		NewFunctionBuilder().WithFunc(hostNow).Export("now").
		Instantiate(ctx)
	return err
}

func read(m api.Module, ptr, n uint32, what string) []byte {
	b, ok := m.Memory().Read(ptr, n)
	if !ok {
		panic(fmt.Errorf("the plugin passed a %s outside its memory (%d bytes at %d)", what, n, ptr))
	}
	return append([]byte(nil), b...)
}

func hostHTTPRequest(ctx context.Context, m api.Module, ptr, n uint32) uint32 {
	st := stateOf(ctx)
	reply := st.doHTTP(ctx, read(m, ptr, n, "request"))
	b, err := json.Marshal(reply)
	if err != nil {
		b, _ = json.Marshal(httpReply{Error: &wire.Error{Kind: string(connectors.KindPermanent), Message: "encoding the reply: " + err.Error()}})
	}
	st.pending = b
	return uint32(len(b))
}

func hostReplyRead(ctx context.Context, m api.Module, ptr uint32) {
	st := stateOf(ctx)
	if !m.Memory().Write(ptr, st.pending) {
		panic(fmt.Errorf("the plugin asked for its reply outside its memory (%d bytes at %d)", len(st.pending), ptr))
	}
	st.pending = nil
}

func hostLog(ctx context.Context, m api.Module, level int32, ptr, n uint32) {
	st := stateOf(ctx)
	st.logLines++
	if st.logLines > st.rt.limits.MaxLogLines {
		if st.logLines == st.rt.limits.MaxLogLines+1 {
			st.log.Warn("plugin log line limit reached; further lines dropped", "limit", st.rt.limits.MaxLogLines)
		}
		return
	}
	if n > 8<<10 {
		n = 8 << 10
	}
	var line logLine
	if err := json.Unmarshal(read(m, ptr, n, "log line"), &line); err != nil {
		line.Msg = "(unreadable log line)"
	}
	attrs := []any{}
	for k, v := range line.Attrs {
		attrs = append(attrs, k, st.red.Value(v))
	}
	msg := st.red.Text(line.Msg)
	if len(msg) > 1000 {
		msg = msg[:1000] + "…"
	}
	st.log.Log(ctx, slog.Level(level), "plugin: "+msg, attrs...)
}

func hostNow(ctx context.Context) int64 { return time.Now().UnixNano() }

func failReply(kind connectors.ErrorKind, format string, args ...any) httpReply {
	return httpReply{Error: &wire.Error{Kind: string(kind), Message: fmt.Sprintf(format, args...)}}
}

// doHTTP sends one request of the plugin through the guarded client.
func (st *callState) doHTTP(ctx context.Context, raw []byte) httpReply {
	if st.noHTTP {
		return failReply(connectors.KindPermanent, "HTTP requests are only allowed while an action runs")
	}
	st.requests++
	if st.requests > st.rt.limits.MaxRequests {
		return failReply(connectors.KindPermanent, "the plugin made more than %d HTTP requests in one call", st.rt.limits.MaxRequests)
	}
	var in httpRequest
	if err := json.Unmarshal(raw, &in); err != nil {
		return failReply(connectors.KindPermanent, "the plugin's HTTP request is not valid JSON: %v", err)
	}
	if in.Method == "" {
		in.Method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, in.Method, in.URL, bytes.NewReader(in.Body))
	if err != nil {
		return failReply(connectors.KindBadInput, "%s", st.red.Text(err.Error()))
	}
	for k, vs := range in.Headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if in.Auth {
		if err := st.applyAuth(req); err != nil {
			return failReply(connectors.KindPermanent, "%v", err)
		}
	}
	resp, err := st.client.Do(req)
	if err != nil {
		kind := connectors.KindRetryable
		if errors.Is(err, netguard.ErrBlocked) {
			kind = connectors.KindPermanent
		}
		return failReply(kind, "%s", st.red.Text(err.Error()))
	}
	defer resp.Body.Close()
	max := st.rt.limits.MaxResponseBytes
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(max)+1))
	if err != nil {
		kind := connectors.KindRetryable
		if errors.Is(err, netguard.ErrTooLarge) {
			kind = connectors.KindPermanent
		}
		return failReply(kind, "reading the response: %s", st.red.Text(err.Error()))
	}
	if len(body) > max {
		return failReply(connectors.KindPermanent, "the response body is over %d bytes, the most a plugin may receive", max)
	}
	return httpReply{Status: resp.StatusCode, Headers: resp.Header, Body: body}
}

// applyAuth adds the connection's credentials the way the spec's auth kind
// says, so the plugin need not build the header itself.
func (st *callState) applyAuth(req *http.Request) error {
	switch st.spec.Auth.Kind {
	case connectors.AuthToken, connectors.AuthOAuth2:
		tok := st.creds["access_token"]
		if tok == "" {
			for _, f := range st.spec.Auth.Fields {
				if f.Secret && st.creds[f.Key] != "" {
					tok = st.creds[f.Key]
					break
				}
			}
		}
		if tok == "" {
			return errors.New("the request asks for the connection's token, but the connection has none")
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	case connectors.AuthBasic:
		req.SetBasicAuth(st.creds["username"], st.creds["password"])
	default:
		return fmt.Errorf("the request asks the host to apply credentials, but the plugin's auth kind is %q (only token, oauth2 and basic can be applied)", st.spec.Auth.Kind)
	}
	return nil
}

// capBuffer keeps the first 4 KiB written to it (a plugin's stdout/stderr).
type capBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (c *capBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := 4096 - c.b.Len(); room > 0 {
		if len(p) > room {
			c.b.Write(p[:room])
		} else {
			c.b.Write(p)
		}
	}
	return len(p), nil
}

func (c *capBuffer) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b.String()
}

// redactor hides secret values in what leaves a call: output, errors, logs.
type redactor = connectors.Redactor

func newRedactor(creds map[string]string) *redactor { return connectors.NewRedactor(creds) }
