// Command harness runs scenario S1 (webhook -> filter total>100 -> map ->
// http.request POST to a local sink, 80 % pass) against the real switchboard
// binary on SQLite and PostgreSQL, and the same load tool against a bare Go
// handler in the same run (the ceiling), and prints one table.
//
//	go run ./bench/harness -bin bin/switchboard -load /tmp/load -sink /tmp/sink
//
// It is a measuring tool (make bench), not part of the product or the tests.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

type phase struct {
	Name string
	C    int
	Rate float64
	N    int
	Max  time.Duration
}

var phases = []phase{
	{Name: "c1", C: 1, N: 100000, Max: 3 * time.Second},
	{Name: "c16", C: 16, N: 100000, Max: 4 * time.Second},
	{Name: "c64", C: 64, N: 100000, Max: 4 * time.Second},
	{Name: "r40", C: 64, Rate: 40, N: 200},
	{Name: "r500", C: 256, Rate: 500, N: 2500},
}

type loadReport struct {
	Accepted     int64          `json:"accepted"`
	AcceptedPerS float64        `json:"accepted_per_s"`
	ElapsedS     float64        `json:"elapsed_s"`
	Expected     int64          `json:"expected_deliveries"`
	Status       map[string]int `json:"status"`
	P50Ms        float64        `json:"p50_ms"`
	P99Ms        float64        `json:"p99_ms"`
	Errors       int64          `json:"errors"`
	FirstError   string         `json:"first_error"`
}

type sinkStats struct {
	Count int64   `json:"count"`
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
}

type row struct {
	Target, Phase         string
	Accepted, AcceptedPS  float64
	RunsPS                float64
	ReplyP50, ReplyP99    float64
	E2EP50, E2EP99        float64
	RSSIdle, RSSMax       float64 // MiB
	CPUmsPerRun, BytesRun float64
	Note                  string
}

var (
	bin      = flag.String("bin", "bin/switchboard", "switchboard binary")
	loadBin  = flag.String("load", "", "load tool binary")
	sinkBin  = flag.String("sink", "", "sink binary")
	dbs      = flag.String("db", "sqlite,postgres", "databases to measure")
	pgBase   = flag.String("pg", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "a PostgreSQL URL to create the bench database from")
	only     = flag.String("phases", "", "comma-separated phase names (default all)")
	profile  = flag.String("profile", "", "write CPU profiles of the c16 phase to this folder (needs SWITCHBOARD_PPROF support)")
	jsonOut  = flag.String("json", "", "also write the rows as JSON to this file")
	extraEnv = flag.String("env", "", "extra KEY=VALUE,... for the server")
)

func main() {
	flag.Parse()
	if *loadBin == "" || *sinkBin == "" {
		fail(fmt.Errorf("-load and -sink are required"))
	}
	sel := phases
	if *only != "" {
		sel = nil
		for _, p := range phases {
			if strings.Contains(","+*only+",", ","+p.Name+",") {
				sel = append(sel, p)
			}
		}
	}
	sinkAddr := freeAddr()
	sink := start(*sinkBin, nil, "-addr", sinkAddr)
	defer stop(sink)
	waitHTTP("http://" + sinkAddr + "/stats")

	var rows []row
	rows = append(rows, ceiling(sel)...)
	for _, db := range strings.Split(*dbs, ",") {
		r, err := measure(db, sinkAddr, sel)
		if err != nil {
			fmt.Fprintf(os.Stderr, "harness: %s: %v\n", db, err)
		}
		rows = append(rows, r...)
	}
	print(rows)
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(rows, "", "  ")
		_ = os.WriteFile(*jsonOut, b, 0o644)
	}
}

