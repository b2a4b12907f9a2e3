package api

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
)

// httpCounts counts answered requests by status class, for /metrics.
type httpCounts struct{ byClass [6]atomic.Int64 }

func (h *httpCounts) middleware(c *gin.Context) {
	c.Next()
	if class := c.Writer.Status() / 100; class >= 1 && class <= 5 {
		h.byClass[class].Add(1)
	}
}

// metrics answers in the Prometheus text format, without a client library:
// a handful of gauges and counters read from the database and this process.
func (s *server) metrics(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 5*time.Second)
	defer cancel()
	var b strings.Builder
	write := func(name, help, typ string, values map[string]int64, label string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		keys := make([]string, 0, len(values))
		for k := range values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if label == "" {
				fmt.Fprintf(&b, "%s %d\n", name, values[k])
			} else {
				fmt.Fprintf(&b, "%s{%s=%q} %d\n", name, label, k, values[k])
			}
		}
	}
	// The gauges read from the database are left out while it is
	// unreachable; the process's own metrics (switchboard_database_up = 0)
	// are what a scraper needs then.
	if runs, err := s.Store.CountRunsByState(ctx); err == nil {
		write("switchboard_runs", "Runs by state.", "gauge", runs, "state")
	}
	if jobs, err := s.Store.CountJobsByState(ctx); err == nil {
		write("switchboard_queue_jobs", "Queue jobs by state.", "gauge", jobs, "state")
	}
	reqs := map[string]int64{}
	for i := 1; i <= 5; i++ {
		reqs[fmt.Sprintf("%dxx", i)] = s.counts.byClass[i].Load()
	}
	write("switchboard_http_responses_total", "HTTP responses by status class since start.", "counter", reqs, "code")
	s.writeLimits(&b)
	fmt.Fprintf(&b, "# HELP switchboard_database_up Whether this process reaches its database (last check).\n# TYPE switchboard_database_up gauge\nswitchboard_database_up %d\n", boolInt(s.Health.Ready() == nil))
	fmt.Fprintf(&b, "# HELP switchboard_database_outages_total Times this process lost its database since start.\n# TYPE switchboard_database_outages_total counter\nswitchboard_database_outages_total %d\n", s.Health.Faults())
	write("switchboard_uptime_seconds", "Seconds since this process started.", "gauge",
		map[string]int64{"": int64(time.Since(s.started).Seconds())}, "")
	c.Data(http.StatusOK, "text/plain; version=0.0.4; charset=utf-8", []byte(b.String()))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// writeLimits shows every rate limit: its rate, burst and scope ("database":
// one limit for all processes; "process": per process) and its decisions.
func (s *server) writeLimits(b *strings.Builder) {
	if s.Limits == nil {
		return
	}
	stats := s.Limits.Stats()
	fmt.Fprint(b, "# HELP switchboard_rate_limit_per_minute Default sustained rate of each limit (requests a minute per key).\n# TYPE switchboard_rate_limit_per_minute gauge\n")
	for _, l := range stats {
		fmt.Fprintf(b, "switchboard_rate_limit_per_minute{limit=%q,scope=%q} %d\n", l.Name, l.Scope, l.PerMinute)
	}
	fmt.Fprint(b, "# HELP switchboard_rate_limit_burst Default burst of each limit (requests at once per key).\n# TYPE switchboard_rate_limit_burst gauge\n")
	for _, l := range stats {
		fmt.Fprintf(b, "switchboard_rate_limit_burst{limit=%q,scope=%q} %d\n", l.Name, l.Scope, l.Burst)
	}
	fmt.Fprint(b, "# HELP switchboard_rate_limit_decisions_total Requests each limit let through, refused, or could not check (database unreachable: let through).\n# TYPE switchboard_rate_limit_decisions_total counter\n")
	for _, l := range stats {
		fmt.Fprintf(b, "switchboard_rate_limit_decisions_total{limit=%q,decision=\"allowed\"} %d\n", l.Name, l.Allowed)
		fmt.Fprintf(b, "switchboard_rate_limit_decisions_total{limit=%q,decision=\"refused\"} %d\n", l.Name, l.Refused)
		fmt.Fprintf(b, "switchboard_rate_limit_decisions_total{limit=%q,decision=\"unchecked\"} %d\n", l.Name, l.Failures)
	}
}
