package api

import (
	"io"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

// testStep runs one action step with sample data and returns its output or
// its error (200 either way: a failing call is a result, not a bad request).
func (s *server) testStep(c *gin.Context) {
	var in stepTestRequest
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, 1<<20))
	if err != nil {
		problem(c, http.StatusRequestEntityTooLarge, "request body is larger than 1 MiB")
		return
	}
	if !utf8Body(c, raw) {
		return
	}
	if err := unmarshalStrict(raw, &in, true); err != nil {
		problem(c, http.StatusBadRequest, `request body must be {"step": {…an action step…}, "data": {…}}: `+err.Error())
		return
	}
	if in.Step.Type != workflow.StepAction || in.Step.Action == "" {
		problem(c, http.StatusBadRequest, "step must be an action step with an action")
		return
	}
	in.Step.Input, _ = workflow.NormalizeJSON(in.Step.Input).(map[string]any)
	data, _ := workflow.NormalizeJSON(map[string]any(in.Data)).(map[string]any)
	out, err := s.Runs.TestAction(c.Request.Context(), in.Step, data)
	if err != nil {
		kind := string(connectors.KindOf(err))
		c.JSON(http.StatusOK, stepTestResult{OK: false, Output: out, Error: &stepTestError{Kind: kind, Message: err.Error()}})
		return
	}
	c.JSON(http.StatusOK, stepTestResult{OK: true, Output: out})
}