// ceiling measures the load tool against a handler that reads the body and
// answers 202: what this machine gives any Go HTTP server right now.
func ceiling(sel []phase) []row {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"run_id":"x"}`))
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	var out []row
	for _, p := range sel {
		rep := runLoad("http://"+ln.Addr().String()+"/hooks/bare", p, 1)
		out = append(out, row{Target: "bare Go", Phase: p.Name, Accepted: float64(rep.Accepted), AcceptedPS: rep.AcceptedPerS,
			ReplyP50: rep.P50Ms, ReplyP99: rep.P99Ms})
	}
	return out
}

func measure(db, sinkAddr string, sel []phase) ([]row, error) {
	dir, err := os.MkdirTemp("", "sb-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	addr := freeAddr()
	env := []string{"SWITCHBOARD_DATA_DIR=" + dir, "SWITCHBOARD_ADDR=" + addr, "SWITCHBOARD_OUTBOUND_ALLOW=127.0.0.1",
		"SWITCHBOARD_WEBHOOK_RATE=1000000", "SWITCHBOARD_RETENTION_RUNS=0", "SWITCHBOARD_RETENTION_AGE=0",
		"SWITCHBOARD_LOG_LEVEL=warn", "DATABASE_URL=", "SWITCHBOARD_DATABASE_URL="}
	var dsn, driver string
	switch db {
	case "sqlite":
		driver, dsn = "sqlite", "file:"+filepath.Join(dir, "switchboard.db")+"?_pragma=busy_timeout(10000)"
	case "postgres":
		name := fmt.Sprintf("sb_bench_%d", time.Now().UnixNano())
		admin, err := sql.Open("pgx", *pgBase)
		if err != nil {
			return nil, err
		}
		if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
			admin.Close()
			return nil, fmt.Errorf("creating bench database: %w", err)
		}
		defer func() {
			_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			admin.Close()
		}()
		dsn = regexp.MustCompile(`/[^/?]*(\?|$)`).ReplaceAllString(*pgBase, "/"+name+"$1")
		driver = "pgx"
		env = append(env, "DATABASE_URL="+dsn)
	default:
		return nil, fmt.Errorf("unknown database %q", db)
	}
	if *extraEnv != "" {
		env = append(env, strings.Split(*extraEnv, ",")...)
	}
	if *profile != "" {
		env = append(env, "SWITCHBOARD_PPROF=127.0.0.1:0")
	}
	// Import the workflow (pointing at the sink) before the server starts.
	doc, err := os.ReadFile(filepath.Join(filepath.Dir(os.Args[0]), "s1-workflow.json"))
	if err != nil {
		doc, err = os.ReadFile("bench/s1-workflow.json")
		if err != nil {
			return nil, err
		}
	}
	doc = []byte(strings.ReplaceAll(string(doc), "127.0.0.1:9999", sinkAddr))
	wf := filepath.Join(dir, "s1.json")
	if err := os.WriteFile(wf, doc, 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(*bin, "workflow", "import", wf)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "SWITCHBOARD_PUBLIC_URL=http://"+addr)
	outb, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("importing workflow: %v: %s", err, outb)
	}
	m := regexp.MustCompile(`webhook URL: (\S+)`).FindSubmatch(outb)
	if m == nil {
		return nil, fmt.Errorf("no webhook URL in %q", outb)
	}
	hook := string(m[1])

	srv := start(*bin, env, "serve")
	defer stop(srv)
	waitHTTP("http://" + addr + "/healthz")
	time.Sleep(2 * time.Second) // settle: idle means after start-up work
	idle := rssMiB(srv.Process.Pid, "VmRSS")

	dbh, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, err
	}
	defer dbh.Close()
	base := dbBytes(dbh, db)

	var out []row
	totalRuns := int64(0)
	idBase := 1
	for _, p := range sel {
		before := finalRuns(dbh)
		resetSink(sinkAddr)
		cpu0 := cpuMS(srv.Process.Pid)
		t0 := time.Now()
		var stopProf func()
		if *profile != "" && p.Name == "c16" {
			stopProf = startProfile(srv, db)
		}
		rep := runLoad(hook, p, idBase)
		idBase += 1000000
		want := before + rep.Accepted
		// Wait until every accepted run is final (bounded).
		var done time.Time
		deadline := time.Now().Add(90 * time.Second)
		for time.Now().Before(deadline) {
			if finalRuns(dbh) >= want {
				done = time.Now()
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if stopProf != nil {
			stopProf()
		}
		r := row{Target: db, Phase: p.Name, Accepted: float64(rep.Accepted), AcceptedPS: rep.AcceptedPerS,
			ReplyP50: rep.P50Ms, ReplyP99: rep.P99Ms, RSSIdle: idle, RSSMax: rssMiB(srv.Process.Pid, "VmHWM")}
		if done.IsZero() {
			r.Note = fmt.Sprintf("not drained: %d of %d final", finalRuns(dbh)-before, rep.Accepted)
			done = time.Now()
		}
		if rep.Errors > 0 || len(rep.Status) > 1 {
			r.Note += fmt.Sprintf(" status=%v errors=%d %s", rep.Status, rep.Errors, rep.FirstError)
		}
		r.RunsPS = float64(rep.Accepted) / done.Sub(t0).Seconds()
		s := sinkStatsOf(sinkAddr)
		if s.Count != rep.Expected {
			r.Note += fmt.Sprintf(" sink got %d of %d", s.Count, rep.Expected)
		}
		r.E2EP50, r.E2EP99 = s.P50Ms, s.P99Ms
		if rep.Accepted > 0 {
			r.CPUmsPerRun = (cpuMS(srv.Process.Pid) - cpu0) / float64(rep.Accepted)
		}
		totalRuns += rep.Accepted
		out = append(out, r)
		fmt.Fprintf(os.Stderr, "harness: %s %s: %.0f accepted/s, %.0f runs/s, e2e p50 %.1f ms p99 %.1f ms %s\n",
			db, p.Name, r.AcceptedPS, r.RunsPS, r.E2EP50, r.E2EP99, r.Note)
	}
	if totalRuns > 0 {
		per := float64(dbBytes(dbh, db)-base) / float64(totalRuns)
		for i := range out {
			out[i].BytesRun = per
		}
	}
	return out, nil
}

func runLoad(url string, p phase, idBase int) loadReport {
	args := []string{"-url", url, "-n", strconv.Itoa(p.N), "-c", strconv.Itoa(p.C), "-id-base", strconv.Itoa(idBase)}
	if p.Rate > 0 {
		args = append(args, "-rate", fmt.Sprint(p.Rate))
	}
	if p.Max > 0 {
		args = append(args, "-max-duration", p.Max.String())
	}
	cmd := exec.Command(*loadBin, args...)
	cmd.Stderr = io.Discard
	out, err := cmd.Output()
	if err != nil {
		fail(fmt.Errorf("load: %w", err))
	}
	var rep loadReport
	if err := json.Unmarshal(out, &rep); err != nil {
		fail(fmt.Errorf("load report: %w", err))
	}
	return rep
}

func finalRuns(db *sql.DB) int64 {
	var n int64
	_ = db.QueryRow(`SELECT count(*) FROM runs WHERE state IN ('succeeded','failed','filtered','canceled')`).Scan(&n)
	return n
}

// dbBytes is the space the database uses: PostgreSQL's database size, or
// SQLite's used pages (the WAL is checkpointed into them by the server).
func dbBytes(db *sql.DB, dialect string) int64 {
	var n int64
	if dialect == "postgres" {
		_ = db.QueryRow(`SELECT pg_database_size(current_database())`).Scan(&n)
		return n
	}
	var pages, free, size int64
	_ = db.QueryRow(`PRAGMA page_count`).Scan(&pages)
	_ = db.QueryRow(`PRAGMA freelist_count`).Scan(&free)
	_ = db.QueryRow(`PRAGMA page_size`).Scan(&size)
	return (pages - free) * size
}

func resetSink(addr string) {
	resp, err := http.Post("http://"+addr+"/reset", "text/plain", nil)
	if err == nil {
		resp.Body.Close()
	}
}

func sinkStatsOf(addr string) sinkStats {
	var s sinkStats
	resp, err := http.Get("http://" + addr + "/stats")
	if err != nil {
		fail(err)
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(&s)
	return s
}

func rssMiB(pid int, field string) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), field+":") {
			fs := strings.Fields(sc.Text())
			kb, _ := strconv.ParseFloat(fs[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// cpuMS is user+system CPU time of pid in milliseconds.
func cpuMS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	fs := strings.Fields(s[strings.LastIndex(s, ")")+2:])
	ut, _ := strconv.ParseFloat(fs[11], 64)
	st, _ := strconv.ParseFloat(fs[12], 64)
	return (ut + st) * 10 // USER_HZ is 100 on Linux
}

var pprofAddr = regexp.MustCompile(`pprof.*addr=(\S+)`)

// startProfile collects a CPU profile from the server's loopback pprof
// listener (its address is in the server's log) until the returned func.
func startProfile(srv *exec.Cmd, db string) func() {
	addr := serverPprof
	if addr == "" {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, kind := range []string{"profile?seconds=8"} {
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/debug/pprof/"+kind, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			_ = os.MkdirAll(*profile, 0o755)
			_ = os.WriteFile(filepath.Join(*profile, db+"-cpu.pprof"), b, 0o644)
		}
	}()
	return func() {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cancel()
		}
	}
}

var serverPprof string

func start(path string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, _ := cmd.StderrPipe()
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		fail(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if m := pprofAddr.FindStringSubmatch(line); m != nil {
				serverPprof = strings.Trim(m[1], `"`)
			}
			if strings.Contains(line, "level=ERROR") || strings.Contains(line, "panic") {
				fmt.Fprintln(os.Stderr, "server:", line)
			}
		}
	}()
	return cmd
}

