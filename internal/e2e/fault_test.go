package e2e

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" database/sql driver for the checks
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/waitfor"
)

// The fault tests run the real binary under load while processes and the
// database die, then check the promises: an event that got a 2xx has
// exactly one run, every run ends, every call the receiver saw is recorded,
// a repeated call carries the same idempotency key, and a dead worker's runs
// are taken over quickly.

// faultKey is the SWITCHBOARD_SECRET_KEY every process of a test shares.
const faultKey = "ZmF1bHQtdGVzdC1rZXktMzItYnl0ZXMtbG9uZy4uLi4="

// ---- a private PostgreSQL cluster ----

type pgCluster struct {
	t          *testing.T
	bin, dir   string
	port       int
	cred       *syscall.Credential
	logFile    string
	socketsDir string
}

// startCluster initdb's and starts a PostgreSQL of the test's own on a free
// port, so the test may restart it; the shared server is never touched.
func startCluster(t *testing.T) *pgCluster {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Fatal("the fault test needs PostgreSQL's server binaries (/usr/lib/postgresql/*/bin/initdb)")
	}
	sort.Strings(bins)
	c := &pgCluster{t: t, bin: filepath.Dir(bins[len(bins)-1]), port: freePort(t)}
	root, err := os.MkdirTemp("", "sb-fault-pg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	os.Chmod(root, 0o755)
	c.dir, c.socketsDir, c.logFile = filepath.Join(root, "data"), root, filepath.Join(root, "pg.log")
	if os.Geteuid() == 0 {
		// initdb refuses to run as root: the cluster belongs to "postgres".
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs the postgres user for initdb: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		os.Chown(root, uid, gid)
	}
	c.run("initdb", "-D", c.dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	c.start()
	t.Cleanup(func() { c.pgctl("stop", "-m", "immediate") })
	return c
}

func (c *pgCluster) run(name string, args ...string) {
	c.t.Helper()
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	cmd.Dir = c.socketsDir
	if out, err := cmd.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(c.logFile)
		c.t.Fatalf("%s %v: %v\n%s\n%s", name, args, err, out, log)
	}
}

func (c *pgCluster) pgctl(args ...string) {
	c.t.Helper()
	c.run("pg_ctl", append([]string{"-D", c.dir, "-l", c.logFile, "-w", "-t", "120"}, args...)...)
}

// start runs the server. fsync is off (the test never crashes the machine,
// only the server process, and the kernel keeps what was written).
func (c *pgCluster) start() {
	c.t.Helper()
	c.pgctl("-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300 -c shared_buffers=32MB",
		c.port, c.socketsDir), "start")
}

// crash stops the server the hard way (SIGQUIT to every backend: no
// checkpoint, crash recovery on the next start).
func (c *pgCluster) crash() { c.pgctl("stop", "-m", "immediate") }

func (c *pgCluster) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

func (c *pgCluster) createDB(name string) string {
	c.t.Helper()
	db, err := sql.Open("pgx", c.url("postgres"))
	if err != nil {
		c.t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		c.t.Fatal(err)
	}
	return c.url(name)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// ---- processes ----

// newProc is a switchboard process with its own address and the given
// environment (database, role, shared key).
func newProc(t *testing.T, env ...string) *instance {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	base := append(os.Environ(), "SWITCHBOARD_ADDR="+addr, "SWITCHBOARD_DATA_DIR="+t.TempDir(),
		"SWITCHBOARD_OUTBOUND_ALLOW=127.0.0.1", "SWITCHBOARD_SECRET_KEY="+faultKey, "DATABASE_URL=")
	return &instance{t: t, env: append(base, env...), addr: addr, logs: &bytes.Buffer{}, mu: &sync.Mutex{}}
}

// logCount counts log lines of the process containing s.
func (in *instance) logCount(s string) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return strings.Count(in.logs.String(), s)
}

func (in *instance) status(path string) int {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(in.url(path))
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// publicBody GETs a path that needs no API key (making one needs the database).
func (in *instance) publicBody(path string) string {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(in.url(path))
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// waitFor waits for cond and says how long it took (the fault tests report
// recovery times).
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	waitfor.Until(t, timeout, what, cond)
	return time.Since(start)
}

// ---- the receiver and the loader ----

type hit struct {
	event int
	key   string
}

type receiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits []hit
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body struct {
			Event int `json:"event"`
		}
		raw, _ := io.ReadAll(req.Body)
		_ = json.Unmarshal(raw, &body)
		r.mu.Lock()
		r.hits = append(r.hits, hit{body.Event, req.Header.Get("Idempotency-Key")})
		r.mu.Unlock()
		// Some work, so calls are in flight when a process dies.
		time.Sleep(50 * time.Millisecond)
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) snapshot() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hit(nil), r.hits...)
}

