package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// Routes for the operations console: counts for bulk actions and the home
// dashboard. Both read run metadata only.

// runLink points from a run to one replayed from it.
type runLink struct {
	ID        string    `json:"id"`
	State     string    `json:"state"`
	CreatedAt time.Time `json:"created_at"`
}

// runCount answers GET /runs/count.
type runCount struct {
	Count int64 `json:"count"`
	// Capped is true when more runs match than the count says (max reached).
	Capped bool `json:"capped"`
}

// maxRunCount bounds a count so it stays cheap however many runs match.
const maxRunCount = 100_000

func (s *server) countRuns(c *gin.Context) {
	f, ok := runFilter(c)
	if !ok {
		return
	}
	n, capped, err := s.Store.CountRuns(c.Request.Context(), f, maxRunCount)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, runCount{Count: n, Capped: capped})
}

type dashboardBucket struct {
	Start  time.Time        `json:"start"`
	States map[string]int64 `json:"states"`
}

type failingWorkflow struct {
	WorkflowID string `json:"workflow_id"`
	Name       string `json:"name"`
	Failed     int64  `json:"failed"`
}

type attentionConnection struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Connector string `json:"connector"`
	Reason    string `json:"reason"`
}

type queueView struct {
	Queued  int64 `json:"queued"`
	Running int64 `json:"running"`
	Waiting int64 `json:"waiting"`
	// OldestQueued is the run waiting longest for a worker (null when none).
	OldestQueuedID *string    `json:"oldest_queued_id"`
	OldestQueuedAt *time.Time `json:"oldest_queued_at"`
}

// dashboardView answers GET /dashboard.
type dashboardView struct {
	Range         string            `json:"range"`
	Since         time.Time         `json:"since"`
	Until         time.Time         `json:"until"`
	BucketSeconds int64             `json:"bucket_seconds"`
	Buckets       []dashboardBucket `json:"buckets"`
	Totals        map[string]int64  `json:"totals"`
	// SuccessRate is succeeded / (succeeded + failed); null without finished runs.
	SuccessRate *float64 `json:"success_rate"`
	// Durations of finished runs (null without any).
	P50MS       *int64                `json:"p50_ms"`
	P95MS       *int64                `json:"p95_ms"`
	Failing     []failingWorkflow     `json:"failing_workflows"`
	Queue       queueView             `json:"queue"`
	Connections []attentionConnection `json:"connections_needing_attention"`
}

// dashboardRanges are the time ranges the dashboard offers and their slots.
var dashboardRanges = map[string]struct{ span, bucket time.Duration }{
	"hour": {time.Hour, 5 * time.Minute},
	"day":  {24 * time.Hour, time.Hour},
	"week": {7 * 24 * time.Hour, 6 * time.Hour},
}

func (s *server) dashboard(c *gin.Context) {
	name := c.DefaultQuery("range", "day")
	rg, ok := dashboardRanges[name]
	if !ok {
		problem(c, http.StatusBadRequest, "range must be hour, day or week")
		return
	}
	ctx := c.Request.Context()
	now := time.Now().UTC()
	// Slots end at the next slot boundary, so a refresh keeps them in place.
	until := now.Truncate(rg.bucket).Add(rg.bucket)
	d, err := s.Store.DashboardStats(ctx, until.Add(-rg.span), until, rg.bucket)
	if err != nil {
		fail(c, err)
		return
	}
	conns, err := s.attention(ctx, now)
	if err != nil {
		fail(c, err)
		return
	}
	v := dashboardView{Range: name, Since: d.Since, Until: d.Until, BucketSeconds: int64(rg.bucket / time.Second),
		Totals: d.Totals, Buckets: make([]dashboardBucket, len(d.Buckets)), Failing: make([]failingWorkflow, len(d.Failing)),
		Connections: make([]attentionConnection, len(conns)),
		Queue:       queueView{Queued: d.Queued, Running: d.Running, Waiting: d.Waiting, OldestQueuedAt: d.OldestQueuedAt}}
	for i, b := range d.Buckets {
		v.Buckets[i] = dashboardBucket{Start: b.Start, States: b.States}
	}
	for i, f := range d.Failing {
		v.Failing[i] = failingWorkflow{WorkflowID: f.WorkflowID, Name: f.Name, Failed: f.Failed}
	}
	for i, cn := range conns {
		v.Connections[i] = attentionConnection{ID: cn.ID, Name: cn.Name, Connector: cn.Connector, Reason: cn.Reason}
	}
	if d.OldestQueuedID != "" {
		v.Queue.OldestQueuedID = &d.OldestQueuedID
	}
	if ok, failed := d.Totals[store.RunSucceeded], d.Totals[store.RunFailed]; ok+failed > 0 {
		r := float64(ok) / float64(ok+failed)
		v.SuccessRate = &r
	}
	if d.P50MS >= 0 {
		v.P50MS, v.P95MS = &d.P50MS, &d.P95MS
	}
	c.JSON(http.StatusOK, v)
}

// attention lists the connections needing attention with the reason the
// Connections page gives (not authorized yet, a required field empty, the
// connector gone, secrets unreadable); without the connections service,
// the stored OAuth2 status alone.
func (s *server) attention(ctx context.Context, now time.Time) ([]store.ConnectionAttention, error) {
	if s.Connections == nil {
		return s.Store.ConnectionsNeedingAttention(ctx, now)
	}
	vs, err := s.Connections.NeedingAttention(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]store.ConnectionAttention, len(vs))
	for i, v := range vs {
		out[i] = store.ConnectionAttention{ID: v.ID, Name: v.Name, Connector: v.Connector, Reason: v.Attention}
	}
	return out, nil
}
