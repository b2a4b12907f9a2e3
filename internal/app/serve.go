package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/api"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/config"
	"github.com/switchboard-dev/switchboard/internal/connections"
	"github.com/switchboard-dev/switchboard/internal/dbhealth"
	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/events"
	"github.com/switchboard-dev/switchboard/internal/flows"
	"github.com/switchboard-dev/switchboard/internal/metrics"
	"github.com/switchboard-dev/switchboard/internal/netguard"
	"github.com/switchboard-dev/switchboard/internal/oauth"
	"github.com/switchboard-dev/switchboard/internal/ratelimit"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/tlsconf"
	"github.com/switchboard-dev/switchboard/internal/trigger/form"
	"github.com/switchboard-dev/switchboard/internal/trigger/schedule"
	"github.com/switchboard-dev/switchboard/internal/trigger/webhook"
	"github.com/switchboard-dev/switchboard/internal/webui"
)

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, log, st, err := configuredStore(ctx, "serve", args, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	if cfg.Pprof != "" {
		stopPprof, err := servePprof(cfg.Pprof, log)
		if err != nil {
			return err
		}
		defer stopPprof()
	}
	// One watcher per process: /readyz, the 503-or-500 decision and one log
	// line per outage and per recovery.
	health := dbhealth.New(st.Ping, dbhealth.Options{Logger: log})
	go health.Run(ctx)
	// Parts that poll the database log through quiet: during an outage the
	// monitor's one line stands for all their errors.
	quiet := slog.New(health.QuietHandler(log.Handler()))

	ring, err := keyring(cfg, log)
	if err != nil {
		return err
	}
	if err := sealDocuments(ctx, st, ring, log); err != nil {
		return err
	}
	// Declarative connectors join the registry before any run starts.
	loader, err := startConnectors(ctx, cfg, registry(), log)
	if err != nil {
		return err
	}
	// WebAssembly plugins too, from the database, the same in every process.
	pluginMgr, pluginRT, err := startPlugins(ctx, cfg, st, registry(), loader, log)
	if err != nil {
		return err
	}
	defer pluginRT.Close(context.Background())
	policy, _ := netguard.ParseAllowList(cfg.OutboundAllow) // checked by Validate
	proxies, _ := cfg.TrustedProxyPrefixes()                // checked by Validate
	// OAuth2 connections get fresh tokens in every process that runs steps.
	var oauthFlows *oauth.Manager
	conns := connections.New(st, registry(), ring, connections.WithOAuth(func(c *connections.Service) connections.OAuthTokens {
		oauthFlows = oauth.New(st, c, oauth.Options{PublicURL: cfg.PublicURL,
			HTTPClient: netguard.NewClient(netguard.Options{Policy: policy}, nil), Logger: log})
		return oauthFlows
	}))
	// One registry per process: every part observes into it, the API serves it.
	prom := metrics.New()
	// Run endings put their events in the outbox in the same transaction.
	st.SetHooks(events.StoreHooks())
	workers := 0
	if cfg.Role != "api" {
		workers = cfg.Workers
	}
	eng, err := engine.New(st, engine.Options{
		Queue:           engine.QueueOptions{Workers: workers, JobTimeout: cfg.JobTimeout, RescueAfter: cfg.RescueAfter, Lease: cfg.RunLease},
		Registry:        registry(),
		Outbound:        netguard.Options{Policy: policy},
		MaxPayloadBytes: cfg.MaxPayloadBytes,
		Retention:       engine.Retention{MaxAge: cfg.RetentionAge, MaxRuns: cfg.RetentionRuns},
		Credentials:     conns,
		Metrics:         prom,
		Logger:          quiet,
	})
	if err != nil {
		return err
	}
	var sched *schedule.Scheduler
	if workers > 0 {
		if err := eng.Start(ctx); err != nil {
			return err
		}
		// Every worker process schedules; a tick's unique key makes it fire
		// once however many run.
		sched = schedule.New(schedule.FromEngine(eng.Schedules()), eng.Schedules(), schedule.Options{Reload: 10 * time.Second, Logger: quiet})
		go func() { _ = sched.Run(ctx) }()
	}
	retry, _ := cfg.EventsRetrySchedule() // checked by Validate
	dispatcher := events.NewDispatcher(st, ring, events.DispatcherOptions{
		Client:   netguard.NewClient(netguard.Options{Policy: policy, Timeout: 15 * time.Second, MaxBodyBytes: 1 << 20}, nil),
		Schedule: retry, DisableAfter: cfg.EventsDisableAfter, Poll: cfg.EventsPoll, Logger: log,
	})
	dispatchDone := make(chan struct{})
	dispatchCtx, stopDispatch := context.WithCancel(ctx)
	defer stopDispatch()
	if workers > 0 {
		// Every worker process delivers; leases in the database keep two
		// from sending the same attempt.
		go func() { defer close(dispatchDone); _ = dispatcher.Run(dispatchCtx) }()
	} else {
		close(dispatchDone)
	}
	nudge := func() {}
	if workers > 0 {
		nudge = dispatcher.Nudge
	}

	// On PostgreSQL every API process shares the webhook, form and login
	// buckets through the database; SQLite has one process.
	var shared ratelimit.Backend
	if st.Dialect() == store.Postgres {
		shared = ratelimit.NewShared(st)
	}
	limits := ratelimit.NewRegistry(shared)

	var srv, redirect *http.Server
	var certs *tlsconf.Reloader
	if cfg.TLSCert != "" {
		if certs, err = tlsconf.NewReloader(cfg.TLSCert, cfg.TLSKey, log); err != nil {
			return err
		}
	}
	serveErr := make(chan error, 1)
	var handler http.Handler
	if cfg.Role == "worker" {
		handler = api.NewOps(api.Deps{Store: st, Runs: eng, Health: health, Metrics: cfg.Metrics, Prometheus: prom, Logger: log})
	} else {
		handler = api.New(api.Deps{
			Store:     st,
			Retention: engine.Retention{MaxAge: cfg.RetentionAge, MaxRuns: cfg.RetentionRuns},
			Flows:     flows.New(st, registry(), cfg.HooksURL),
			Webhooks: webhook.New(st, eng, eng, webhook.Options{MaxBody: cfg.MaxBodyBytes,
				RatePerMinute: cfg.WebhookRate, TrustedProxies: proxies, Secrets: conns, Health: health, Limits: limits, Logger: log}),
			Forms:          form.New(st, eng, form.Options{TrustedProxies: proxies, Limits: limits, Logger: log}),
			Registry:       registry(),
			Connectors:     loader,
			Plugins:        pluginMgr,
			Runs:           eng,
			Connections:    conns,
			OAuth:          oauthFlows,
			Auth:           auth.New(st, auth.Options{Limits: limits}),
			Limits:         limits,
			Health:         health,
			Events:         events.NewService(st, ring, nudge),
			PublicURL:      cfg.PublicURL,
			HooksURL:       cfg.HooksURL,
			HSTS:           hstsValue(cfg),
			Metrics:        cfg.Metrics,
			Prometheus:     prom,
			TrustedProxies: proxies,
			WorkflowsChanged: func() {
				if sched != nil {
					sched.Refresh()
				}
			},
			OutboundClient: netguard.NewClient(netguard.Options{Policy: policy}, nil),
			OutboundDial:   netguard.NewDialer(netguard.Options{Policy: policy}),
			UI:             webui.Handler(),
			Logger:         log,
		})
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	switch {
	case err != nil && cfg.Role == "worker":
		// A worker beside an API process on one host finds the default
		// address taken: it runs on, only without its probe endpoints.
		log.Warn("worker serves no /healthz, /readyz or /metrics: its address is taken (set --addr)", "addr", cfg.Addr, "error", err)
		srv = nil
		log.Info("switchboard worker started", "database", st.Dialect(), "workers", workers)
	case err != nil:
		return fmt.Errorf("listening on %s: %w", cfg.Addr, err)
	default:
		srv = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
			WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute}
		if certs != nil {
			// ServeTLS with empty file names uses GetCertificate: the
			// reloaded pair, with HTTP/2.
			srv.TLSConfig = certs.ServerConfig()
			go func() { serveErr <- srv.ServeTLS(ln, "", "") }()
		} else {
			go func() { serveErr <- srv.Serve(ln) }()
		}
		if cfg.Role == "worker" {
			log.Info("switchboard worker started", "addr", ln.Addr().String(), "serves", "/healthz /readyz /metrics",
				"database", st.Dialect(), "workers", workers)
		} else {
			log.Info("switchboard serving", "addr", ln.Addr().String(), "url", cfg.PublicURL,
				"database", st.Dialect(), "role", cfg.Role, "workers", workers)
		}
	}
	if cfg.TLSRedirect != "" && cfg.Role != "worker" {
		rln, err := net.Listen("tcp", cfg.TLSRedirect)
		if err != nil {
			return fmt.Errorf("listening on %s: %w", cfg.TLSRedirect, err)
		}
		redirect = &http.Server{Handler: httpsRedirect(cfg.PublicURL), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = redirect.Serve(rln) }()
		log.Info("redirecting plain HTTP to HTTPS", "addr", rln.Addr().String())
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down", "deadline", cfg.ShutdownTimeout)
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serving: %w", err)
		}
	}
	// Stop in reverse: first no new requests, then finish or hand back runs.
	deadline, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	var errs []error
	if redirect != nil {
		_ = redirect.Shutdown(deadline)
	}
	if srv != nil {
		if err := srv.Shutdown(deadline); err != nil {
			errs = append(errs, fmt.Errorf("stopping HTTP server: %w", err))
		}
	}
	stopDispatch()
	select {
	case <-dispatchDone:
	case <-deadline.Done():
	}
	if err := eng.Stop(deadline); err != nil {
		errs = append(errs, err)
	}
	log.Info("stopped")
	return errors.Join(errs...)
}

func hstsValue(cfg config.Config) string {
	if cfg.TLSCert == "" || cfg.HSTSMaxAge <= 0 {
		return ""
	}
	return fmt.Sprintf("max-age=%d", int64(cfg.HSTSMaxAge/time.Second))
}

// httpsRedirect sends every plain-HTTP request to the same path on the
// public HTTPS URL (308 keeps the method and body).
func httpsRedirect(publicURL string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.TrimRight(publicURL, "/")+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})
}

// servePprof serves Go's profiles on a loopback listener of its own, apart
// from the public router, for benchmarks and diagnosis.
func servePprof(addr string, log *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for pprof on %s: %w", addr, err)
	}
	// Sampled, so the cost stays small while profiles can be taken.
	runtime.SetMutexProfileFraction(10)
	runtime.SetBlockProfileRate(int(100 * time.Microsecond))
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Warn("pprof listening", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}
