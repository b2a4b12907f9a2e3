// Package e2e drives the real switchboard binary the way a user does: the
// command line, HTTP on a real port, a local receiver standing in for the
// outside world, and SIGKILL in the middle of a run.
package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/waitfor"
)

var binary string

func TestMain(m *testing.M) {
	binary = os.Getenv("SWITCHBOARD_BIN")
	if binary == "" {
		dir, err := os.MkdirTemp("", "sb-e2e")
		if err != nil {
			panic(err)
		}
		binary = filepath.Join(dir, "switchboard")
		cmd := exec.Command("go", "build", "-o", binary, "../../cmd/switchboard")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building switchboard:", err)
			os.Exit(1)
		}
		code := m.Run()
		os.RemoveAll(dir)
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// instance is one switchboard process configuration (data dir or database).
type instance struct {
	t    testing.TB
	env  []string
	addr string
	cmd  *exec.Cmd
	logs *bytes.Buffer
	mu   *sync.Mutex
	key  string
	// https and client are set for an instance serving TLS.
	https  bool
	client *http.Client
}

func (in *instance) httpClient() *http.Client {
	if in.client != nil {
		return in.client
	}
	return http.DefaultClient
}

func newInstance(t testing.TB, dialect string, extraEnv ...string) *instance {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := append(os.Environ(),
		"SWITCHBOARD_ADDR="+addr,
		"SWITCHBOARD_DATA_DIR="+t.TempDir(),
		"SWITCHBOARD_OUTBOUND_ALLOW=127.0.0.1",
		"DATABASE_URL=",
	)
	if dialect == store.Postgres {
		env = append(env, "DATABASE_URL="+storetest.NewPostgresDatabase(t))
	}
	return &instance{t: t, env: append(env, extraEnv...), addr: addr, logs: &bytes.Buffer{}, mu: &sync.Mutex{}}
}

func (in *instance) url(path string) string {
	if in.https {
		return "https://" + in.addr + path
	}
	return "http://" + in.addr + path
}

// cli runs a subcommand to completion and returns its output.
func (in *instance) cli(args ...string) (string, error) {
	cmd := exec.Command(binary, args...)
	cmd.Env = in.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// start launches `switchboard serve` and waits for /healthz.
func (in *instance) start() {
	in.t.Helper()
	in.cmd = exec.Command(binary, "serve")
	in.cmd.Env = in.env
	in.cmd.Stdout = lockedWriter{in.mu, in.logs}
	in.cmd.Stderr = lockedWriter{in.mu, in.logs}
	if err := in.cmd.Start(); err != nil {
		in.t.Fatal(err)
	}
	cmd := in.cmd
	in.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if in.t.Failed() {
			in.mu.Lock()
			in.t.Logf("server log:\n%s", in.logs.String())
			in.mu.Unlock()
		}
	})
	waitfor.Until(in.t, 30*time.Second, "the server to become healthy", func() bool {
		resp, err := in.httpClient().Get(in.url("/healthz"))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

func (in *instance) kill() {
	in.cmd.Process.Signal(syscall.SIGKILL)
	in.cmd.Wait()
}

// key returns an admin API key for this instance, made once with the CLI.
func (in *instance) apiKey() string {
	in.t.Helper()
	if in.key == "" {
		cmd := exec.Command(binary, "api-key", "create", "e2e")
		cmd.Env = in.env
		out, err := cmd.Output()
		if err != nil {
			in.t.Fatalf("api-key create: %v", err)
		}
		in.key = strings.TrimSpace(string(out))
	}
	return in.key
}

func (in *instance) request(t testing.TB, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, in.url(path), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+in.apiKey())
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := in.httpClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, raw
}

func (in *instance) getJSON(t testing.TB, path string, into any) int {
	t.Helper()
	resp, raw := in.request(t, "GET", path, "")
	if into != nil {
		if err := json.Unmarshal(raw, into); err != nil {
			t.Fatalf("GET %s: %v in %s", path, err, raw)
		}
	}
	return resp.StatusCode
}

func (in *instance) getRaw(t testing.TB, path string) string {
	t.Helper()
	_, raw := in.request(t, "GET", path, "")
	return string(raw)
}

func (in *instance) postJSONRaw(t testing.TB, path, body string) (int, map[string]any, string) {
	t.Helper()
	resp, raw := in.request(t, "POST", path, body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m, string(raw)
}

func (in *instance) postJSON(t testing.TB, path string, body any) (int, map[string]any, string) {
	t.Helper()
	raw, _ := json.Marshal(body)
	return in.postJSONRaw(t, path, string(raw))
}

type runDetail struct {
	ID         string `json:"id"`
	State      string `json:"state"`
	Error      string `json:"error"`
	Attempt    int    `json:"attempt"`
	WorkflowID string `json:"workflow_id"`
	Steps      []struct {
		StepID string          `json:"step_id"`
		State  string          `json:"state"`
		Output json.RawMessage `json:"output"`
	} `json:"steps"`
	Deliveries []struct {
		Status    int    `json:"status"`
		Method    string `json:"method"`
		URL       string `json:"url"`
		LatencyMS int64  `json:"latency_ms"`
		Response  string `json:"response_body"`
	} `json:"deliveries"`
}

func (in *instance) waitRun(runID string, timeout time.Duration) runDetail {
	in.t.Helper()
	var d runDetail
	waitfor.Until(in.t, timeout, "run "+runID+" to finish", func() bool {
		return in.getJSON(in.t, "/api/v1/runs/"+runID, &d) == 200 && store.RunFinal(d.State)
	})
	return d
}

func writeWorkflow(t *testing.T, receiverURL string) string {
	doc := `{"schema":"switchboard/v1","name":"Order alert","trigger":{"type":"webhook","webhook":{"methods":["POST"]}},
	"steps":[{"id":"big","type":"filter","if":"trigger.body.total > 100"},
	{"id":"msg","type":"map","fields":{"text":"New order #{{ trigger.body.id }} from {{ trigger.body.customer.name }}","total":"{{ trigger.body.total }}"}},
	{"id":"notify","type":"action","action":"http.request","input":{"method":"POST","url":"` + receiverURL + `/orders","json":"{{ steps.msg }}"}}]}`
	path := filepath.Join(t.TempDir(), "order-alert.json")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func importWorkflow(t *testing.T, in *instance, file string) string {
	t.Helper()
	out, err := in.cli("workflow", "import", file)
	if err != nil {
		t.Fatalf("workflow import: %v\n%s", err, out)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "webhook URL: "); ok {
			return u
		}
	}
	t.Fatalf("workflow import printed no webhook URL:\n%s", out)
	return ""
}

func postHook(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		RunID string `json:"run_id"`
	}
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out.RunID
}

type capture struct {
	mu     sync.Mutex
	bodies []string
	keys   []string
}

func (c *capture) add(r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.bodies = append(c.bodies, string(b))
	c.keys = append(c.keys, r.Header.Get("Idempotency-Key"))
	c.mu.Unlock()
}

func (c *capture) snapshot() ([]string, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.bodies...), append([]string(nil), c.keys...)
}

func TestUserJourneyFromImportToRecordedRun(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		got := &capture{}
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got.add(r)
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"ok":true}`)
		}))
		defer rcv.Close()
		in := newInstance(t, dialect)
		hook := importWorkflow(t, in, writeWorkflow(t, rcv.URL))
		if !strings.HasPrefix(hook, in.url("/hooks/")) {
			t.Fatalf("webhook URL %q is not under %s", hook, in.url("/hooks/"))
		}
		in.start()

		status, runID := postHook(t, hook, `{"id":1,"total":250,"customer":{"name":"Ada"}}`)
		if status != 202 || runID == "" {
			t.Fatalf("webhook answered %d (run %q), want 202 with a run id", status, runID)
		}
		d := in.waitRun(runID, 30*time.Second)
		if d.State != "succeeded" || len(d.Steps) != 3 || len(d.Deliveries) != 1 {
			t.Fatalf("run = %+v", d)
		}
		if dl := d.Deliveries[0]; dl.Status != 200 || dl.Method != "POST" || dl.Response != `{"ok":true}` {
			t.Fatalf("delivery = %+v", dl)
		}
		bodies, _ := got.snapshot()
		if len(bodies) != 1 || bodies[0] != `{"text":"New order #1 from Ada","total":250}` {
			t.Fatalf("receiver got %q", bodies)
		}
		// /metrics has the three latency histograms with this run's
		// observations (the reply is observed just after it is sent, hence
		// the wait).
		waitfor.Until(t, 10*time.Second, "the webhook reply in /metrics", func() bool {
			return strings.Contains(in.getRaw(t, "/metrics"), `switchboard_webhook_reply_seconds_count{code="202"} 1`+"\n")
		})
		metrics := in.getRaw(t, "/metrics")
		for _, want := range []string{
			"# TYPE switchboard_webhook_reply_seconds histogram",
			`switchboard_step_duration_seconds_count{state="succeeded",type="action"} 1` + "\n",
			`switchboard_step_duration_seconds_bucket{state="succeeded",type="map",le="+Inf"} 1` + "\n",
			`switchboard_delivery_latency_seconds_count{outcome="2xx"} 1` + "\n",
			"# TYPE switchboard_delivery_latency_seconds histogram",
		} {
			if !strings.Contains(metrics, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
		var list struct {
			Items []struct{ ID, State string } `json:"items"`
		}
		in.getJSON(t, "/api/v1/runs?workflow="+d.WorkflowID, &list)
		if len(list.Items) != 1 || list.Items[0].ID != runID {
			t.Fatalf("runs list = %+v", list)
		}
		// Bad input is refused and starts nothing.
		if s, _ := postHook(t, hook, `{"total":`); s != 400 {
			t.Fatalf("broken JSON: %d, want 400", s)
		}
		if s, _ := postHook(t, in.url("/hooks/nope"), `{}`); s != 404 {
			t.Fatalf("unknown token: %d, want 404", s)
		}
		in.getJSON(t, "/api/v1/runs?workflow="+d.WorkflowID, &list)
		if len(list.Items) != 1 {
			t.Fatalf("rejected requests created runs: %+v", list)
		}
		// The app is served at /.
		resp, err := http.Get(in.url("/"))
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(strings.ToLower(string(page)), "<html") {
			t.Fatalf("GET / = %d %.200s", resp.StatusCode, page)
		}
		// SIGTERM stops the server cleanly.
		in.cmd.Process.Signal(syscall.SIGTERM)
		if err := in.cmd.Wait(); err != nil {
			t.Fatalf("server exited with %v after SIGTERM", err)
		}
	})
}

func TestRunCompletesAfterServerIsKilledMidRun(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		got := &capture{}
		inFlight := make(chan struct{}, 1)
		release := make(chan struct{})
		var first sync.Once
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got.add(r)
			blocked := false
			first.Do(func() { blocked = true })
			if blocked { // the first attempt hangs until the server is dead
				inFlight <- struct{}{}
				<-release
				return
			}
			io.WriteString(w, "ok")
		}))
		defer rcv.Close()
		defer func() {
			select {
			case <-release:
			default:
				close(release)
			}
		}()
		in := newInstance(t, dialect, "SWITCHBOARD_JOB_TIMEOUT=2s", "SWITCHBOARD_RESCUE_AFTER=3s")
		hook := importWorkflow(t, in, writeWorkflow(t, rcv.URL))
		in.start()
		status, runID := postHook(t, hook, `{"id":7,"total":500,"customer":{"name":"Grace"}}`)
		if status != 202 {
			t.Fatalf("webhook: %d", status)
		}
		select {
		case <-inFlight:
		case <-time.After(30 * time.Second):
			t.Fatal("the action never reached the receiver")
		}
		in.kill()
		close(release)

		start := time.Now()
		in.start()
		d := in.waitRun(runID, 120*time.Second)
		t.Logf("%s: run resumed and finished %s after restart", dialect, time.Since(start).Round(time.Millisecond))
		if d.State != "succeeded" {
			t.Fatalf("run after restart = %+v", d)
		}
		seen := map[string]int{}
		for _, s := range d.Steps {
			seen[s.StepID]++
			if s.State != "succeeded" {
				t.Fatalf("step %s = %s", s.StepID, s.State)
			}
		}
		if len(seen) != 3 || seen["big"] != 1 || seen["msg"] != 1 || seen["notify"] != 1 {
			t.Fatalf("steps recorded %v, want each once", seen)
		}
		_, keys := got.snapshot()
		if len(keys) != 2 || keys[0] == "" || keys[0] != keys[1] {
			t.Fatalf("idempotency keys %q: the retried call must reuse the first one", keys)
		}
	})
}

func TestDelaySurvivesARestartOfTheServer(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		got := &capture{}
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.add(r) }))
		defer rcv.Close()
		in := newInstance(t, dialect)
		doc := `{"schema":"switchboard/v1","name":"later","trigger":{"type":"webhook"},"steps":[
		 {"id":"wait","type":"delay","for":"2s"},
		 {"id":"notify","type":"action","action":"http.request","input":{"method":"POST","url":"` + rcv.URL + `","json":{"late":true}}}]}`
		file := filepath.Join(t.TempDir(), "later.json")
		os.WriteFile(file, []byte(doc), 0o600)
		hook := importWorkflow(t, in, file)
		in.start()
		in.apiKey() // made before the event: the CLI can take most of the 2s delay on a loaded machine
		sent := time.Now()
		_, runID := postHook(t, hook, `{}`)
		var d runDetail
		waitfor.Until(t, 20*time.Second, "the run to wait on its delay", func() bool {
			in.getJSON(t, "/api/v1/runs/"+runID, &d)
			if store.RunFinal(d.State) {
				t.Fatalf("run is %s, want waiting on its delay", d.State)
			}
			return d.State == "waiting"
		})
		in.cmd.Process.Signal(syscall.SIGTERM)
		if err := in.cmd.Wait(); err != nil {
			t.Fatalf("SIGTERM: %v", err)
		}
		in.start()
		d = in.waitRun(runID, 60*time.Second)
		bodies, _ := got.snapshot()
		if d.State != "succeeded" || len(bodies) != 1 {
			t.Fatalf("after restart: run %s, receiver got %d requests", d.State, len(bodies))
		}
		if waited := time.Since(sent); waited < 2*time.Second {
			t.Fatalf("the action ran %s after the trigger, before the 2s delay", waited)
		}
	})
}
