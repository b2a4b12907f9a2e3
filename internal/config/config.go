// Package config loads Switchboard's settings: defaults, then SWITCHBOARD_*
// environment variables, then flags; Validate explains what is wrong.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/netguard"
)

// Config is every setting of a process.
type Config struct {
	Addr            string        // listen address
	PublicURL       string        // the app's external base URL (UI, API, OAuth callbacks)
	HooksURL        string        // base of webhook and form URLs (default PublicURL)
	DataDir         string        // SQLite file and keys
	DatabaseURL     string        // postgres://… selects PostgreSQL
	Role            string        // all, api or worker
	Workers         int           // concurrent runs per process
	MaxBodyBytes    int64         // webhook body limit
	OutboundAllow   string        // CIDRs/hosts user URLs may reach despite the SSRF guard
	TrustedProxies  string        // CIDRs whose X-Forwarded-For is believed
	SecretKey       string        // base64 AES-256 key sealing connection secrets
	SecretKeysOld   string        // keys that still open secrets during a rotation
	KeyFile         string        // key file used when SecretKey is empty
	ConnectorsDir   string        // declarative connector files (YAML/JSON), watched; uploads land here
	PluginTimeout   time.Duration // wall-clock (and so CPU) limit of one WebAssembly plugin call
	PluginMemoryMB  int           // memory limit of one plugin instance, MiB
	PluginCacheDir  string        // compiled plugin code kept on disk ("" = in memory, once per process)
	WebhookRate     int           // default accepted requests per minute per endpoint
	Metrics         string        // /metrics: public, admin or off
	ShutdownTimeout time.Duration // drain deadline on SIGTERM
	JobTimeout      time.Duration // longest execution slice of a run
	RescueAfter     time.Duration // when a dead worker's run is picked up again
	RunLease        time.Duration // a running run's lease; a dead process's runs are taken over when it lapses
	MaxPayloadBytes int           // recorded step input/output cap
	RetentionAge    time.Duration // run history kept (0: forever)
	RetentionRuns   int           // newest runs kept per workflow (0: no limit)
	LogLevel        string
	LogFormat       string
	Pprof           string // loopback host:port serving /debug/pprof (empty: off)
	// EventsRetry is the delay before each retry of an event delivery
	// (comma-separated durations); EventsDisableAfter disables a
	// subscription failing that long; EventsPoll is how often due
	// deliveries are looked for.
	EventsRetry        string
	EventsDisableAfter time.Duration
	EventsPoll         time.Duration
	// TLSCert and TLSKey serve HTTPS (reloaded when the files change);
	// TLSRedirect is an extra plain-HTTP address that redirects to HTTPS;
	// HSTS is sent on HTTPS unless HSTSMaxAge is 0.
	TLSCert     string
	TLSKey      string
	TLSRedirect string
	HSTSMaxAge  time.Duration
}

// Defaults returns the zero-setup configuration.
func Defaults() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		DataDir:         "./data",
		Role:            "all",
		Workers:         64,
		MaxBodyBytes:    1 << 20,
		WebhookRate:     6000,
		Metrics:         "public",
		ShutdownTimeout: 25 * time.Second,
		JobTimeout:      5 * time.Minute,
		RunLease:        15 * time.Second,
		MaxPayloadBytes: 256 << 10,
		PluginTimeout:   30 * time.Second,
		PluginMemoryMB:  128,
		RetentionAge:    30 * 24 * time.Hour,
		RetentionRuns:   10000,
		LogLevel:        "info",
		LogFormat:       "text",

		EventsRetry:        "5s,5m,30m,2h,5h,10h,10h",
		EventsDisableAfter: 5 * 24 * time.Hour,
		EventsPoll:         time.Second,
		HSTSMaxAge:         365 * 24 * time.Hour,
	}
}

// setting binds one field to a flag and an environment variable.
type setting struct {
	name, env, usage string
	get              func(*Config) string
	set              func(*Config, string) error
	secret           bool
}

func str(f func(*Config) *string) (func(*Config) string, func(*Config, string) error) {
	return func(c *Config) string { return *f(c) }, func(c *Config, v string) error { *f(c) = v; return nil }
}

