package engine_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	_ "github.com/switchboard-dev/switchboard/connectors/all"
	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/flows"
	"github.com/switchboard-dev/switchboard/internal/netguard"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/waitfor"
)

type bundle struct {
	st    *store.Store
	eng   *engine.Engine
	flows *flows.Service
}

func newFlows(st *store.Store) *flows.Service {
	return flows.New(st, connectors.Default, "http://test")
}

// newInsertOnlyEngine has no workers: tests call Execute themselves.
func newInsertOnlyEngine(t testing.TB, st *store.Store) *engine.Engine {
	t.Helper()
	_, err := engine.MigrateQueue(context.Background(), st)
	storetest.Must(t, err, "queue migrations")
	eng, err := engine.New(st, engine.Options{Registry: connectors.Default, Logger: slog.New(slog.DiscardHandler)})
	storetest.Must(t, err, "engine")
	return eng
}

func setup(t *testing.T, dialect string) *bundle {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t, dialect)
	_, err := engine.MigrateQueue(ctx, st)
	storetest.Must(t, err, "queue migrations")
	policy, _ := netguard.ParseAllowList("127.0.0.1")
	eng, err := engine.New(st, engine.Options{
		Queue:    engine.QueueOptions{Workers: 8},
		Registry: connectors.Default,
		Outbound: netguard.Options{Policy: policy},
		Logger:   slog.New(slog.DiscardHandler),
	})
	storetest.Must(t, err, "engine")
	storetest.Must(t, eng.Start(ctx), "start")
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = eng.Stop(c)
	})
	return &bundle{st: st, eng: eng, flows: flows.New(st, connectors.Default, "http://test")}
}

// trigger stores a workflow and starts one run with body as its trigger.
func (b *bundle) trigger(t *testing.T, doc string, body any) string {
	t.Helper()
	v, err := b.flows.Create(context.Background(), []byte(doc), true)
	storetest.Must(t, err, "create workflow")
	return b.triggerExisting(t, v.ID, body)
}

// triggerExisting starts a run of a stored workflow.
func (b *bundle) triggerExisting(t *testing.T, workflowID string, body any) string {
	t.Helper()
	ctx := context.Background()
	w, err := b.st.GetWorkflow(ctx, workflowID)
	storetest.Must(t, err, "get workflow")
	ver, err := b.st.GetCurrentVersion(ctx, w)
	storetest.Must(t, err, "version")
	run := &store.Run{ID: store.NewID(), WorkflowID: w.ID, VersionID: ver.ID, Version: ver.Version,
		TriggerType: "webhook", Trigger: store.MustJSON(map[string]any{"body": body})}
	err = b.eng.StartRuns(ctx, func(tx *engine.StartTx) error { return tx.Run(ctx, run) })
	storetest.Must(t, err, "enqueue")
	return run.ID
}

func (b *bundle) waitFinal(t *testing.T, runID string) *store.Run {
	t.Helper()
	var r *store.Run
	waitfor.Until(t, 60*time.Second, "run "+runID+" to finish", func() bool {
		var err error
		r, err = b.st.GetRun(context.Background(), runID)
		storetest.Must(t, err, "get run")
		return store.RunFinal(r.State)
	})
	return r
}

func (b *bundle) steps(t *testing.T, runID string) map[string]store.StepRun {
	t.Helper()
	srs, err := b.st.ListStepRuns(context.Background(), runID)
	storetest.Must(t, err, "steps")
	out := map[string]store.StepRun{}
	for _, s := range srs {
		out[s.StepID+"/"+s.ItemKey] = s
	}
	return out
}

type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
	heads  []http.Header
	status func(n int) int // status for the n-th request (1-based)
	count  atomic.Int32
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{status: func(int) int { return 200 }}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n := int(r.count.Add(1))
		raw, _ := io.ReadAll(req.Body)
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		r.mu.Lock()
		r.bodies = append(r.bodies, m)
		r.heads = append(r.heads, req.Header.Clone())
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(r.status(n))
		io.WriteString(w, `{"received":true}`)
	}))
	t.Cleanup(r.Close)
	return r
}

