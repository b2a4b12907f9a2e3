package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

// RunControl cancels and replays runs (the engine).
type RunControl interface {
	Cancel(ctx context.Context, runID string) (*store.Run, error)
	Replay(ctx context.Context, runID string, o engine.ReplayOptions) (*store.Run, error)
	ReplayMatching(ctx context.Context, f store.RunFilter, o engine.ReplayOptions) ([]string, error)
	StartManual(ctx context.Context, workflowID string, trigger map[string]any) (*store.Run, error)
	TestAction(ctx context.Context, step workflow.Step, data map[string]any) (any, error)
	// CountJobsByState counts queue jobs per state (for /metrics).
	CountJobsByState(ctx context.Context) (map[string]int64, error)
	// NextAttemptAt is when the queue next works on a waiting run
	// (store.ErrNotFound: not scheduled).
	NextAttemptAt(ctx context.Context, run *store.Run) (time.Time, error)
}

func (s *server) cancelRun(c *gin.Context) {
	r, err := s.Runs.Cancel(c.Request.Context(), c.Param("id"))
	runReply(c, http.StatusOK, r, err, engine.ErrRunFinal)
}

// runReply answers a run control with the run, 409 when the engine refused it
// (refused), or the problem err maps to.
func runReply(c *gin.Context, status int, r *store.Run, err, refused error) {
	if errors.Is(err, refused) {
		problem(c, http.StatusConflict, err.Error())
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(status, viewRun(r))
}

// decodeOptional decodes a JSON body into v; an empty body leaves v as is.
func decodeOptional(c *gin.Context, v any) bool {
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, 64<<10))
	if err != nil {
		problem(c, http.StatusRequestEntityTooLarge, "request body is larger than 64 KiB")
		return false
	}
	if len(raw) == 0 {
		return true
	}
	if !utf8Body(c, raw) {
		return false
	}
	if err := unmarshalStrict(raw, v, false); err != nil {
		problem(c, http.StatusBadRequest, "request body is not valid JSON: "+err.Error())
		return false
	}
	return true
}

func (s *server) replayRun(c *gin.Context) {
	var o engine.ReplayOptions
	if !decodeOptional(c, &o) {
		return
	}
	r, err := s.Runs.Replay(c.Request.Context(), c.Param("id"), o)
	runReply(c, http.StatusAccepted, r, err, engine.ErrBadReplay)
}

type bulkReplay struct {
	Workflow string    `json:"workflow" description:"the workflow whose runs are replayed"`
	State    string    `json:"state,omitempty" enum:"succeeded,failed,filtered,canceled"`
	Since    time.Time `json:"since,omitempty" description:"runs created at or after"`
	Until    time.Time `json:"until,omitempty" description:"runs created before"`
	engine.ReplayOptions
}

func (s *server) replayRuns(c *gin.Context) {
	var req bulkReplay
	if !decodeOptional(c, &req) {
		return
	}
	if req.Workflow == "" {
		problem(c, http.StatusBadRequest, "workflow is required: bulk replay works on one workflow's runs")
		return
	}
	if req.State != "" && !runStates[req.State] {
		problem(c, http.StatusBadRequest, "state must be one of succeeded, failed, filtered, canceled")
		return
	}
	if err := req.ReplayOptions.Validate(); err != nil {
		problem(c, http.StatusBadRequest, err.Error())
		return
	}
	ids, err := s.Runs.ReplayMatching(c.Request.Context(),
		store.RunFilter{WorkflowID: req.Workflow, State: req.State, Since: req.Since, Until: req.Until}, req.ReplayOptions)
	if err != nil {
		fail(c, err)
		return
	}
	if ids == nil {
		ids = []string{}
	}
	c.JSON(http.StatusAccepted, bulkReplayResult{Replayed: len(ids), RunIDs: ids})
}
