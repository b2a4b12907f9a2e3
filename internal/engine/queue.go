// Package engine executes runs: step semantics, retries, recording, and the
// River queue the runs travel on.
package engine

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// RunArgs is the queue job that executes one run.
type RunArgs struct {
	RunID string `json:"run_id"`
}

// Kind names the job.
func (RunArgs) Kind() string { return "run" }

// InsertOpts gives every run job many attempts: a run's own retry policy
// decides when to stop, and errors that reach River are infrastructure
// failures (database down, worker killed) that deserve patience.
func (RunArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 25}
}

func driverFor(st *store.Store) riverdriver.Driver[*sql.Tx] {
	if st.Dialect() == store.Postgres {
		return riverdatabasesql.NewWithPgxListener(st.SQLDB(), st.PgxPool())
	}
	return riversqlite.New(st.SQLDB())
}

// MigrateQueue applies River's own schema migrations.
func MigrateQueue(ctx context.Context, st *store.Store) (int, error) {
	m, err := rivermigrate.New(driverFor(st), nil)
	if err != nil {
		return 0, fmt.Errorf("preparing queue migrations: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return 0, fmt.Errorf("applying queue migrations: %w", err)
	}
	return len(res.Versions), nil
}

// QueueStatus reports River's applied migration versions.
func QueueStatus(ctx context.Context, st *store.Store) ([]int, error) {
	m, err := rivermigrate.New(driverFor(st), nil)
	if err != nil {
		return nil, fmt.Errorf("preparing queue migrations: %w", err)
	}
	existing, err := m.ExistingVersions(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading queue migrations: %w", err)
	}
	out := make([]int, len(existing))
	for i, e := range existing {
		out[i] = e.Version
	}
	return out, nil
}

// QueueOptions tunes the River client.
type QueueOptions struct {
	// Workers is how many runs execute at once in this process; 0 makes an
	// insert-only client (the API role).
	Workers int
	// JobTimeout bounds one execution slice of a run (delays and backoff do
	// not count: they snooze the job). A worker that dies mid-run has its job
	// rescued after RescueAfter.
	JobTimeout  time.Duration
	RescueAfter time.Duration
	// Lease is how long a running run stays with its process without a
	// heartbeat (renewed every third of it); a dead process's runs are
	// taken over when it lapses. Default 15s.
	Lease  time.Duration
	Logger *slog.Logger
}

func newRiverClient(st *store.Store, o QueueOptions, workers *river.Workers, periodic []*river.PeriodicJob) (*river.Client[*sql.Tx], error) {
	cfg := &river.Config{
		Logger:               o.Logger,
		JobTimeout:           o.JobTimeout,
		RescueStuckJobsAfter: o.RescueAfter,
		// The default 100 ms cooldown caps a queue near 500 jobs/s.
		FetchCooldown: 10 * time.Millisecond,
	}
	// SQLite has no LISTEN/NOTIFY, and on PostgreSQL River rate-limits its
	// insert notifications (measured: p90 webhook-to-success near 1 s with
	// the default 1 s poll). A 50 ms poll is one cheap query per process.
	cfg.FetchPollInterval = 50 * time.Millisecond
	if o.Workers > 0 {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: o.Workers}}
		cfg.Workers = workers
		// Periodic jobs are enqueued by the elected leader only, so pruning
		// happens once per interval however many processes run.
		cfg.PeriodicJobs = periodic
	}
	c, err := river.NewClient(driverFor(st), cfg)
	if err != nil {
		return nil, fmt.Errorf("creating queue client: %w", err)
	}
	return c, nil
}
