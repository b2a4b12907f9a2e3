// Package metrics is the one place Switchboard's Prometheus metrics are
// declared. app builds one Metrics per process and hands it to the parts
// that observe something (constructor injection, no package globals); the API
// serves its registry at /metrics.
//
// To add a metric: add a field here, build and register it in New, and take
// *Metrics in the Options of the package that observes it (nil there means
// "not wired": use metrics.New() or a nil check).
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every Switchboard metric.
const Namespace = "switchboard"

// Latency buckets from a millisecond to a minute: webhook replies and steps
// are usually fast, a slow connector or a sync reply can take long.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// Metrics holds the registry and every metric Switchboard observes.
type Metrics struct {
	Registry *prometheus.Registry

	// HTTPResponses counts answered HTTP requests by status class ("2xx").
	HTTPResponses *prometheus.CounterVec
	// WebhookReply is the time from a webhook request's arrival to its
	// reply, by status code.
	WebhookReply *prometheus.HistogramVec
	// StepDuration is how long a step took to finish, by step type and
	// final state.
	StepDuration *prometheus.HistogramVec
	// DeliveryLatency is one outbound HTTP attempt of a connector, by
	// outcome ("2xx".."5xx" or "error").
	DeliveryLatency *prometheus.HistogramVec
}

// New builds a registry with the Go runtime and process collectors and
// Switchboard's own metrics. Each call is independent (tests build their own).
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		Registry: reg,
		HTTPResponses: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace,
			Name: "http_responses_total", Help: "HTTP responses by status class since start."}, []string{"code"}),
		WebhookReply: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace,
			Name: "webhook_reply_seconds", Help: "Time from a webhook request to its reply, by status code.",
			Buckets: latencyBuckets}, []string{"code"}),
		StepDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace,
			Name: "step_duration_seconds", Help: "Time a step took to finish, by step type and state.",
			Buckets: latencyBuckets}, []string{"type", "state"}),
		DeliveryLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace,
			Name: "delivery_latency_seconds", Help: "Latency of one outbound HTTP attempt, by outcome.",
			Buckets: latencyBuckets}, []string{"outcome"}),
	}
	reg.MustRegister(m.HTTPResponses, m.WebhookReply, m.StepDuration, m.DeliveryLatency)
	return m
}

// StatusClass names a status code's class for a label: "2xx", or "error"
// for 0 (no response).
func StatusClass(code int) string {
	if code < 100 || code > 599 {
		return "error"
	}
	return string(rune('0'+code/100)) + "xx"
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler(log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{
		ErrorLog:      slogErrorLog{log},
		ErrorHandling: promhttp.HTTPErrorOnError,
		Timeout:       10 * time.Second,
	})
}

type slogErrorLog struct{ log *slog.Logger }

func (l slogErrorLog) Println(v ...any) {
	if l.log != nil {
		l.log.Warn("metrics scrape", "error", v)
	}
}

// Gauges reads counts by label at scrape time (from the database).
type Gauges func(ctx context.Context) (map[string]int64, error)

// GaugeCollector exposes counts read at scrape time as one gauge with one
// label, for example runs by state read from the database.
type GaugeCollector struct {
	desc *prometheus.Desc
	read Gauges
}

// NewGaugeCollector describes the gauge name (without the namespace) with
// its help text and label, read by read on every scrape.
func NewGaugeCollector(name, help, label string, read Gauges) *GaugeCollector {
	return &GaugeCollector{desc: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, []string{label}, nil), read: read}
}

// Describe implements prometheus.Collector.
func (g *GaugeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

// Collect implements prometheus.Collector.
func (g *GaugeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := g.read(ctx)
	if err != nil {
		// Left out while the database is unreachable: the process's own
		// metrics (switchboard_database_up 0) are what a scraper needs then.
		return
	}
	for k, v := range counts {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(v), k)
	}
}

var _ prometheus.Collector = (*GaugeCollector)(nil)
