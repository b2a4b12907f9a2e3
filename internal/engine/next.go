package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// NextAttemptAt is when the queue next works on run (a retry after backoff,
// or the end of a delay), read from the run's job; store.ErrNotFound when
// nothing is scheduled. River's tables are read here, not in the store.
func (e *Engine) NextAttemptAt(ctx context.Context, run *store.Run) (time.Time, error) {
	none := fmt.Errorf("no scheduled attempt of run %s: %w", run.ID, store.ErrNotFound)
	if run.JobID == nil {
		return time.Time{}, none
	}
	job, err := e.river.JobGet(ctx, *run.JobID)
	if errors.Is(err, river.ErrNotFound) {
		return time.Time{}, none
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("reading the next attempt of run %s: %w", run.ID, err)
	}
	if job.State != rivertype.JobStateScheduled && job.State != rivertype.JobStateRetryable {
		return time.Time{}, none
	}
	return job.ScheduledAt.UTC(), nil
}
