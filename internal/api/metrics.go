package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/switchboard-dev/switchboard/internal/metrics"
)

// registerMetrics adds what the API observes to the process's registry: the
// database gauges (read at scrape time) and this process's uptime.
func (s *server) registerMetrics() {
	m := s.Prometheus
	for i := 1; i <= 5; i++ { // every class shows, 0 until seen
		m.HTTPResponses.WithLabelValues(metrics.StatusClass(i * 100))
	}
	m.Registry.MustRegister(
		metrics.NewGaugeCollector("runs", "Runs by state.", "state", s.Store.CountRunsByState),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metrics.Namespace, Name: "uptime_seconds",
			Help: "Seconds since this process started."}, func() float64 { return time.Since(s.started).Seconds() }),
	)
	if s.Runs != nil {
		m.Registry.MustRegister(metrics.NewGaugeCollector("queue_jobs", "Queue jobs by state.", "state", s.Runs.CountJobsByState))
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

// metrics serves the registry; an unreachable database answers 503 as a
// whole rather than a page missing its gauges.
func (s *server) metrics(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 5*time.Second)
	defer cancel()
	if err := s.Store.Ping(ctx); err != nil {
		c.String(http.StatusServiceUnavailable, "# database unavailable\n")
		return
	}
	s.metricsHandler.ServeHTTP(c.Writer, c.Request)
}
