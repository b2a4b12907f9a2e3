// Package api is the HTTP surface: one route table (routes.go) that decides
// who may call what and what the audit log and OpenAPI document say,
// handlers per resource, problem+json errors.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/connectors/declarative"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/connections"
	"github.com/switchboard-dev/switchboard/internal/dbhealth"
	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/events"
	"github.com/switchboard-dev/switchboard/internal/flows"
	"github.com/switchboard-dev/switchboard/internal/metrics"
	"github.com/switchboard-dev/switchboard/internal/oauth"
	"github.com/switchboard-dev/switchboard/internal/plugins"
	"github.com/switchboard-dev/switchboard/internal/ratelimit"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/trigger/form"
	"github.com/switchboard-dev/switchboard/internal/trigger/webhook"
)

// Deps are what the handlers use.
type Deps struct {
	Store    *store.Store
	Flows    *flows.Service
	Webhooks *webhook.Receiver
	Forms    *form.Receiver // hosted forms at /forms/{token}; nil answers 404
	Registry *connectors.Registry
	// Connectors loads, uploads and disables declarative connectors in
	// Registry; nil answers 501 on the admin connector routes.
	Connectors *declarative.Loader
	// Plugins uploads and switches WebAssembly plugins; nil answers 501 to
	// an application/wasm upload.
	Plugins *plugins.Manager
	Runs    RunControl
	// Connections manages credentials; OutboundClient is the guarded client
	// connection tests use.
	Connections    *connections.Service
	OutboundClient *http.Client
	// OutboundDial dials raw connections (SMTP) under the same policy.
	OutboundDial func(ctx context.Context, network, addr string) (net.Conn, error)
	OAuth        *oauth.Manager // OAuth2 flows of connections; nil answers 501 on them
	Auth         *auth.Service
	// Health answers /readyz and decides 503 versus 500 on storage errors;
	// nil pings the store on every /readyz.
	Health *dbhealth.Monitor
	// Limits are the process's rate limiters, shown in /metrics (may be nil).
	Limits *ratelimit.Registry
	Events *events.Service // subscriptions to Switchboard's own events; nil answers 501
	// Retention is the configured run-history limit; an admin's setting
	// (GET/PUT /settings) overrides it while the instance runs.
	Retention engine.Retention
	// Metrics exposes /metrics: "public" (default), "admin" or "off".
	Metrics string
	// Prometheus is the process's metrics registry (nil: the API makes its
	// own); the API adds the database gauges and serves it at /metrics.
	Prometheus *metrics.Metrics
	// WorkflowsChanged is called after any workflow change (may be nil).
	WorkflowsChanged func()
	// TrustedProxies are the peers whose X-Forwarded-For names the client
	// (login limits, audit log); none by default, so no client can pick
	// its own address.
	TrustedProxies []netip.Prefix
	PublicURL      string // for cookies (Secure on https) and the OpenAPI servers list
	// HooksURL is where /hooks/ and /forms/ are served from ("": PublicURL).
	// When its host differs from PublicURL's, each host serves only its own
	// half: hook and form replies (written by editors) never come from the
	// app's origin, and the app never from the hooks origin.
	HooksURL string
	// HSTS is the Strict-Transport-Security value sent on HTTPS requests
	// ("" sends none).
	HSTS   string
	UI     http.Handler // the embedded app; nil serves nothing at /
	Logger *slog.Logger
}

type server struct {
	Deps
	started        time.Time
	metricsHandler http.Handler
}

const requestIDKey = "request_id"

func newServer(d Deps) (*server, *gin.Engine) {
	gin.SetMode(gin.ReleaseMode)
	if d.Prometheus == nil {
		d.Prometheus = metrics.New()
	}
	if d.Health == nil {
		d.Health = dbhealth.New(d.Store.Ping, dbhealth.Options{Logger: d.Logger})
	}
	s := &server{Deps: d, started: time.Now()}
	s.registerMetrics()
	r := gin.New()
	r.HandleMethodNotAllowed = false
	proxies := make([]string, len(d.TrustedProxies))
	for i, p := range d.TrustedProxies {
		proxies[i] = p.String()
	}
	if len(proxies) == 0 {
		proxies = nil // Gin trusts every peer unless told otherwise
	}
	if err := r.SetTrustedProxies(proxies); err != nil {
		d.Logger.Error("trusted proxies refused", "error", err)
	}
	r.Use(s.requestID, s.accessLog, s.countResponses, s.recover, s.hsts)

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	switch d.Metrics {
	case "", "public":
		r.GET("/metrics", s.metrics)
	case "admin":
		r.GET("/metrics", s.require(admin), s.metrics)
	}
	return s, r
}

