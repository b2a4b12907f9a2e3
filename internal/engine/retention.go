package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// Retention is the instance-wide run history limit; a workflow's
// settings.retention overrides it.
type Retention struct {
	MaxAge   time.Duration // runs and inbox entries older than this go (0: keep)
	MaxRuns  int           // newest runs kept per workflow (0: no count limit)
	Interval time.Duration // how often pruning runs (default 1h)
}

// RetentionArgs is the periodic pruning job.
type RetentionArgs struct{}

// Kind names the job.
func (RetentionArgs) Kind() string { return "retention" }

type retentionWorker struct {
	river.WorkerDefaults[RetentionArgs]
	e *Engine
}

func (w *retentionWorker) Work(ctx context.Context, _ *river.Job[RetentionArgs]) error {
	_, err := w.e.Prune(ctx)
	return err
}

// Prune applies retention to every workflow once and returns how many runs
// it deleted. It runs as a periodic job on the leader process.
func (e *Engine) Prune(ctx context.Context) (int64, error) {
	ids, err := e.st.WorkflowIDs(ctx)
	if err != nil {
		return 0, err
	}
	// Read on every pass, so an admin's change applies without a restart,
	// in every process.
	ret, _, err := LoadRetention(ctx, e.st, e.retention)
	if err != nil {
		return 0, err
	}
	now := e.now()
	var total int64
	for _, id := range ids {
		maxAge, maxRuns := ret.MaxAge, ret.MaxRuns
		if w, err := e.st.GetWorkflow(ctx, id); err == nil {
			if v, err := e.st.GetCurrentVersion(ctx, w); err == nil {
				if c, err := e.Compiled(ctx, v.ID); err == nil && c.Doc.Settings != nil && c.Doc.Settings.Retention != nil {
					r := c.Doc.Settings.Retention
					if d, err := time.ParseDuration(r.MaxAge); err == nil && d > 0 {
						maxAge = d
					}
					if r.MaxRuns > 0 {
						maxRuns = r.MaxRuns
					}
				}
			}
		}
		cutoff := time.Time{}
		if maxAge > 0 {
			cutoff = now.Add(-maxAge)
		}
		if cutoff.IsZero() && maxRuns == 0 {
			continue
		}
		n, err := e.st.PruneRuns(ctx, id, cutoff, maxRuns)
		total += n
		if err != nil {
			return total, fmt.Errorf("pruning workflow %s: %w", id, err)
		}
	}
	if _, err := e.st.PruneDedupeKeys(ctx, now); err != nil {
		return total, err
	}
	if ret.MaxAge > 0 {
		if _, err := e.st.PruneInbound(ctx, now.Add(-ret.MaxAge)); err != nil {
			return total, err
		}
		// Switchboard's own events follow the instance's age limit too; one
		// still being delivered stays until its delivery ends.
		if _, err := e.st.PruneEventsBefore(ctx, now.Add(-ret.MaxAge)); err != nil {
			return total, err
		}
	}
	if total > 0 {
		if err := e.st.ReclaimSpace(ctx); err != nil {
			return total, err
		}
		e.log.Info("retention pruned runs", "runs", total)
	}
	return total, nil
}
