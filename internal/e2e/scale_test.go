package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// Two API processes on one database enforce one webhook rate limit between
// them, and say so in /metrics; a worker process answers the probes and
// the binary's own health check.
func TestRateLimitIsSharedByTwoAPIProcesses(t *testing.T) {
	dsn := storetest.NewPostgresDatabase(t)
	api1 := newProc(t, "DATABASE_URL="+dsn, "SWITCHBOARD_ROLE=api", "SWITCHBOARD_LOG_LEVEL=warn")
	api2 := newProc(t, "DATABASE_URL="+dsn, "SWITCHBOARD_ROLE=api", "SWITCHBOARD_LOG_LEVEL=warn")
	worker := newProc(t, "DATABASE_URL="+dsn, "SWITCHBOARD_ROLE=worker", "SWITCHBOARD_LOG_LEVEL=warn")
	// 6 a minute: a burst of 10, then one token every 10 s.
	file := t.TempDir() + "/limited.json"
	writeFile(t, file, `{"schema":"switchboard/v1","name":"limited","trigger":{"type":"webhook","webhook":{"rate_limit":6,"dedupe":{"disabled":true}}},
	 "steps":[{"id":"m","type":"map","fields":{"x":"1"}}]}`)
	hook := importWorkflow(t, api1, file)
	path := hook[strings.Index(hook, "/hooks/"):]
	api1.start()
	api2.start()
	worker.start()

	accepted, refused := 0, 0
	for i := 0; i < 30; i++ {
		api := []*instance{api1, api2}[i%2]
		resp, err := http.Post(api.url(path), "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case 202:
			accepted++
		case 429:
			refused++
			if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 10 {
				t.Fatalf("429 with Retry-After %q, want 1..10 s", resp.Header.Get("Retry-After"))
			}
		default:
			t.Fatalf("webhook answered %d", resp.StatusCode)
		}
	}
	// Per process the two would let 20 through; shared, the burst of 10
	// (and at most a token or two that came back while the test ran).
	if accepted < 10 || accepted > 12 || accepted+refused != 30 {
		t.Fatalf("two API processes accepted %d and refused %d of 30; want the one shared burst of 10", accepted, refused)
	}
	decisions := regexp.MustCompile(`switchboard_rate_limit_decisions_total\{decision="(allowed|refused)",limit="webhook"\} (\d+)`) // client_golang writes labels sorted by name
	total := map[string]int{}
	for _, api := range []*instance{api1, api2} {
		m := api.getRaw(t, "/metrics")
		if !strings.Contains(m, `switchboard_rate_limit_per_minute{limit="webhook",scope="database"} 6000`) ||
			!strings.Contains(m, `switchboard_rate_limit_per_minute{limit="login",scope="database"}`) ||
			!strings.Contains(m, `switchboard_rate_limit_per_minute{limit="form",scope="database"}`) {
			t.Fatalf("/metrics does not show the shared limits:\n%s", m)
		}
		for _, g := range decisions.FindAllStringSubmatch(m, -1) {
			n, _ := strconv.Atoi(g[2])
			total[g[1]] += n
		}
	}
	if total["allowed"] != accepted || total["refused"] != refused {
		t.Fatalf("metrics count %v, want %d allowed and %d refused", total, accepted, refused)
	}

	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if s := worker.status(p); s != 200 {
			t.Fatalf("worker %s = %d", p, s)
		}
	}
	cmd := exec.Command(binary, "healthcheck")
	cmd.Env = worker.env
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "ready") {
		t.Fatalf("switchboard healthcheck against the worker: %v %s", err, out)
	}
	worker.kill()
	cmd = exec.Command(binary, "healthcheck")
	cmd.Env = worker.env
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("switchboard healthcheck succeeded with the worker dead: %s", out)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A service that answers with NUL bytes or invalid UTF-8 does not wedge a
// run on PostgreSQL: the response is recorded as text (U+FFFD) and the run
// ends.
func TestResponsesWithNULBytesAreRecorded(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, "{\"v\":\"a\\u0000b\",\"raw\":\"\xff\"}")
		}))
		defer rcv.Close()
		in := newInstance(t, dialect)
		file := t.TempDir() + "/nul.json"
		writeFile(t, file, `{"schema":"switchboard/v1","name":"nul","trigger":{"type":"webhook"},"steps":[
		 {"id":"call","type":"action","action":"http.request","input":{"method":"POST","url":"`+rcv.URL+`","json":{"x":1}}},
		 {"id":"m","type":"map","fields":{"v":"{{ steps.call.body.v }}"}}]}`)
		hook := importWorkflow(t, in, file)
		in.start()
		status, runID := postHook(t, hook, "{\"s\":\"\\u0000\"}")
		if status != 202 {
			t.Fatalf("webhook: %d", status)
		}
		d := in.waitRun(runID, 60*time.Second)
		if d.State != "succeeded" || len(d.Deliveries) != 1 || strings.ContainsRune(d.Deliveries[0].Response, 0) {
			t.Fatalf("run = %+v", d)
		}
	})
}