const orderDoc = `{"schema":"switchboard/v1","name":"orders","trigger":{"type":"webhook"},"steps":[
 {"id":"big","type":"filter","if":"trigger.body.total > 100"},
 {"id":"msg","type":"map","fields":{"text":"Order #{{ trigger.body.id }} from {{ trigger.body.customer.name }}","total":"{{ trigger.body.total }}"}},
 {"id":"post","type":"action","action":"http.request","input":{"method":"POST","url":"URL","json":"{{ steps.msg }}"}}]}`

func withURL(doc, url string) string {
	return strings.ReplaceAll(doc, "URL", url)
}

func TestRunRecordsStepsAndDelivery(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		rcv := newReceiver(t)
		id := b.trigger(t, withURL(orderDoc, rcv.URL+"/orders"), map[string]any{"id": 1, "total": 250, "customer": map[string]any{"name": "Ada"}})
		r := b.waitFinal(t, id)
		if r.State != store.RunSucceeded {
			t.Fatalf("run state = %s (%s), want succeeded", r.State, r.Error)
		}
		if len(rcv.bodies) != 1 || rcv.bodies[0]["text"] != "Order #1 from Ada" || rcv.bodies[0]["total"] != 250.0 {
			t.Fatalf("receiver got %v, want the mapped body", rcv.bodies)
		}
		if rcv.heads[0].Get("Idempotency-Key") == "" {
			t.Fatal("no Idempotency-Key sent")
		}
		steps := b.steps(t, id)
		for _, sid := range []string{"big/", "msg/", "post/"} {
			if steps[sid].State != store.StepSucceeded {
				t.Fatalf("step %s = %+v", sid, steps[sid])
			}
		}
		var out map[string]any
		_ = json.Unmarshal(steps["post/"].Output, &out)
		if out["status"] != 200.0 {
			t.Fatalf("action output = %v", out)
		}
		dels, err := b.st.ListDeliveries(context.Background(), id)
		storetest.Must(t, err, "deliveries")
		if len(dels) != 1 || dels[0].Status != 200 || dels[0].Method != "POST" || dels[0].ResponseBody != `{"received":true}` {
			t.Fatalf("deliveries = %+v", dels)
		}
	})
}

func TestFalseFilterEndsRunFiltered(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		rcv := newReceiver(t)
		id := b.trigger(t, withURL(orderDoc, rcv.URL), map[string]any{"id": 2, "total": 5})
		if r := b.waitFinal(t, id); r.State != store.RunFiltered {
			t.Fatalf("state = %s, want filtered", r.State)
		}
		if rcv.count.Load() != 0 {
			t.Fatal("a filtered run called the action")
		}
		steps := b.steps(t, id)
		if steps["big/"].State != store.StepFiltered || len(steps) != 1 {
			t.Fatalf("steps = %v", steps)
		}
	})
}

func TestRetriesRetryableErrorsThenStopsAtPermanentOne(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		rcv := newReceiver(t)
		rcv.status = func(n int) int { // 503, 503, then 400 (permanent)
			if n <= 2 {
				return 503
			}
			return 400
		}
		doc := `{"schema":"switchboard/v1","name":"retry","trigger":{"type":"webhook"},"steps":[
		 {"id":"post","type":"action","action":"http.request","input":{"method":"POST","url":"` + rcv.URL + `","json":{"a":1}},
		  "retry":{"max_attempts":5,"initial":"20ms","max":"50ms"}}]}`
		id := b.trigger(t, doc, map[string]any{})
		r := b.waitFinal(t, id)
		if r.State != store.RunFailed || rcv.count.Load() != 3 {
			t.Fatalf("state = %s after %d calls, want failed after 3 (error %q)", r.State, rcv.count.Load(), r.Error)
		}
		st := b.steps(t, id)["post/"]
		if st.Attempts != 3 || st.State != store.StepFailed {
			t.Fatalf("step = %+v, want failed after 3 attempts", st)
		}
		dels, _ := b.st.ListDeliveries(context.Background(), id)
		if len(dels) != 3 || dels[0].Attempt != 1 || dels[2].Attempt != 3 || dels[2].Status != 400 {
			t.Fatalf("deliveries = %+v", dels)
		}
		keys := map[string]bool{}
		for _, h := range rcv.heads {
			keys[h.Get("Idempotency-Key")] = true
		}
		if len(keys) != 1 {
			t.Fatalf("idempotency keys differ across retries: %v", keys)
		}
	})
}