type loader struct {
	events   int
	accepted atomic.Int64
	retries  atomic.Int64
	mu       sync.Mutex
	runOf    map[int]string // event → run id from its 2xx
	refused  map[int]string // event → a 4xx answer (a bug)
	wait     func()
}

// load sends events 0..n-1 with unique webhook ids, perSecond new events a
// second (so the faults fall in the middle of the load), spread over the API
// processes; an error, 5xx or 429 is retried (on the next process) until the
// deadline, as a sender would.
func load(t *testing.T, hookPaths func() []string, n, perSecond, concurrency int, deadline time.Time) *loader {
	l := &loader{events: n, runOf: map[int]string{}, refused: map[int]string{}}
	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: concurrency}}
	work := make(chan int)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ev := range work {
				for attempt := 0; time.Now().Before(deadline); attempt++ {
					select {
					case <-stop:
						return
					default:
					}
					urls := hookPaths()
					url := urls[(ev+attempt)%len(urls)]
					req, _ := http.NewRequest("POST", url, strings.NewReader(fmt.Sprintf(`{"id":%d}`, ev)))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Webhook-Id", fmt.Sprintf("evt-%d", ev))
					resp, err := client.Do(req)
					status, runID := 0, ""
					if err == nil {
						var out struct {
							RunID string `json:"run_id"`
						}
						raw, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						_ = json.Unmarshal(raw, &out)
						status, runID = resp.StatusCode, out.RunID
						if status >= 400 && status < 500 && status != 429 {
							l.mu.Lock()
							l.refused[ev] = fmt.Sprintf("%d %s", status, raw)
							l.mu.Unlock()
							break
						}
					}
					if status >= 200 && status < 300 && runID != "" {
						l.mu.Lock()
						l.runOf[ev] = runID
						l.mu.Unlock()
						l.accepted.Add(1)
						break
					}
					l.retries.Add(1)
					time.Sleep(time.Duration(min(attempt+1, 10)) * 50 * time.Millisecond)
				}
			}
		}()
	}
	go func() {
		tick := time.NewTicker(time.Second / time.Duration(perSecond))
		defer tick.Stop()
		defer close(work)
		for ev := 0; ev < n; ev++ {
			select {
			case <-tick.C:
			case <-stop:
				return
			}
			select {
			case work <- ev:
			case <-stop:
				return
			}
		}
	}()
	// A failed test stops the senders at once.
	t.Cleanup(func() { close(stop); wg.Wait() })
	l.wait = wg.Wait
	return l
}

// ---- checks on the database ----

type checker struct {
	t       *testing.T
	dialect string
	dsn     string
}

func (c *checker) db() *sql.DB {
	driver := "pgx"
	if c.dialect == store.SQLite {
		driver = "sqlite"
	}
	db, err := sql.Open(driver, c.dsn)
	if err != nil {
		c.t.Fatal(err)
	}
	return db
}

func (c *checker) eventExpr() string {
	if c.dialect == store.SQLite {
		return "CAST(json_extract(r.trigger, '$.body.id') AS INTEGER)"
	}
	return "(r.trigger->'body'->>'id')::int"
}

// runs returns, per event, its runs' ids, states and recorded deliveries.
type runInfo struct {
	id, state  string
	deliveries int
}

func (c *checker) runs() (map[int][]runInfo, error) {
	db := c.db()
	defer db.Close()
	rows, err := db.Query(`SELECT ` + c.eventExpr() + `, r.id, r.state,
		(SELECT COUNT(*) FROM deliveries d WHERE d.run_id = r.id) FROM runs r`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int][]runInfo{}
	for rows.Next() {
		var ev int
		var ri runInfo
		if err := rows.Scan(&ev, &ri.id, &ri.state, &ri.deliveries); err != nil {
			return nil, err
		}
		out[ev] = append(out[ev], ri)
	}
	return out, rows.Err()
}

func (c *checker) nonFinal() (int, error) {
	db := c.db()
	defer db.Close()
	var n int
	err := db.QueryRow(`SELECT COUNT(*) FROM runs WHERE state NOT IN ('succeeded','failed','filtered','canceled')`).Scan(&n)
	return n, err
}