func intSetting(name, env, usage string, f func(*Config) *int) setting {
	return setting{name: name, env: env, usage: usage,
		get: func(c *Config) string { return strconv.Itoa(*f(c)) },
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return errors.New("want a whole number")
			}
			*f(c) = n
			return nil
		}}
}

func settings() []setting {
	s := func(name, env, usage string, f func(*Config) *string) setting {
		g, st := str(f)
		return setting{name: name, env: env, usage: usage, get: g, set: st}
	}
	dur := func(name, env, usage string, f func(*Config) *time.Duration) setting {
		return setting{name: name, env: env, usage: usage,
			get: func(c *Config) string { return f(c).String() },
			set: func(c *Config, v string) error {
				d, err := time.ParseDuration(v)
				if err != nil {
					return fmt.Errorf("want a duration such as 30s: %w", err)
				}
				*f(c) = d
				return nil
			}}
	}
	return []setting{
		s("addr", "SWITCHBOARD_ADDR", "listen address (host:port)", func(c *Config) *string { return &c.Addr }),
		s("public-url", "SWITCHBOARD_PUBLIC_URL", "external base URL of the app: UI, API and OAuth callbacks (default http://<addr>)", func(c *Config) *string { return &c.PublicURL }),
		s("hooks-url", "SWITCHBOARD_HOOKS_URL", "external base URL for /hooks/ and /forms/ links, ideally a host name of its own so nothing a workflow replies shares the app's origin (default: public-url)", func(c *Config) *string { return &c.HooksURL }),
		s("data-dir", "SWITCHBOARD_DATA_DIR", "folder for the SQLite database and keys", func(c *Config) *string { return &c.DataDir }),
		{name: "database-url", env: "SWITCHBOARD_DATABASE_URL", usage: "postgres://… to use PostgreSQL (also read from DATABASE_URL)", secret: true,
			get: func(c *Config) string { return c.DatabaseURL }, set: func(c *Config, v string) error { c.DatabaseURL = v; return nil }},
		s("role", "SWITCHBOARD_ROLE", "all, api or worker", func(c *Config) *string { return &c.Role }),
		intSetting("workers", "SWITCHBOARD_WORKERS", "runs executed at once by this process", func(c *Config) *int { return &c.Workers }),
		{name: "max-body", env: "SWITCHBOARD_MAX_BODY", usage: "largest webhook body in bytes (up to 25 MiB)",
			get: func(c *Config) string { return strconv.FormatInt(c.MaxBodyBytes, 10) },
			set: func(c *Config, v string) error {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return errors.New("want a number of bytes")
				}
				c.MaxBodyBytes = n
				return nil
			}},
		s("outbound-allow", "SWITCHBOARD_OUTBOUND_ALLOW", "CIDRs or host names that actions may reach although private (comma-separated)", func(c *Config) *string { return &c.OutboundAllow }),
		{name: "secret-key", env: "SWITCHBOARD_SECRET_KEY", usage: "base64 32-byte key sealing connection secrets (default: a key file in data-dir)", secret: true,
			get: func(c *Config) string { return c.SecretKey }, set: func(c *Config, v string) error { c.SecretKey = v; return nil }},
		{name: "secret-keys-old", env: "SWITCHBOARD_SECRET_KEYS_OLD", usage: "comma-separated previous keys, to open secrets sealed before a rotation", secret: true,
			get: func(c *Config) string { return c.SecretKeysOld }, set: func(c *Config, v string) error { c.SecretKeysOld = v; return nil }},
		s("key-file", "SWITCHBOARD_KEY_FILE", "key file (created with mode 0600 on first start) when no secret-key is set (default <data-dir>/secret.key)", func(c *Config) *string { return &c.KeyFile }),
		s("connectors-dir", "SWITCHBOARD_CONNECTORS_DIR", "folder of declarative connector files (*.yaml, *.yml, *.json), reloaded on change; uploads are written there (default <data-dir>/connectors)",
			func(c *Config) *string { return &c.ConnectorsDir }),
		dur("plugin-timeout", "SWITCHBOARD_PLUGIN_TIMEOUT", "longest call of a WebAssembly plugin action, HTTP waits included", func(c *Config) *time.Duration { return &c.PluginTimeout }),
		intSetting("plugin-memory", "SWITCHBOARD_PLUGIN_MEMORY", "memory limit of one WebAssembly plugin call, in MiB", func(c *Config) *int { return &c.PluginMemoryMB }),
		s("plugin-cache-dir", "SWITCHBOARD_PLUGIN_CACHE_DIR", "folder keeping compiled plugin code across restarts (default: compile once per process, in memory)", func(c *Config) *string { return &c.PluginCacheDir }),
		s("trusted-proxies", "SWITCHBOARD_TRUSTED_PROXIES", "CIDRs of reverse proxies whose X-Forwarded-For is believed (comma-separated)", func(c *Config) *string { return &c.TrustedProxies }),
		s("metrics", "SWITCHBOARD_METRICS", "who may read /metrics: public, admin or off", func(c *Config) *string { return &c.Metrics }),
		intSetting("webhook-rate", "SWITCHBOARD_WEBHOOK_RATE", "default webhook requests accepted per minute per endpoint", func(c *Config) *int { return &c.WebhookRate }),
		dur("shutdown-timeout", "SWITCHBOARD_SHUTDOWN_TIMEOUT", "how long SIGTERM waits for requests and runs", func(c *Config) *time.Duration { return &c.ShutdownTimeout }),
		dur("job-timeout", "SWITCHBOARD_JOB_TIMEOUT", "longest uninterrupted execution of one run", func(c *Config) *time.Duration { return &c.JobTimeout }),
		dur("rescue-after", "SWITCHBOARD_RESCUE_AFTER", "when a run whose worker died is resumed (default job-timeout + 1m)", func(c *Config) *time.Duration { return &c.RescueAfter }),
		dur("run-lease", "SWITCHBOARD_RUN_LEASE", "how long a running run stays with its process without a heartbeat; a dead worker's runs resume after it", func(c *Config) *time.Duration { return &c.RunLease }),
		intSetting("max-payload", "SWITCHBOARD_MAX_PAYLOAD", "largest recorded step input or output in bytes; larger ones are stored truncated with their size",
			func(c *Config) *int { return &c.MaxPayloadBytes }),
		dur("retention-age", "SWITCHBOARD_RETENTION_AGE", "how long run history is kept (0 keeps it forever)", func(c *Config) *time.Duration { return &c.RetentionAge }),
		intSetting("retention-runs", "SWITCHBOARD_RETENTION_RUNS", "newest runs kept per workflow (0: no limit)",
			func(c *Config) *int { return &c.RetentionRuns }),
		s("log-level", "SWITCHBOARD_LOG_LEVEL", "debug, info, warn or error", func(c *Config) *string { return &c.LogLevel }),
		s("log-format", "SWITCHBOARD_LOG_FORMAT", "text or json", func(c *Config) *string { return &c.LogFormat }),
		s("pprof", "SWITCHBOARD_PPROF", "loopback host:port serving Go's /debug/pprof profiles (empty: off)", func(c *Config) *string { return &c.Pprof }),
		s("events-retry", "SWITCHBOARD_EVENTS_RETRY", "delays before each retry of an event delivery (comma-separated durations; ±20% jitter)",
			func(c *Config) *string { return &c.EventsRetry }),
		dur("events-disable-after", "SWITCHBOARD_EVENTS_DISABLE_AFTER", "disable a subscription whose deliveries fail without a success for this long",
			func(c *Config) *time.Duration { return &c.EventsDisableAfter }),
		s("tls-cert", "SWITCHBOARD_TLS_CERT", "PEM certificate (chain) file: serve HTTPS; reloaded when it changes", func(c *Config) *string { return &c.TLSCert }),
		s("tls-key", "SWITCHBOARD_TLS_KEY", "PEM private key file of tls-cert", func(c *Config) *string { return &c.TLSKey }),
		s("tls-redirect", "SWITCHBOARD_TLS_REDIRECT", "also listen on this plain-HTTP address (host:port) and redirect every request to HTTPS", func(c *Config) *string { return &c.TLSRedirect }),
		dur("hsts-max-age", "SWITCHBOARD_HSTS_MAX_AGE", "Strict-Transport-Security max-age sent over HTTPS (0 sends none)", func(c *Config) *time.Duration { return &c.HSTSMaxAge }),
		dur("events-poll", "SWITCHBOARD_EVENTS_POLL", "how often workers look for due event deliveries", func(c *Config) *time.Duration { return &c.EventsPoll }),
	}
}