func TestPathsAllAndFirst(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		doc := func(mode string) string {
			return `{"schema":"switchboard/v1","name":"paths","trigger":{"type":"webhook"},"steps":[
			 {"id":"route","type":"paths","mode":"` + mode + `","paths":[
			   {"name":"vip","if":"trigger.body.total > 1000","steps":[{"id":"vip","type":"map","fields":{"x":"vip"}}]},
			   {"name":"big","if":"trigger.body.total > 100","steps":[{"id":"big","type":"map","fields":{"x":"big"}}]},
			   {"name":"always","steps":[{"id":"all","type":"map","fields":{"x":"{{ trigger.body.total }}"}}]}]},
			 {"id":"after","type":"map","fields":{"saw":"{{ steps.all }}"}}]}`
		}
		id := b.trigger(t, doc("all"), map[string]any{"total": 500})
		if r := b.waitFinal(t, id); r.State != store.RunSucceeded {
			t.Fatalf("all: %s %s", r.State, r.Error)
		}
		steps := b.steps(t, id)
		if _, ran := steps["vip/"]; ran || steps["big/"].State != store.StepSucceeded || steps["all/"].State != store.StepSucceeded {
			t.Fatalf("mode all ran %v", keys(steps))
		}
		var after map[string]any
		_ = json.Unmarshal(steps["after/"].Output, &after)
		if after["saw"] == nil {
			t.Fatalf("a step after paths cannot see a branch's output: %v", after)
		}
		id = b.trigger(t, doc("first"), map[string]any{"total": 500})
		b.waitFinal(t, id)
		steps = b.steps(t, id)
		if _, ran := steps["all/"]; ran || steps["big/"].State != store.StepSucceeded {
			t.Fatalf("mode first ran %v", keys(steps))
		}
	})
}

func keys[M ~map[string]V, V any](m M) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestForEachThousandItemsWithConcurrency(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		var inFlight, peak atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := inFlight.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(2 * time.Millisecond)
			inFlight.Add(-1)
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(204)
		}))
		defer srv.Close()
		doc := `{"schema":"switchboard/v1","name":"each","trigger":{"type":"webhook"},"steps":[
		 {"id":"each","type":"for_each","items":"1..1000","concurrency":8,"steps":[
		   {"id":"sq","type":"map","fields":{"n":"{{ item * item }}","i":"{{ index }}"}},
		   {"id":"post","type":"action","action":"http.request","input":{"method":"POST","url":"` + srv.URL + `","json":"{{ steps.sq }}"}}]}]}`
		id := b.trigger(t, doc, map[string]any{})
		r := b.waitFinal(t, id)
		if r.State != store.RunSucceeded {
			t.Fatalf("state %s: %s", r.State, r.Error)
		}
		if p := peak.Load(); p > 8 || p < 2 {
			t.Fatalf("peak concurrency = %d, want between 2 and 8", p)
		}
		steps := b.steps(t, id)
		var out []map[string]map[string]any
		storetest.Must(t, json.Unmarshal(steps["each/"].Output, &out), "for_each output")
		if len(out) != 1000 || out[999]["sq"]["n"] != 1000000.0 || out[0]["sq"]["i"] != 0.0 {
			t.Fatalf("collected %d outputs; last = %v", len(out), out[len(out)-1])
		}
		if steps["post/999"].State != store.StepSucceeded {
			t.Fatalf("item 999 not recorded: %+v", steps["post/999"])
		}
	})
}