// NewOps returns the handler a worker-only process serves: /healthz,
// /readyz and /metrics, so probes and scrapers treat every process alike.
func NewOps(d Deps) http.Handler {
	_, r := newServer(d)
	r.NoRoute(func(c *gin.Context) {
		problem(c, http.StatusNotFound, "a worker serves only /healthz, /readyz and /metrics")
	})
	return r
}

// New returns the router.
func New(d Deps) http.Handler {
	s, r := newServer(d)
	if split := s.originSplit(); split != nil {
		r.Use(split)
	}
	r.Any("/hooks/:token", hookHeaders, s.hook)
	r.Any("/hooks/:token/test", hookHeaders, s.hookTest)
	r.GET("/forms/:token", s.formPage)
	r.POST("/forms/:token", s.formSubmit)

	doc, docErr := s.openAPI()
	r.GET("/api/openapi.json", func(c *gin.Context) {
		if docErr != nil {
			_ = c.Error(docErr)
			problem(c, http.StatusInternalServerError, "the OpenAPI document could not be built; see the server log")
			return
		}
		c.Data(http.StatusOK, "application/json; charset=utf-8", doc)
	})
	s.mount(r.Group("/api/v1"))

	r.NoRoute(func(c *gin.Context) {
		p := c.Request.URL.Path
		if strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/hooks/") || s.UI == nil ||
			(c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead) {
			problem(c, http.StatusNotFound, "no such endpoint: "+c.Request.Method+" "+p)
			return
		}
		s.UI.ServeHTTP(c.Writer, c.Request)
	})
	return r
}

// originSplit keeps the app and the hooks apart when HooksURL names a host
// of its own: on the app's host, /hooks/ and /forms/ answer 404 (except the
// editor's test URL, whose reply is Switchboard's own); on the hooks host,
// only they (and the probes) are served. Only a Host header that names one
// of the two is acted on, so a proxy that rewrites Host still works, just
// without the split. nil when there is nothing to split.
func (s *server) originSplit() gin.HandlerFunc {
	app, err1 := url.Parse(s.PublicURL)
	hooks, err2 := url.Parse(s.HooksURL)
	if s.HooksURL == "" || err1 != nil || err2 != nil || strings.EqualFold(app.Host, hooks.Host) {
		return nil
	}
	return func(c *gin.Context) {
		p := c.Request.URL.Path
		public := strings.HasPrefix(p, "/hooks/") || strings.HasPrefix(p, "/forms/")
		probe := p == "/healthz" || p == "/readyz" || p == "/metrics"
		switch {
		case strings.EqualFold(c.Request.Host, app.Host) && public && !isTestURL(p):
			problem(c, http.StatusNotFound, "webhooks and forms are served at "+s.HooksURL)
			c.Abort()
		case strings.EqualFold(c.Request.Host, hooks.Host) && !public && !probe:
			problem(c, http.StatusNotFound, "this host serves only webhooks and forms; the app is at "+s.PublicURL)
			c.Abort()
		default:
			c.Next()
		}
	}
}

// isTestURL reports /hooks/{token}/test.
func isTestURL(p string) bool {
	rest, ok := strings.CutPrefix(p, "/hooks/")
	tok, tail, _ := strings.Cut(rest, "/")
	return ok && tok != "" && tail == "test"
}

func (s *server) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if id == "" || len(id) > 64 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(requestIDKey, id)
	c.Header("X-Request-Id", id)
	c.Next()
}

func (s *server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	attrs := []any{"method", c.Request.Method, "route", c.FullPath(), "status", c.Writer.Status(),
		"duration_ms", time.Since(start).Milliseconds(), "request_id", c.GetString(requestIDKey)}
	if len(c.Errors) > 0 {
		s.Logger.Error("request failed", append(attrs, "error", c.Errors.String())...)
		return
	}
	s.Logger.Debug("request", attrs...)
}

func (s *server) recover(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			s.Logger.Error("handler panicked", "panic", r, "request_id", c.GetString(requestIDKey))
			problem(c, http.StatusInternalServerError, "internal error")
		}
	}()
	c.Next()
}

func (s *server) healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

// readyz pings the database now (the monitor logs the change of state once,
// not per probe), so a probe sees a recovery at once.
func (s *server) readyz(c *gin.Context) {
	if err := s.Health.Check(c.Request.Context()); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "database": "unreachable"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// hookHeaders make every webhook answer inert in a browser: a sync reply is
// shaped by a workflow's editor and served from the app's own origin, so it
// must never be sniffed into a page, run a script or be framed.
func hookHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	c.Next()
}

// hsts tells browsers to keep to HTTPS; sent only on TLS connections, as
// RFC 6797 asks.
func (s *server) hsts(c *gin.Context) {
	if s.HSTS != "" && c.Request.TLS != nil {
		c.Header("Strict-Transport-Security", s.HSTS)
	}
	c.Next()
}
