package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/internal/store"
)

type runView struct {
	ID          string     `json:"id"`
	WorkflowID  string     `json:"workflow_id"`
	Version     int        `json:"version"`
	State       string     `json:"state" enum:"queued,running,waiting,succeeded,failed,filtered,canceled"`
	TriggerType string     `json:"trigger_type"`
	Error       string     `json:"error"`
	Attempt     int        `json:"attempt"`
	ReplayOf    *string    `json:"replay_of"`
	CreatedAt   time.Time  `json:"created_at"`
	StartedAt   *time.Time `json:"started_at"`
	FinishedAt  *time.Time `json:"finished_at"`
	DurationMS  *int64     `json:"duration_ms"`
}

// runDetail is a run with its payloads and records.
type runDetail struct {
	runView
	Trigger    rawTrigger     `json:"trigger" nullable:"true"`
	Steps      []stepView     `json:"steps"`
	Deliveries []deliveryView `json:"deliveries"`
}

type stepView struct {
	StepID     string          `json:"step_id"`
	ItemKey    string          `json:"item_key,omitempty"`
	State      string          `json:"state" enum:"succeeded,failed,skipped,filtered,waiting"`
	Input      json.RawMessage `json:"input"`
	Output     json.RawMessage `json:"output"`
	Error      string          `json:"error"`
	Attempts   int             `json:"attempts"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt *time.Time      `json:"finished_at"`
}

type deliveryView struct {
	ID              string          `json:"id"`
	StepID          string          `json:"step_id"`
	ItemKey         string          `json:"item_key,omitempty"`
	Attempt         int             `json:"attempt"`
	Method          string          `json:"method"`
	URL             string          `json:"url"`
	RequestHeaders  json.RawMessage `json:"request_headers"`
	RequestBody     string          `json:"request_body"`
	Status          int             `json:"status"`
	ResponseHeaders json.RawMessage `json:"response_headers"`
	ResponseBody    string          `json:"response_body"`
	LatencyMS       int64           `json:"latency_ms"`
	Error           string          `json:"error"`
	ErrorKind       string          `json:"error_kind" enum:",retryable,rate_limited,permanent" description:"the attempt's failure by the connector SDK's retry rules; empty for a success"`
	CreatedAt       time.Time       `json:"created_at"`
}

func raw(j store.JSON) json.RawMessage {
	if len(j) == 0 {
		return json.RawMessage("null")
	}
	return json.RawMessage(j)
}

func viewRun(r *store.Run) runView {
	v := runView{ID: r.ID, WorkflowID: r.WorkflowID, Version: r.Version, State: r.State, TriggerType: r.TriggerType,
		Error: r.Error, Attempt: r.Attempt, ReplayOf: r.ReplayOf, CreatedAt: r.CreatedAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt}
	if r.StartedAt != nil && r.FinishedAt != nil {
		d := r.FinishedAt.Sub(*r.StartedAt).Milliseconds()
		v.DurationMS = &d
	}
	return v
}

var runStates = map[string]bool{store.RunQueued: true, store.RunRunning: true, store.RunWaiting: true,
	store.RunSucceeded: true, store.RunFailed: true, store.RunFiltered: true, store.RunCanceled: true}

func (s *server) listRuns(c *gin.Context) {
	p, ok := page(c)
	if !ok {
		return
	}
	f := store.RunFilter{WorkflowID: c.Query("workflow"), State: c.Query("state"), TriggerType: c.Query("trigger"), Page: p}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := c.Query(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				problem(c, http.StatusBadRequest, name+" must be an RFC 3339 time such as 2026-11-26T12:00:00Z")
				return
			}
			*dst = t
		}
	}
	if f.State != "" && !runStates[f.State] {
		problem(c, http.StatusBadRequest, "state must be one of queued, running, waiting, succeeded, failed, filtered, canceled")
		return
	}
	runs, next, err := s.Store.ListRuns(c.Request.Context(), f)
	if err != nil {
		fail(c, err)
		return
	}
	items := make([]runView, len(runs))
	for i := range runs {
		items[i] = viewRun(&runs[i])
	}
	c.JSON(http.StatusOK, Page[runView]{Items: items, NextCursor: next})
}

func (s *server) getRun(c *gin.Context) {
	ctx := c.Request.Context()
	r, err := s.Store.GetRun(ctx, c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	steps, err := s.Store.ListStepRuns(ctx, r.ID)
	if err != nil {
		fail(c, err)
		return
	}
	dels, err := s.Store.ListDeliveries(ctx, r.ID)
	if err != nil {
		fail(c, err)
		return
	}
	v := runDetail{runView: viewRun(r), Trigger: rawTrigger(raw(r.Trigger))}
	v.Steps = make([]stepView, len(steps))
	for i, sr := range steps {
		v.Steps[i] = stepView{StepID: sr.StepID, ItemKey: sr.ItemKey, State: sr.State, Input: raw(sr.Input),
			Output: raw(sr.Output), Error: sr.Error, Attempts: sr.Attempts, StartedAt: sr.StartedAt, FinishedAt: sr.FinishedAt}
	}
	v.Deliveries = make([]deliveryView, len(dels))
	for i, d := range dels {
		v.Deliveries[i] = deliveryView{ID: d.ID, StepID: d.StepID, ItemKey: d.ItemKey, Attempt: d.Attempt, Method: d.Method,
			URL: d.URL, RequestHeaders: raw(d.RequestHeaders), RequestBody: d.RequestBody, Status: d.Status,
			ResponseHeaders: raw(d.ResponseHeaders), ResponseBody: d.ResponseBody, LatencyMS: d.LatencyMS,
			Error: d.Error, ErrorKind: d.ErrorKind, CreatedAt: d.CreatedAt}
	}
	c.JSON(http.StatusOK, v)
}
