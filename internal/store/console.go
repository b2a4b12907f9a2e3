package store

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"
)

// Queries for the operations console. They read run metadata (ids, states,
// timestamps), never payloads, through the indexes of migration 00011.

// CountRuns counts the runs a filter selects (its page is ignored), up to
// max (0: no cap); capped reports that there are more.
func (s *Store) CountRuns(ctx context.Context, f RunFilter, max int) (n int64, capped bool, err error) {
	q := s.filterRuns(s.db.WithContext(ctx).Model(&Run{}), f)
	if max > 0 {
		// Counting a bounded subquery stops at max+1 rows however many match.
		sub := s.filterRuns(s.db.WithContext(ctx).Model(&Run{}).Select("id"), f).Limit(max + 1)
		q = s.db.WithContext(ctx).Table("(?) AS matching", sub)
	}
	if err := q.Count(&n).Error; err != nil {
		return 0, false, fmt.Errorf("counting runs: %w", err)
	}
	if max > 0 && n > int64(max) {
		return int64(max), true, nil
	}
	return n, false, nil
}

// RunLink is a run another run points to (a replay and its original).
type RunLink struct {
	ID        string
	State     string
	CreatedAt time.Time
}

// ListReplays lists the runs replayed from runID, oldest first.
func (s *Store) ListReplays(ctx context.Context, runID string) ([]RunLink, error) {
	out, err := scanAll[RunLink](s.db.WithContext(ctx).Model(&Run{}).Select("id, state, created_at").
		Where("replay_of = ?", runID).Order("id").Limit(100), "listing replays of run "+runID)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []RunLink{}
	}
	return out, nil
}

// DashboardBucket counts the runs created in one time slot, by state.
type DashboardBucket struct {
	Start  time.Time
	States map[string]int64
}

// FailingWorkflow is a workflow with failed runs in the range.
type FailingWorkflow struct {
	WorkflowID string
	Name       string
	Failed     int64
}

// Dashboard is the home page's numbers for runs created at or after Since.
type Dashboard struct {
	Since, Until time.Time
	Bucket       time.Duration
	Buckets      []DashboardBucket
	Totals       map[string]int64
	// Durations of finished (succeeded or failed) runs among the newest
	// DurationSample runs of the range, nearest rank; -1 without any.
	P50MS, P95MS int64
	DurationRuns int
	Failing      []FailingWorkflow
	Queued       int64
	Running      int64
	Waiting      int64
	// The oldest run still waiting for a worker; nil when none is queued.
	OldestQueuedID string
	OldestQueuedAt *time.Time
}

// DurationSample bounds how many finished runs the dashboard's duration
// percentiles read.
const DurationSample = 5000