func stop(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func waitHTTP(url string) {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return
			}
		}
	}
	fail(fmt.Errorf("%s did not answer", url))
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func print(rows []row) {
	ceil := map[string]row{}
	for _, r := range rows {
		if r.Target == "bare Go" {
			ceil[r.Phase] = r
		}
	}
	fmt.Println("| target | phase | accepted | accepted/s (×ceiling) | runs/s (×ceiling) | reply p50/p99 ms (×ceiling) | e2e p50/p99 ms (×ceiling reply) | RSS idle/max MiB | CPU ms/run | bytes/run | note |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range rows {
		c := ceil[r.Phase]
		ratio := func(v float64) string {
			if c.AcceptedPS <= 0 || r.Target == "bare Go" {
				return ""
			}
			return fmt.Sprintf(" (%.2f)", v/c.AcceptedPS)
		}
		// Latencies as multiples of the bare handler's reply latency.
		times := func(p50, p99 float64) string {
			if r.Target == "bare Go" || c.ReplyP50 <= 0 || c.ReplyP99 <= 0 {
				return ""
			}
			return fmt.Sprintf(" (×%.0f / ×%.0f)", p50/c.ReplyP50, p99/c.ReplyP99)
		}
		runs := "—"
		if r.Target != "bare Go" {
			runs = fmt.Sprintf("%.0f%s", r.RunsPS, ratio(r.RunsPS))
		}
		fmt.Printf("| %s | %s | %.0f | %.0f%s | %s | %.1f / %.1f%s | %s | %s | %s | %s | %s |\n",
			r.Target, r.Phase, r.Accepted, r.AcceptedPS, ratio(r.AcceptedPS), runs, r.ReplyP50, r.ReplyP99, times(r.ReplyP50, r.ReplyP99),
			dash(r.Target, fmt.Sprintf("%.1f / %.1f%s", r.E2EP50, r.E2EP99, times(r.E2EP50, r.E2EP99))),
			dash(r.Target, fmt.Sprintf("%.0f / %.0f", r.RSSIdle, r.RSSMax)),
			dash(r.Target, fmt.Sprintf("%.2f", r.CPUmsPerRun)), dash(r.Target, fmt.Sprintf("%.0f", r.BytesRun)), strings.TrimSpace(r.Note))
	}
}

func dash(target, s string) string {
	if target == "bare Go" {
		return "—"
	}
	return s
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "harness:", err)
	os.Exit(1)
}