// runningIDs lists the runs being executed now: a running run or a run
// whose queue job is running.
func (c *checker) runningIDs() []string {
	db := c.db()
	defer db.Close()
	arg := "args->>'run_id'"
	if c.dialect == store.SQLite {
		arg = "json_extract(args, '$.run_id')"
	}
	rows, err := db.Query(`SELECT id FROM runs WHERE state = 'running' UNION SELECT ` + arg + ` FROM river_job WHERE state = 'running'`)
	if err != nil {
		c.t.Fatalf("listing running runs: %v", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	return ids
}

// heldBy lists the unfinished runs the process with pid holds: leased to
// it (runs.lease_owner is "host/pid/random"), or, without run leases, any
// running run or job (the caller then makes sure both workers are busy).
func (c *checker) heldBy(pid int) []string {
	if !c.hasColumn("runs", "lease_owner") {
		return c.runningIDs()
	}
	db := c.db()
	defer db.Close()
	rows, err := db.Query(`SELECT id FROM runs WHERE state NOT IN ('succeeded','failed','filtered','canceled') AND lease_owner LIKE `+c.param(),
		fmt.Sprintf("%%/%d/%%", pid))
	if err != nil {
		c.t.Fatalf("listing leased runs: %v", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	return ids
}

// busyWorkers counts the worker processes (queue clients) running a job now.
func (c *checker) busyWorkers() int {
	db := c.db()
	defer db.Close()
	by := "attempted_by[array_length(attempted_by, 1)]"
	if c.dialect == store.SQLite {
		by = "json_extract(attempted_by, '$[#-1]')"
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(DISTINCT ` + by + `) FROM river_job WHERE state = 'running'`).Scan(&n); err != nil {
		return 0
	}
	return n
}

func (c *checker) allFinal(ids []string) bool {
	if len(ids) == 0 {
		return true
	}
	db := c.db()
	defer db.Close()
	for _, id := range ids {
		var state string
		if err := db.QueryRow(`SELECT state FROM runs WHERE id = `+c.param(), id).Scan(&state); err != nil || !store.RunFinal(state) {
			return false
		}
	}
	return true
}

func (c *checker) hasColumn(table, column string) bool {
	db := c.db()
	defer db.Close()
	q := `SELECT COUNT(*) FROM information_schema.columns WHERE table_name = $1 AND column_name = $2`
	if c.dialect == store.SQLite {
		q = `SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?`
	}
	var n int
	if err := db.QueryRow(q, table, column).Scan(&n); err != nil {
		c.t.Fatalf("looking for %s.%s: %v", table, column, err)
	}
	return n > 0
}

func (c *checker) param() string {
	if c.dialect == store.SQLite {
		return "?"
	}
	return "$1"
}

// verify checks the promises once the load is done and every run ended.
func (c *checker) verify(l *loader, rcv *receiver) (runs, hits, dupHits int) {
	t := c.t
	if len(l.refused) > 0 {
		for ev, why := range l.refused {
			t.Errorf("event %d was refused: %s", ev, why)
			break
		}
		t.Fatalf("%d events got a 4xx", len(l.refused))
	}
	if int(l.accepted.Load()) != l.events {
		t.Fatalf("%d of %d events got a 2xx before the deadline", l.accepted.Load(), l.events)
	}
	byEvent, err := c.runs()
	if err != nil {
		t.Fatal(err)
	}
	for ev, runID := range l.runOf {
		rs := byEvent[ev]
		if len(rs) != 1 || rs[0].id != runID {
			t.Fatalf("event %d (accepted as run %s) has runs %+v, want exactly that one", ev, runID, rs)
		}
		if !store.RunFinal(rs[0].state) || rs[0].state != store.RunSucceeded {
			t.Fatalf("event %d: run %s is %s, want succeeded", ev, runID, rs[0].state)
		}
		runs++
	}
	if len(byEvent) != l.events {
		t.Fatalf("%d events have runs, want %d", len(byEvent), l.events)
	}
	keys := map[int]map[string]int{}
	for _, h := range rcv.snapshot() {
		if keys[h.event] == nil {
			keys[h.event] = map[string]int{}
		}
		keys[h.event][h.key]++
		hits++
	}
	for ev, ks := range keys {
		n := 0
		for k, c := range ks {
			if k == "" {
				t.Fatalf("event %d reached the receiver without an idempotency key", ev)
			}
			n += c
		}
		if len(ks) != 1 {
			t.Fatalf("event %d reached the receiver with different idempotency keys %v", ev, ks)
		}
		if n > 1 {
			dupHits += n - 1
		}
		// Attempts are written "sending" before the call: none goes unrecorded.
		if rs := byEvent[ev]; len(rs) != 1 || rs[0].deliveries < n {
			t.Errorf("event %d reached the receiver %d times but its run records %d deliveries", ev, n, rs[0].deliveries)
		}
	}
	if len(keys) != l.events {
		t.Fatalf("the receiver saw %d distinct events, want %d", len(keys), l.events)
	}
	return runs, hits, dupHits
}

const faultWorkflow = `{"schema":"switchboard/v1","name":"fault","trigger":{"type":"webhook","webhook":{"rate_limit":100000}},
 "steps":[{"id":"notify","type":"action","action":"http.request",
  "input":{"method":"POST","url":"%s/e","json":{"event":"{{ trigger.body.id }}"}}}]}`

func writeFaultWorkflow(t *testing.T, rcvURL string) string {
	path := filepath.Join(t.TempDir(), "fault.json")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(faultWorkflow, rcvURL)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// leaseEnv are the settings that bound how long a dead worker's runs wait:
// the run lease (renewed by each process's heartbeat) and, for runs held
// through the queue, the job rescue.
var leaseEnv = []string{"SWITCHBOARD_RUN_LEASE=5s", "SWITCHBOARD_JOB_TIMEOUT=5s", "SWITCHBOARD_RESCUE_AFTER=5s"}

// leaseTime is the longest a dead worker's run may wait before another
// takes it over, with the settings above; resumeBound adds the time a
// loaded two-core machine may take to notice and run it.
const (
	leaseTime   = 5 * time.Second
	resumeBound = leaseTime + 15*time.Second
)

func TestFaultsUnderLoadOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault test takes a few minutes")
	}
	const events = 2000
	pg := startCluster(t)
	dsn := pg.createDB("switchboard")
	rcv := newReceiver(t)
	common := append([]string{"DATABASE_URL=" + dsn, "SWITCHBOARD_LOG_LEVEL=warn"}, leaseEnv...)
	api1 := newProc(t, append(common, "SWITCHBOARD_ROLE=api")...)
	api2 := newProc(t, append(common, "SWITCHBOARD_ROLE=api")...)
	w1 := newProc(t, append(common, "SWITCHBOARD_ROLE=worker")...)
	w2 := newProc(t, append(common, "SWITCHBOARD_ROLE=worker")...)
	hook := importWorkflow(t, api1, writeFaultWorkflow(t, rcv.srv.URL))
	path := hook[strings.Index(hook, "/hooks/"):]
	api1.start() // applies the migrations first
	for _, p := range []*instance{api2, w1, w2} {
		p.start()
	}
	all := []*instance{api1, api2, w1, w2}
	c := &checker{t: t, dialect: store.Postgres, dsn: dsn}

	start := time.Now()
	l := load(t, func() []string { return []string{api1.url(path), api2.url(path)} }, events, 50, 16, start.Add(4*time.Minute))
	atLeast := func(frac float64) func() bool {
		return func() bool { return float64(l.accepted.Load()) >= frac*events }
	}

	// 1. SIGKILL a worker mid-load; the other takes its runs over. What runs
	// right after the kill includes every run the dead worker held: they
	// wait for the lease to lapse, the live worker's end at once.
	waitFor(t, 2*time.Minute, "a fifth of the events accepted", atLeast(0.2))
	leases := c.hasColumn("runs", "lease_owner")
	if leases {
		waitFor(t, time.Minute, "the worker to be killed holding runs", func() bool { return len(c.heldBy(w1.cmd.Process.Pid)) > 0 })
	} else {
		waitFor(t, time.Minute, "both workers running jobs", func() bool { return c.busyWorkers() == 2 })
	}
	pid := w1.cmd.Process.Pid
	w1.kill()
	orphans := c.heldBy(pid)
	if len(orphans) == 0 {
		t.Fatal("the killed worker held no runs")
	}
	var resumed time.Duration
	resumedDone := make(chan struct{})
	go func() {
		defer close(resumedDone)
		start := time.Now()
		for time.Since(start) < resumeBound+time.Minute && !c.allFinal(orphans) {
			time.Sleep(50 * time.Millisecond)
		}
		resumed = time.Since(start)
	}()

	// 2. SIGKILL an API process mid-load and restart it; senders retry.
	waitFor(t, 2*time.Minute, "45% of the events accepted", atLeast(0.45))
	api1.kill()
	apiDown := time.Now()
	api1.start()
	t.Logf("API process back %s after SIGKILL", time.Since(apiDown).Round(time.Millisecond))

	<-resumedDone
	w1.start()

	// 3. Crash and restart PostgreSQL mid-load: every process notices
	// (/readyz 503, one log line) and recovers by itself.
	waitFor(t, 2*time.Minute, "70% of the events accepted", atLeast(0.7))
	downBefore := make([]int, len(all))
	for i, p := range all {
		downBefore[i] = p.logCount("database unreachable")
	}
	pg.crash()
	dbDown := time.Now()
	for _, p := range all {
		waitFor(t, 30*time.Second, "/readyz answering 503 while PostgreSQL is down", func() bool { return p.status("/readyz") == 503 })
		if m := p.publicBody("/metrics"); !strings.Contains(m, "switchboard_database_up 0") {
			t.Errorf("/metrics during the outage does not say the database is down:\n%.500s", m)
		}
	}
	pg.start()
	restarted := time.Now()
	for _, p := range all {
		waitFor(t, 60*time.Second, "/readyz ready again after PostgreSQL came back", func() bool { return p.status("/readyz") == 200 })
	}
	t.Logf("PostgreSQL down %s; every process ready %s after it came back",
		restarted.Sub(dbDown).Round(time.Millisecond), time.Since(restarted).Round(time.Millisecond))

	l.wait()
	loadTime := time.Since(start)
	if resumed > resumeBound {
		t.Errorf("the dead worker's %d runs ended %s after it died; want within %s (lease %s)", len(orphans), resumed, resumeBound, leaseTime)
	}
	waitFor(t, 2*time.Minute, "every run final", func() bool { n, err := c.nonFinal(); return err == nil && n == 0 })
	runs, hits, dups := c.verify(l, rcv)
	for i, p := range all {
		down := p.logCount("database unreachable") - downBefore[i]
		if down < 1 || down > 2 || p.logCount("database reachable again") < 1 {
			t.Errorf("process %d logged %d outage lines and %d recovery lines for one PostgreSQL restart, want one each",
				i, down, p.logCount("database reachable again"))
		}
	}
	t.Logf("RESULT postgres: %d events (%d sender retries) in %s, %d runs, %d calls at the receiver (%d repeated with the same key); "+
		"faults: worker SIGKILL (its %d running runs ended within %s), API SIGKILL, PostgreSQL crash+restart",
		events, l.retries.Load(), loadTime.Round(time.Second), runs, hits, dups, len(orphans), resumed.Round(time.Millisecond))
}

func TestFaultsUnderLoadOnSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault test takes a minute")
	}
	const events = 1000
	rcv := newReceiver(t)
	p := newProc(t, append([]string{"SWITCHBOARD_LOG_LEVEL=warn"}, leaseEnv...)...)
	hook := importWorkflow(t, p, writeFaultWorkflow(t, rcv.srv.URL))
	path := hook[strings.Index(hook, "/hooks/"):]
	p.start()
	dataDir := ""
	for _, kv := range p.env {
		if v, ok := strings.CutPrefix(kv, "SWITCHBOARD_DATA_DIR="); ok {
			dataDir = v
		}
	}
	c := &checker{t: t, dialect: store.SQLite, dsn: "file:" + filepath.Join(dataDir, "switchboard.db") + "?mode=ro&_pragma=busy_timeout(5000)"}
	start := time.Now()
	l := load(t, func() []string { return []string{p.url(path)} }, events, 50, 16, start.Add(3*time.Minute))
	waitFor(t, 2*time.Minute, "40% of the events accepted", func() bool { return l.accepted.Load() >= events*4/10 })
	pid := p.cmd.Process.Pid
	p.kill()
	killed := time.Now()
	orphans := c.heldBy(pid)
	p.start()
	back := time.Since(killed)
	resumed := waitFor(t, resumeBound+time.Minute, "the killed process's running runs resumed after its restart",
		func() bool { return c.allFinal(orphans) })
	l.wait()
	waitFor(t, 2*time.Minute, "every run final", func() bool { n, err := c.nonFinal(); return err == nil && n == 0 })
	runs, hits, dups := c.verify(l, rcv)
	t.Logf("RESULT sqlite: %d events (%d sender retries) in %s, %d runs, %d calls at the receiver (%d repeated with the same key); "+
		"fault: SIGKILL of the only process (back in %s; its %d running runs ended %s after the restart)",
		events, l.retries.Load(), time.Since(start).Round(time.Second), runs, hits, dups, back.Round(time.Millisecond), len(orphans), resumed.Round(time.Millisecond))
}