// DashboardStats computes the dashboard for [since, until) in slots of bucket.
func (s *Store) DashboardStats(ctx context.Context, since, until time.Time, bucket time.Duration) (*Dashboard, error) {
	since, until = since.UTC(), until.UTC()
	secs := int64(bucket / time.Second)
	if secs < 1 {
		return nil, fmt.Errorf("dashboard bucket %s is shorter than a second", bucket)
	}
	d := &Dashboard{Since: since, Until: until, Bucket: bucket, Totals: map[string]int64{}, P50MS: -1, P95MS: -1}
	db := s.db.WithContext(ctx)

	// Runs by state per slot: one index range count per slot (created_at,
	// state), so no timestamp is parsed in SQL and both databases cut the
	// slots at the same instants.
	nslots := int((until.Sub(since) + bucket - 1) / bucket)
	d.Buckets = make([]DashboardBucket, nslots)
	for i := range d.Buckets {
		from := since.Add(time.Duration(i) * bucket)
		to := from.Add(bucket)
		if to.After(until) {
			to = until
		}
		var rows []struct {
			State string
			N     int64
		}
		if err := db.Model(&Run{}).Select("state, count(*) AS n").Where("created_at >= ? AND created_at < ?", from, to).
			Group("state").Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("counting runs per slot: %w", err)
		}
		d.Buckets[i] = DashboardBucket{Start: from, States: map[string]int64{}}
		for _, r := range rows {
			d.Buckets[i].States[r.State] = r.N
			d.Totals[r.State] += r.N
		}
	}

	// p50/p95 (nearest rank) over the finished runs among the newest
	// DurationSample runs of the range, so the cost stays flat however many ran.
	// The newest runs of the range come straight off the (created_at, state)
	// index read backwards; the finished ones among them are kept here.
	var recent []Run
	if err := db.Select("id, state, started_at, finished_at").
		Where("created_at >= ? AND created_at < ?", since, until).
		Order("created_at DESC").Limit(DurationSample).Find(&recent).Error; err != nil {
		return nil, fmt.Errorf("reading run durations: %w", err)
	}
	var ms []int64
	for _, r := range recent {
		if (r.State == RunSucceeded || r.State == RunFailed) && r.StartedAt != nil && r.FinishedAt != nil {
			ms = append(ms, r.FinishedAt.Sub(*r.StartedAt).Milliseconds())
		}
	}
	if len(ms) > 0 {
		sort.Slice(ms, func(i, j int) bool { return ms[i] < ms[j] })
		rank := func(q float64) int64 {
			k := int(math.Ceil(q*float64(len(ms)))) - 1
			return ms[max(k, 0)]
		}
		d.P50MS, d.P95MS = rank(0.50), rank(0.95)
		d.DurationRuns = len(ms)
	}

	// The workflows failing most.
	if err := db.Model(&Run{}).Select("runs.workflow_id AS workflow_id, workflows.name AS name, count(*) AS failed").
		Joins("JOIN workflows ON workflows.id = runs.workflow_id").
		Where("runs.state = ? AND runs.created_at >= ? AND runs.created_at < ?", RunFailed, since, until).
		Group("runs.workflow_id, workflows.name").Order("failed DESC, workflow_id").Limit(5).
		Scan(&d.Failing).Error; err != nil {
		return nil, fmt.Errorf("finding failing workflows: %w", err)
	}
	if d.Failing == nil {
		d.Failing = []FailingWorkflow{}
	}

	// Queue depth (whatever the range): queued, running and waiting runs.
	var live []struct {
		State string
		N     int64
	}
	if err := db.Model(&Run{}).Select("state, count(*) AS n").
		Where("state IN ?", []string{RunQueued, RunRunning, RunWaiting}).Group("state").Scan(&live).Error; err != nil {
		return nil, fmt.Errorf("counting live runs: %w", err)
	}
	for _, l := range live {
		switch l.State {
		case RunQueued:
			d.Queued = l.N
		case RunRunning:
			d.Running = l.N
		case RunWaiting:
			d.Waiting = l.N
		}
	}
	if d.Queued > 0 {
		var oldest []Run
		if err := db.Select("id, created_at").Where("state = ?", RunQueued).Order("created_at, id").Limit(1).
			Find(&oldest).Error; err != nil {
			return nil, fmt.Errorf("finding the oldest queued run: %w", err)
		}
		if len(oldest) == 1 {
			at := oldest[0].CreatedAt.UTC()
			d.OldestQueuedID, d.OldestQueuedAt = oldest[0].ID, &at
		}
	}
	return d, nil
}

// ConnectionAttention is a connection that needs someone to look at it.
type ConnectionAttention struct {
	ID, Name, Connector, Reason string
}

// ConnectionsNeedingAttention lists connections whose OAuth2 authorization
// failed or lapsed, or whose last test or use failed, by name.
func (s *Store) ConnectionsNeedingAttention(ctx context.Context, now time.Time) ([]ConnectionAttention, error) {
	var cs []Connection
	if err := s.db.WithContext(ctx).Select("id, name, connector, oauth_status, oauth_error, oauth_expires_at, failure, failed_at").
		Where("oauth_status = ? OR failed_at IS NOT NULL", "needs_attention").Order("name").Limit(50).Find(&cs).Error; err != nil {
		return nil, fmt.Errorf("listing connections needing attention: %w", err)
	}
	out := make([]ConnectionAttention, 0, len(cs))
	for _, c := range cs {
		reason := c.OAuthError
		if reason == "" && c.FailedAt != nil {
			reason = c.Failure
		}
		if reason == "" {
			reason = "its authorization needs to be renewed (Connect again)"
		}
		out = append(out, ConnectionAttention{ID: c.ID, Name: c.Name, Connector: c.Connector, Reason: reason})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// WorkflowNames maps workflow ids to their names (ids not found are left out).
func (s *Store) WorkflowNames(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct{ ID, Name string }
	if err := s.db.WithContext(ctx).Model(&Workflow{}).Select("id, name").Where("id IN ?", ids).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("reading workflow names: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}
