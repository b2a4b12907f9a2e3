package engine_test

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/connections"
	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/flows"
	"github.com/switchboard-dev/switchboard/internal/netguard"
	"github.com/switchboard-dev/switchboard/internal/secrets"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/waitfor"
)

// startEngine migrates the queue and starts an engine over st with o,
// stopped when the test ends.
func startEngine(t *testing.T, st *store.Store, o engine.Options) *bundle {
	t.Helper()
	ctx := context.Background()
	_, err := engine.MigrateQueue(ctx, st)
	storetest.Must(t, err, "queue migrations")
	eng, err := engine.New(st, o)
	storetest.Must(t, err, "engine")
	storetest.Must(t, eng.Start(ctx), "start")
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = eng.Stop(c)
	})
	return &bundle{st: st, eng: eng, flows: flows.New(st, connectors.Default, "http://test")}
}

// Receivers that fail, against real local servers, through the http.request
// and the signed-webhook connectors: every attempt is recorded with its error
// kind by the SDK's retry rules (connectors.ErrorKind), retryable and
// rate-limited failures are retried up to the step's max_attempts (no sooner
// than Retry-After), the rest fail the step at once.
func TestFailingReceiversAreRecordedAndRetriedByTheRules(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		st := storetest.Open(t, dialect)
		ring, _, err := secrets.LoadOrCreateFile(filepath.Join(t.TempDir(), "secret.key"))
		storetest.Must(t, err, "keys")
		conns := connections.New(st, connectors.Default, ring)
		_, err = conns.Create(ctx, connections.Input{Name: "signer", Connector: "webhook",
			Fields: map[string]string{"secret": "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))}})
		storetest.Must(t, err, "connection")
		policy, _ := netguard.ParseAllowList("127.0.0.1")
		// Short timeouts and a small cap keep the test bounded.
		b := startEngine(t, st, engine.Options{Queue: engine.QueueOptions{Workers: 8}, Registry: connectors.Default,
			Outbound:    netguard.Options{Policy: policy, Timeout: 800 * time.Millisecond, ConnectTimeout: 500 * time.Millisecond, MaxBodyBytes: 4096},
			Credentials: conns, Logger: slog.New(slog.DiscardHandler)})

		served := func(h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				h(w, r)
			}))
			t.Cleanup(srv.Close)
			return srv, &n
		}
		// Reading the body first lets the server notice the client hanging
		// up (its context ends), so Close does not wait for these.
		hang := func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
		}
		reset := func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			_ = conn.(*net.TCPConn).SetLinger(0) // close with RST
			conn.Close()
		}
		drip := func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(200)
			for i := 0; i < 100; i++ {
				if _, err := io.WriteString(w, "."); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}
		status := func(code int) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }
		}
		var limited sync.Map // path -> *atomic.Int32: each connector calls its own path
		rateLimited := func(w http.ResponseWriter, r *http.Request) {
			n, _ := limited.LoadOrStore(r.URL.Path, new(atomic.Int32))
			if n.(*atomic.Int32).Add(1) == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			w.WriteHeader(200)
		}
		toPrivate := func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		}
		huge := func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, strings.Repeat("x", 64<<10))
		}
		tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		t.Cleanup(tlsSrv.Close)

		type want struct {
			kinds    []string // each delivery's error kind, in order
			step     string   // final step state
			kind     string   // the step error's kind prefix ("" on success)
			errHas   string   // in every failed delivery's error
			minGap   time.Duration
			attempts int
		}
		retried := func(k, has string) want {
			return want{kinds: []string{k, k, k}, step: store.StepFailed, kind: k, errHas: has, attempts: 3}
		}
		once := func(has string) want {
			return want{kinds: []string{"permanent"}, step: store.StepFailed, kind: "permanent", errHas: has, attempts: 1}
		}
		cases := []struct {
			name string
			h    http.HandlerFunc
			url  string // instead of a server of h
			want want
		}{
			{"hangs", hang, "", retried("retryable", "timed out after")},
			{"resets the connection", reset, "", retried("retryable", "")},
			{"drips slowly", drip, "", retried("retryable", "timed out after")},
			{"answers 500", status(500), "", retried("retryable", "")},
			{"answers 429 with Retry-After", rateLimited, "",
				want{kinds: []string{"rate_limited", ""}, step: store.StepSucceeded, minGap: time.Second, attempts: 2}},
			{"answers 410", status(410), "", once("")},
			{"has a self-signed certificate", nil, tlsSrv.URL, once("certificate")},
			{"redirects to a private address", toPrivate, "",
				want{kinds: []string{"", "permanent"}, step: store.StepFailed, kind: "permanent", errHas: "not allowed", attempts: 1}},
			{"answers more than the cap", huge, "", once("size cap")},
		}
		type started struct {
			name, action, runID string
			calls               *atomic.Int32
			want                want
		}
		var runs []started
		for _, c := range cases {
			url, calls := c.url, (*atomic.Int32)(nil)
			if url == "" {
				var srv *httptest.Server
				srv, calls = served(c.h)
				url = srv.URL
			}
			base := url
			for _, action := range []string{"http.request", "webhook.send"} {
				url := base + "/" + action
				input := `{"method":"POST","url":"` + url + `","json":{"a":1}}`
				conn := ""
				if action == "webhook.send" {
					input, conn = `{"url":"`+url+`","payload":{"a":1}}`, `,"connection":"signer"`
				}
				doc := `{"schema":"switchboard/v1","name":"` + c.name + `","trigger":{"type":"webhook"},"steps":[
				 {"id":"call","type":"action","action":"` + action + `"` + conn + `,"input":` + input + `,
				  "retry":{"max_attempts":3,"initial":"20ms","max":"50ms"}}]}`
				runs = append(runs, started{c.name, action, b.trigger(t, doc, map[string]any{}), calls, c.want})
			}
		}
		for _, r := range runs {
			label := r.action + " to a receiver that " + r.name
			run := b.waitFinal(t, r.runID)
			step := b.steps(t, r.runID)["call/"]
			if step.State != r.want.step || step.Attempts != r.want.attempts {
				t.Errorf("%s: step %s after %d attempts (%s), want %s after %d", label, step.State, step.Attempts, step.Error, r.want.step, r.want.attempts)
			}
			if r.want.kind != "" && !strings.HasPrefix(step.Error, r.want.kind+": ") {
				t.Errorf("%s: step error %q does not start with its kind %q", label, step.Error, r.want.kind)
			}
			if r.want.step == store.StepSucceeded && run.State != store.RunSucceeded {
				t.Errorf("%s: run %s (%s)", label, run.State, run.Error)
			}
			dels, err := st.ListDeliveries(ctx, r.runID)
			storetest.Must(t, err, "deliveries")
			var kinds []string
			for i, d := range dels {
				kinds = append(kinds, d.ErrorKind)
				if d.State != store.DeliveryCompleted || d.Attempt != i+1 {
					t.Errorf("%s: delivery %d is %s, attempt %d", label, i+1, d.State, d.Attempt)
				}
				if d.ErrorKind != "" && d.Status < 400 && !strings.Contains(d.Error, r.want.errHas) {
					t.Errorf("%s: delivery %d error %q does not say %q", label, i+1, d.Error, r.want.errHas)
				}
			}
			if strings.Join(kinds, ",") != strings.Join(r.want.kinds, ",") {
				t.Errorf("%s: delivery kinds %q, want %q", label, kinds, r.want.kinds)
			}
			if r.want.minGap > 0 && len(dels) == 2 {
				if gap := dels[1].CreatedAt.Sub(dels[0].CreatedAt); gap < r.want.minGap-50*time.Millisecond {
					t.Errorf("%s: retried after %s, before Retry-After (%s)", label, gap, r.want.minGap)
				}
			}
			if r.calls != nil && r.action == "webhook.send" && r.name != "answers 429 with Retry-After" {
				// Every attempt reached the receiver (none was skipped or
				// made twice); the redirect's private target never was.
				per := int32(r.want.attempts)
				if r.name == "redirects to a private address" {
					per = 1
				}
				if got := r.calls.Load(); got != 2*per {
					t.Errorf("%s: the receiver saw %d calls for both connectors, want %d", label, got, 2*per)
				}
			}
		}
		waitfor.Until(t, 10*time.Second, "no delivery left in 'sending'", func() bool {
			var n int
			storetest.Must(t, st.SQLDB().QueryRowContext(ctx, "SELECT count(*) FROM deliveries WHERE state <> 'completed'").Scan(&n), "count")
			return n == 0
		})
	})
}
