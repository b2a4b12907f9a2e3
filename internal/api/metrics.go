package api

import (
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/switchboard-dev/switchboard/internal/metrics"
	"github.com/switchboard-dev/switchboard/internal/ratelimit"
)

// registerMetrics adds what the API process shows to its registry: the
// database gauges (read at scrape time, left out while the database cannot
// be reached: switchboard_database_up says so), the rate limits, and this
// process's uptime.
func (s *server) registerMetrics() {
	m := s.Prometheus
	for i := 1; i <= 5; i++ { // every class shows, 0 until seen
		m.HTTPResponses.WithLabelValues(metrics.StatusClass(i * 100))
	}
	m.Registry.MustRegister(
		metrics.NewGaugeCollector("runs", "Runs by state.", "state", s.Store.CountRunsByState),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metrics.Namespace, Name: "uptime_seconds",
			Help: "Seconds since this process started."}, func() float64 { return time.Since(s.started).Seconds() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metrics.Namespace, Name: "database_up",
			Help: "Whether this process reaches its database (last check)."}, func() float64 {
			if s.Health.Ready() == nil {
				return 1
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: metrics.Namespace, Name: "database_outages_total",
			Help: "Times this process lost its database since start."}, func() float64 { return float64(s.Health.Faults()) }),
	)
	if s.Runs != nil {
		m.Registry.MustRegister(metrics.NewGaugeCollector("queue_jobs", "Queue jobs by state.", "state", s.Runs.CountJobsByState))
	}
	if s.Limits != nil {
		m.Registry.MustRegister(limitCollector{s.Limits})
	}
	s.metricsHandler = m.Handler(s.Logger)
}

// countResponses counts answered requests by status class.
func (s *server) countResponses(c *gin.Context) {
	c.Next()
	if code := c.Writer.Status(); code >= 100 && code <= 599 {
		s.Prometheus.HTTPResponses.WithLabelValues(metrics.StatusClass(code)).Inc()
	}
}

// metrics serves the registry in the Prometheus format.
func (s *server) metrics(c *gin.Context) { s.metricsHandler.ServeHTTP(c.Writer, c.Request) }

var (
	limitPerMinute = prometheus.NewDesc("switchboard_rate_limit_per_minute",
		"Default sustained rate of each limit (requests a minute per key).", []string{"limit", "scope"}, nil)
	limitBurst = prometheus.NewDesc("switchboard_rate_limit_burst",
		"Default burst of each limit (requests at once per key).", []string{"limit", "scope"}, nil)
	limitDecisions = prometheus.NewDesc("switchboard_rate_limit_decisions_total",
		"Requests each limit let through, refused, or could not check (database unreachable: let through).", []string{"limit", "decision"}, nil)
)

// limitCollector shows every rate limit: its rate, burst and scope
// ("database": one limit for all processes; "process": per process) and its
// decisions.
type limitCollector struct{ limits *ratelimit.Registry }

func (l limitCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- limitPerMinute
	ch <- limitBurst
	ch <- limitDecisions
}

func (l limitCollector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range l.limits.Stats() {
		ch <- prometheus.MustNewConstMetric(limitPerMinute, prometheus.GaugeValue, float64(st.PerMinute), st.Name, st.Scope)
		ch <- prometheus.MustNewConstMetric(limitBurst, prometheus.GaugeValue, float64(st.Burst), st.Name, st.Scope)
		ch <- prometheus.MustNewConstMetric(limitDecisions, prometheus.CounterValue, float64(st.Allowed), st.Name, "allowed")
		ch <- prometheus.MustNewConstMetric(limitDecisions, prometheus.CounterValue, float64(st.Refused), st.Name, "refused")
		ch <- prometheus.MustNewConstMetric(limitDecisions, prometheus.CounterValue, float64(st.Failures), st.Name, "unchecked")
	}
}