// Load builds a Config from defaults, the environment (getenv) and args,
// registering flags on fs. It returns the remaining arguments.
func Load(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, []string, error) {
	c := Defaults()
	if v := getenv("DATABASE_URL"); v != "" {
		c.DatabaseURL = v
	}
	for _, s := range settings() {
		if v := getenv(s.env); v != "" {
			if err := s.set(&c, v); err != nil {
				return c, nil, fmt.Errorf("%s=%q: %w", s.env, mask(s, v), err)
			}
		}
	}
	for _, s := range settings() {
		fs.Func(s.name, fmt.Sprintf("%s (env %s, default %q)", s.usage, s.env, mask(s, s.get(&c))), func(v string) error {
			return s.set(&c, v)
		})
	}
	if err := fs.Parse(args); err != nil {
		return c, nil, err
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Addr
		if c.TLSCert != "" {
			c.PublicURL = "https://" + c.Addr
		}
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.HooksURL == "" {
		c.HooksURL = c.PublicURL
	}
	c.HooksURL = strings.TrimRight(c.HooksURL, "/")
	if c.KeyFile == "" {
		c.KeyFile = filepath.Join(c.DataDir, "secret.key")
	}
	if c.ConnectorsDir == "" {
		c.ConnectorsDir = filepath.Join(c.DataDir, "connectors")
	}
	if c.RescueAfter == 0 {
		c.RescueAfter = c.JobTimeout + time.Minute
	}
	return c, fs.Args(), nil
}

func mask(s setting, v string) string {
	if s.secret && v != "" && !strings.Contains(v, "://") {
		return "***"
	}
	if s.secret && v != "" {
		if u, err := url.Parse(v); err == nil {
			return u.Redacted()
		}
		return "***"
	}
	return v
}

// Validate checks every setting and reports all problems at once.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("addr %q: want host:port, e.g. 127.0.0.1:8080", c.Addr))
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("public-url %q: want http(s)://host[:port]", c.PublicURL))
	}
	if u, err := url.Parse(c.HooksURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		errs = append(errs, fmt.Errorf("hooks-url %q: want http(s)://host[:port]", c.HooksURL))
	}
	if c.DatabaseURL != "" {
		if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			errs = append(errs, errors.New("database-url: want postgres://user@host:port/db"))
		}
	} else if c.DataDir == "" {
		errs = append(errs, errors.New("data-dir: is empty"))
	}
	switch c.Role {
	case "all", "api", "worker":
	default:
		errs = append(errs, fmt.Errorf("role %q: want all, api or worker", c.Role))
	}
	if c.Role == "worker" && c.DatabaseURL == "" {
		errs = append(errs, errors.New("role worker: separate worker processes need PostgreSQL (set DATABASE_URL)"))
	}
	if c.PluginTimeout <= 0 {
		errs = append(errs, fmt.Errorf("plugin-timeout %s: want a positive duration", c.PluginTimeout))
	}
	if c.PluginMemoryMB < 1 || c.PluginMemoryMB > 4096 {
		errs = append(errs, fmt.Errorf("plugin-memory %d: want 1 to 4096 MiB", c.PluginMemoryMB))
	}
	if c.Workers < 1 || c.Workers > 1000 {
		errs = append(errs, fmt.Errorf("workers %d: want 1 to 1000", c.Workers))
	}
	if c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 25<<20 {
		errs = append(errs, fmt.Errorf("max-body %d: want 1024 to %d bytes", c.MaxBodyBytes, 25<<20))
	}
	if _, err := netguard.ParseAllowList(c.OutboundAllow); err != nil {
		errs = append(errs, fmt.Errorf("outbound-allow: %w", err))
	}
	if _, err := c.TrustedProxyPrefixes(); err != nil {
		errs = append(errs, fmt.Errorf("trusted-proxies: %w", err))
	}
	switch c.Metrics {
	case "public", "admin", "off":
	default:
		errs = append(errs, fmt.Errorf("metrics %q: want public, admin or off", c.Metrics))
	}
	if c.WebhookRate < 1 || c.WebhookRate > 1_000_000 {
		errs = append(errs, fmt.Errorf("webhook-rate %d: want 1 to 1000000 per minute", c.WebhookRate))
	}
	if c.ShutdownTimeout <= 0 || c.JobTimeout <= 0 || c.RescueAfter < c.JobTimeout {
		errs = append(errs, errors.New("shutdown-timeout and job-timeout must be positive, rescue-after at least job-timeout"))
	}
	if c.RunLease < time.Second || c.RunLease > time.Hour {
		errs = append(errs, fmt.Errorf("run-lease %s: want 1s to 1h", c.RunLease))
	}
	if c.MaxPayloadBytes < 1024 || c.MaxPayloadBytes > 64<<20 {
		errs = append(errs, fmt.Errorf("max-payload %d: want 1024 to %d bytes", c.MaxPayloadBytes, 64<<20))
	}
	if c.RetentionAge < 0 || (c.RetentionAge > 0 && c.RetentionAge < time.Minute) || c.RetentionRuns < 0 {
		errs = append(errs, errors.New("retention-age must be 0 or at least 1m, retention-runs 0 or more"))
	}
	if _, err := c.EventsRetrySchedule(); err != nil {
		errs = append(errs, fmt.Errorf("events-retry: %w", err))
	}
	if c.EventsDisableAfter < time.Second || c.EventsPoll < 10*time.Millisecond || c.EventsPoll > time.Minute {
		errs = append(errs, errors.New("events-disable-after must be at least 1s, events-poll between 10ms and 1m"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls-cert and tls-key: set both to serve HTTPS, or neither"))
	}
	if c.TLSRedirect != "" {
		if c.TLSCert == "" {
			errs = append(errs, errors.New("tls-redirect: needs tls-cert and tls-key"))
		} else if _, _, err := net.SplitHostPort(c.TLSRedirect); err != nil {
			errs = append(errs, fmt.Errorf("tls-redirect %q: want host:port, e.g. :80", c.TLSRedirect))
		}
	}
	if c.HSTSMaxAge < 0 {
		errs = append(errs, errors.New("hsts-max-age: must not be negative"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	if c.Pprof != "" {
		if h, _, err := net.SplitHostPort(c.Pprof); err != nil || (h != "127.0.0.1" && h != "::1" && h != "localhost") {
			errs = append(errs, fmt.Errorf("pprof %q: want a loopback host:port such as 127.0.0.1:6060", c.Pprof))
		}
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log-format %q: want text or json", c.LogFormat))
	}
	return errors.Join(errs...)
}

// commaItems are the trimmed, non-empty items of a comma-separated setting.
func commaItems(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// TrustedProxyPrefixes parses TrustedProxies.
func (c Config) TrustedProxyPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range commaItems(c.TrustedProxies) {
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP or CIDR", item)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// SQLitePath is the database file under DataDir.
func (c Config) SQLitePath() string { return filepath.Join(c.DataDir, "switchboard.db") }

// EventsRetrySchedule parses EventsRetry.
func (c Config) EventsRetrySchedule() ([]time.Duration, error) {
	var out []time.Duration
	for _, item := range commaItems(c.EventsRetry) {
		d, err := time.ParseDuration(item)
		if err != nil || d <= 0 || d > 7*24*time.Hour {
			return nil, fmt.Errorf("%q: want positive durations up to 168h, such as 5s,5m,30m", item)
		}
		out = append(out, d)
	}
	if len(out) > 20 {
		return nil, errors.New("at most 20 retries")
	}
	return out, nil
}
