package engine_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/netguard"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/waitfor"
)

// signalHandler closes seen the first time a record mentions text.
type signalHandler struct {
	slog.Handler
	text string
	once *sync.Once
	seen chan struct{}
}

func (h signalHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h signalHandler) Handle(_ context.Context, r slog.Record) error {
	hit := strings.Contains(r.Message, h.text)
	r.Attrs(func(a slog.Attr) bool {
		hit = hit || strings.Contains(a.Value.String(), h.text)
		return !hit
	})
	if hit {
		h.once.Do(func() { close(h.seen) })
	}
	return nil
}

func (h signalHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h signalHandler) WithGroup(string) slog.Handler      { return h }

// A run whose records cannot be written because the SQLite disk is full
// (max_page_count) is not half recorded: it stays unfinished, and once there
// is room again it finishes by itself, every step recorded once, no
// delivery left "sending", every attempt with the same idempotency key.
func TestARunOnAFullSQLiteDiskFinishesWhenSpaceReturns(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t, store.SQLite)
	full := signalHandler{text: "database or disk is full", once: &sync.Once{}, seen: make(chan struct{})}
	policy, _ := netguard.ParseAllowList("127.0.0.1")
	b := startEngine(t, st, engine.Options{
		Queue:    engine.QueueOptions{Workers: 2, JobTimeout: 2 * time.Second, RescueAfter: 3 * time.Second, Lease: 2 * time.Second},
		Registry: connectors.Default, Outbound: netguard.Options{Policy: policy}, Logger: slog.New(full),
	})

	db := st.SQLDB() // one connection (store.openSQLite): the pragma holds for every statement
	exec := func(q string) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var calls atomic.Int32
	keys := sync.Map{}
	fill := make(chan struct{})
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		keys.Store(r.Header.Get("Idempotency-Key"), true)
		if calls.Add(1) == 1 {
			// The first answer comes when the disk is full, so recording it fails.
			fill <- struct{}{}
			<-fill
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, strings.Repeat("y", 60<<10))
	}))
	t.Cleanup(rcv.Close)
	doc := `{"schema":"switchboard/v1","name":"full","trigger":{"type":"webhook"},"steps":[
	 {"id":"call","type":"action","action":"http.request","input":{"method":"POST","url":"` + rcv.URL + `","json":{"a":1}}},
	 {"id":"after","type":"map","fields":{"n":"{{ steps.call.status }}"}}]}`
	id := b.trigger(t, doc, map[string]any{})

	select {
	case <-fill:
	case <-time.After(60 * time.Second):
		t.Fatal("the receiver was never called")
	}
	exec("PRAGMA incremental_vacuum")
	var pages int
	storetest.Must(t, db.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages), "page_count")
	exec("PRAGMA max_page_count = " + strconv.Itoa(pages))
	fill <- struct{}{}
	select {
	case <-full.seen:
	case <-time.After(60 * time.Second):
		t.Fatal("the engine never hit the full disk")
	}
	if r, err := st.GetRun(ctx, id); err != nil || store.RunFinal(r.State) {
		t.Fatalf("on a full disk the run is %v (%v), want it unfinished", r, err)
	}
	exec("PRAGMA max_page_count = 1073741823")
	r := b.waitFinal(t, id)
	if r.State != store.RunSucceeded {
		t.Fatalf("after space returned: %s (%s)", r.State, r.Error)
	}
	steps := b.steps(t, id)
	if len(steps) != 2 || steps["call/"].State != store.StepSucceeded || steps["after/"].State != store.StepSucceeded {
		t.Fatalf("steps = %+v", steps)
	}
	dels, err := st.ListDeliveries(ctx, id)
	storetest.Must(t, err, "deliveries")
	// The attempt whose answer could not be recorded stays "sending" (its
	// outcome is unknown to the records, see README); the retry that
	// followed is completed, with the same idempotency key.
	for i, d := range dels {
		t.Logf("delivery %d: attempt %d %s status %d %q", i, d.Attempt, d.State, d.Status, d.Error)
	}
	if len(dels) != 2 || dels[0].State != store.DeliverySending || dels[1].State != store.DeliveryCompleted || dels[1].Status != 200 {
		t.Fatalf("deliveries: want the unrecorded attempt left sending and a completed retry")
	}
	n := 0
	keys.Range(func(any, any) bool { n++; return true })
	if n != 1 || len(dels) < 1 || int(calls.Load()) < len(dels) {
		t.Fatalf("%d idempotency keys over %d calls and %d deliveries, want one key", n, calls.Load(), len(dels))
	}
	waitfor.Until(t, 10*time.Second, "the run's queue job to finish", func() bool {
		var open int
		storetest.Must(t, db.QueryRowContext(ctx, "SELECT count(*) FROM river_job WHERE kind = 'run' AND state NOT IN ('completed', 'cancelled', 'discarded')").Scan(&open), "jobs")
		return open == 0
	})
}
