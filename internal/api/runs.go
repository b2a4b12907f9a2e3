package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

type runView struct {
	ID         string `json:"id"`
	WorkflowID string `json:"workflow_id"`
	// WorkflowName is set in lists and details (not in replay answers).
	WorkflowName string     `json:"workflow_name,omitempty"`
	Version      int        `json:"version"`
	State        string     `json:"state" enum:"queued,running,waiting,succeeded,failed,filtered,canceled"`
	TriggerType  string     `json:"trigger_type"`
	Error        string     `json:"error"`
	Attempt      int        `json:"attempt"`
	ReplayOf     *string    `json:"replay_of"`
	CreatedAt    time.Time  `json:"created_at"`
	StartedAt    *time.Time `json:"started_at"`
	FinishedAt   *time.Time `json:"finished_at"`
	DurationMS   *int64     `json:"duration_ms"`
}

// runDetail is a run with its payloads and records.
type runDetail struct {
	runView
	// Replays are the runs replayed from this one, oldest first.
	Replays []runLink `json:"replays"`
	// NextAttemptAt is when a waiting run is next worked on (a retry or the end of a delay).
	NextAttemptAt *time.Time     `json:"next_attempt_at"`
	Trigger       rawTrigger     `json:"trigger" nullable:"true"`
	Steps         []stepView     `json:"steps"`
	Deliveries    []deliveryView `json:"deliveries"`
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
	ID              string    `json:"id"`
	StepID          string    `json:"step_id"`
	ItemKey         string    `json:"item_key,omitempty"`
	Attempt         int       `json:"attempt"`
	Method          string    `json:"method"`
	URL             string    `json:"url"`
	RequestHeaders  headerMap `json:"request_headers"`
	RequestBody     string    `json:"request_body"`
	Status          int       `json:"status"`
	ResponseHeaders headerMap `json:"response_headers"`
	ResponseBody    string    `json:"response_body"`
	LatencyMS       int64     `json:"latency_ms"`
	Error           string    `json:"error"`
	ErrorKind       string    `json:"error_kind" enum:",retryable,rate_limited,permanent" description:"the attempt's failure by the connector SDK's retry rules; empty for a success"`
	CreatedAt       time.Time `json:"created_at"`
}

// headerMap is a stored header or query map: each name to its value, or
// to the values of a repeated name; null when none were kept.
type headerMap json.RawMessage

// MarshalJSON writes the stored JSON as it is.
func (h headerMap) MarshalJSON() ([]byte, error) { return json.RawMessage(h).MarshalJSON() }

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

// runFilter reads the run filters of a query string (workflow, state,
// trigger, since, until, q); false when one is wrong (the problem is sent).
func runFilter(c *gin.Context) (store.RunFilter, bool) {
	f := store.RunFilter{WorkflowID: c.Query("workflow"), State: c.Query("state"), TriggerType: c.Query("trigger"),
		Search: strings.TrimSpace(c.Query("q"))}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := c.Query(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				problem(c, http.StatusBadRequest, name+" must be an RFC 3339 time such as 2026-11-26T12:00:00Z")
				return f, false
			}
			*dst = t
		}
	}
	if f.State != "" && !runStates[f.State] {
		problem(c, http.StatusBadRequest, "state must be one of queued, running, waiting, succeeded, failed, filtered, canceled")
		return f, false
	}
	if len(f.Search) > 200 {
		problem(c, http.StatusBadRequest, "q (text to find in the trigger input) must be at most 200 characters")
		return f, false
	}
	return f, true
}

func (s *server) listRuns(c *gin.Context) {
	p, ok := page(c)
	if !ok {
		return
	}
	f, ok := runFilter(c)
	if !ok {
		return
	}
	f.Page = p
	ctx := c.Request.Context()
	runs, next, err := s.Store.ListRuns(ctx, f)
	if err != nil {
		fail(c, err)
		return
	}
	ids := make([]string, 0, len(runs))
	for _, r := range runs {
		ids = append(ids, r.WorkflowID)
	}
	names, err := s.Store.WorkflowNames(ctx, ids)
	if err != nil {
		fail(c, err)
		return
	}
	items := make([]runView, len(runs))
	for i := range runs {
		items[i] = viewRun(&runs[i])
		items[i].WorkflowName = names[runs[i].WorkflowID]
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
	if names, err := s.Store.WorkflowNames(ctx, []string{r.WorkflowID}); err == nil {
		v.WorkflowName = names[r.WorkflowID]
	}
	links, err := s.Store.ListReplays(ctx, r.ID)
	if err != nil {
		fail(c, err)
		return
	}
	v.Replays = make([]runLink, len(links))
	for i, l := range links {
		v.Replays[i] = runLink{ID: l.ID, State: l.State, CreatedAt: l.CreatedAt}
	}
	if r.State == store.RunWaiting && s.Runs != nil {
		// A hint: when it cannot be read the run is still shown.
		if at, err := s.Runs.NextAttemptAt(ctx, r); err == nil {
			v.NextAttemptAt = &at
		} else if !errors.Is(err, store.ErrNotFound) {
			s.Logger.Warn("reading a run's next attempt", "run_id", r.ID, "error", err)
		}
	}
	derive := staticInputs(ctx, s.Store, r.VersionID)
	v.Steps = make([]stepView, len(steps))
	for i, sr := range steps {
		if len(sr.Input) == 0 && (sr.State == store.StepSucceeded || sr.State == store.StepFiltered) {
			sr.Input = derive(sr.StepID)
		}
		v.Steps[i] = stepView{StepID: sr.StepID, ItemKey: sr.ItemKey, State: sr.State, Input: raw(sr.Input),
			Output: raw(sr.Output), Error: sr.Error, Attempts: sr.Attempts, StartedAt: sr.StartedAt, FinishedAt: sr.FinishedAt}
	}
	v.Deliveries = make([]deliveryView, len(dels))
	for i, d := range dels {
		v.Deliveries[i] = deliveryView{ID: d.ID, StepID: d.StepID, ItemKey: d.ItemKey, Attempt: d.Attempt, Method: d.Method,
			URL: d.URL, RequestHeaders: headerMap(raw(d.RequestHeaders)), RequestBody: d.RequestBody, Status: d.Status,
			ResponseHeaders: headerMap(raw(d.ResponseHeaders)), ResponseBody: d.ResponseBody, LatencyMS: d.LatencyMS,
			Error: d.Error, ErrorKind: d.ErrorKind, CreatedAt: d.CreatedAt}
	}
	c.JSON(http.StatusOK, v)
}

// staticInputs gives the input a filter or map step's record shows (its
// expression or template, from the run's version: the engine does not store
// it per run); nil for other steps or an unreadable version.
func staticInputs(ctx context.Context, st *store.Store, versionID string) func(stepID string) store.JSON {
	var doc *workflow.Document
	if v, err := st.GetVersion(ctx, versionID); err == nil {
		doc, _ = workflow.Parse(v.Document)
	}
	return func(stepID string) store.JSON {
		if doc == nil {
			return nil
		}
		if in, ok := doc.StaticInput(stepID); ok {
			return store.MustJSON(in)
		}
		return nil
	}
}
