// Package app wires Switchboard's parts and runs its subcommands. Parts start
// in order and stop in reverse.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/config"
	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/store"
)

const usage = `Switchboard: self-hosted workflow automation.

Usage:
  switchboard serve [flags]               serve the UI, API and webhooks, and run workflows
  switchboard migrate up|status [flags]   apply or list database migrations
  switchboard workflow import FILE        store a workflow document, activate it, print its webhook URL
  switchboard workflow export ID          print a workflow's current document
  switchboard connectors validate FILE…   check declarative connector files (errors name their line) or plugin modules (.wasm)
  switchboard connectors test FILE…       those checks and the files' inline tests: what the server accepts
  switchboard secrets rotate              seal connection secrets with a new key
  switchboard admin create --email E      create an admin (password from SWITCHBOARD_ADMIN_PASSWORD or stdin)
  switchboard api-key create [--key-role R] NAME   print a new API key (shown once)
  switchboard openapi [-o FILE]           print the API's OpenAPI 3.1 document
  switchboard healthcheck [--path P]      exit 0 when this host's server answers 200 on /readyz (for containers)
  switchboard help                        this text

Every flag is also a SWITCHBOARD_* environment variable (see 'switchboard serve -h').
DATABASE_URL=postgres://… selects PostgreSQL; otherwise SQLite lives under --data-dir.
`

// Main runs the command line and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stderr)
	case "migrate":
		err = migrate(ctx, args[1:], stdout, stderr)
	case "workflow":
		err = workflowCmd(ctx, args[1:], stdout, stderr)
	case "secrets":
		err = secretsCmd(ctx, args[1:], stdout, stderr)
	case "connectors":
		err = connectorsCmd(ctx, args[1:], stdout, stderr)
	case "admin":
		err = adminCmd(ctx, args[1:], os.Stdin, stdout, stderr)
	case "api-key":
		err = apiKeyCmd(ctx, args[1:], stdout, stderr)
	case "openapi":
		err = openapiCmd(args[1:], stdout, stderr)
	case "healthcheck":
		err = healthcheck(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "switchboard %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// loadConfig parses flags and environment for a subcommand.
func loadConfig(name string, args []string, stderr io.Writer) (config.Config, []string, error) {
	fs := flag.NewFlagSet("switchboard "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, rest, err := config.Load(fs, args, os.Getenv)
	if err != nil {
		return cfg, nil, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, rest, nil
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openStore opens and migrates the database (both ours and the queue's).
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (*store.Store, error) {
	st, err := store.Open(ctx, store.Options{DatabaseURL: cfg.DatabaseURL, SQLitePath: cfg.SQLitePath(), Logger: log})
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if _, err := engine.MigrateQueue(ctx, st); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// configuredStore loads the configuration of a command that takes only flags and
// opens its migrated store, with the logger the configuration asks for. The
// caller closes the store.
func configuredStore(ctx context.Context, name string, args []string, stderr io.Writer) (config.Config, *slog.Logger, *store.Store, error) {
	cfg, _, err := loadConfig(name, args, stderr)
	if err != nil {
		return config.Config{}, nil, nil, err
	}
	log := newLogger(cfg, stderr)
	st, err := openStore(ctx, cfg, log)
	return cfg, log, st, err
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "up" && args[0] != "status") {
		return errors.New("want 'migrate up' or 'migrate status'")
	}
	cfg, _, err := loadConfig("migrate "+args[0], args[1:], stderr)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, store.Options{DatabaseURL: cfg.DatabaseURL, SQLitePath: cfg.SQLitePath()})
	if err != nil {
		return err
	}
	defer st.Close()
	if args[0] == "up" {
		n, err := st.Migrate(ctx)
		if err != nil {
			return err
		}
		q, err := engine.MigrateQueue(ctx, st)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "applied %d migration(s) and %d queue migration(s) on %s\n", n, q, st.Dialect())
		return nil
	}
	states, err := st.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	for _, m := range states {
		state := "pending"
		if m.Applied {
			state = "applied " + m.AppliedAt.Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(stdout, "%05d  %-30s %s\n", m.Version, m.Name, state)
	}
	q, err := engine.QueueStatus(ctx, st)
	if err != nil {
		fmt.Fprintf(stdout, "queue: not migrated (%v)\n", err)
		return nil
	}
	fmt.Fprintf(stdout, "queue (River) migrations applied: %s\n", strings.Trim(fmt.Sprint(q), "[]"))
	return nil
}

// registry is the connector registry the binary uses.
func registry() *connectors.Registry { return connectors.Default }
