package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/internal/flows"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

func (s *server) deleteWorkflow(c *gin.Context) {
	noContent(c, s.Store.DeleteWorkflow(c.Request.Context(), c.Param("id")))
}

func (s *server) duplicateWorkflow(c *gin.Context) {
	dup, err := s.Flows.Duplicate(c.Request.Context(), c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.Set(auditTarget, dup.ID)
	c.JSON(http.StatusCreated, dup)
}

func (s *server) listVersions(c *gin.Context) {
	ctx := c.Request.Context()
	if _, err := s.Store.GetWorkflow(ctx, c.Param("id")); err != nil {
		fail(c, err)
		return
	}
	vs, err := s.Store.ListVersions(ctx, c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	items := make([]versionView, len(vs))
	for i, v := range vs {
		items[i] = versionView{Version: v.Version, CreatedAt: v.CreatedAt.Format("2006-01-02T15:04:05.000Z07:00")}
	}
	c.JSON(http.StatusOK, Page[versionView]{Items: items})
}

func versionParam(c *gin.Context) (int, bool) {
	n, err := strconv.Atoi(c.Param("version"))
	if err != nil || n < 1 {
		problem(c, http.StatusBadRequest, "version must be a positive number")
		return 0, false
	}
	return n, true
}

// version reads the version the path names; false when a problem was
// answered instead.
func (s *server) version(c *gin.Context) (*store.WorkflowVersion, bool) {
	n, ok := versionParam(c)
	if !ok {
		return nil, false
	}
	v, err := s.Store.GetVersionNumber(c.Request.Context(), c.Param("id"), n)
	if err != nil {
		fail(c, err)
		return nil, false
	}
	return v, true
}

func (s *server) getVersion(c *gin.Context) {
	v, ok := s.version(c)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, versionView{Version: v.Version, CreatedAt: v.CreatedAt.Format("2006-01-02T15:04:05.000Z07:00"),
		Document: workflow.RawDocument(flows.Redact(v.Document))})
}

func (s *server) restoreVersion(c *gin.Context) {
	v, ok := s.version(c)
	if !ok {
		return
	}
	w, err := s.Flows.Update(c.Request.Context(), c.Param("id"), v.Document, 0)
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("ETag", etag(w.Version))
	c.JSON(http.StatusOK, w)
}

func etag(version int) string { return `"v` + strconv.Itoa(version) + `"` }

// ifMatch reads If-Match: 0 when absent; ok=false after answering 412 for a
// value that is not one of our ETags.
func ifMatch(c *gin.Context) (int, bool) {
	h := strings.TrimSpace(c.GetHeader("If-Match"))
	if h == "" || h == "*" {
		return 0, true
	}
	h = strings.TrimPrefix(h, "W/")
	n, err := strconv.Atoi(strings.TrimPrefix(strings.Trim(h, `"`), "v"))
	if err != nil || n < 1 {
		problem(c, http.StatusPreconditionFailed, "If-Match must be an ETag from GET /api/v1/workflows/{id}")
		return 0, false
	}
	return n, true
}

func preconditionFail(c *gin.Context, err error) bool {
	if errors.Is(err, store.ErrPrecondition) {
		problem(c, http.StatusPreconditionFailed, "the workflow was changed by someone else since you loaded it; reload and apply your change again")
		return true
	}
	return false
}

func (s *server) testWorkflow(c *gin.Context) {
	var in testPayload
	if !decodeOptional(c, &in) {
		return
	}
	ctx := c.Request.Context()
	trigger := map[string]any{"body": in.Body, "headers": in.Headers, "query": in.Query, "method": "POST", "test": true}
	if in.Body == nil {
		// Default to the captured sample, as "Test workflow" in the editor does.
		if sample, _, err := s.Store.GetSample(ctx, c.Param("id")); err == nil && len(sample) > 0 {
			var m map[string]any
			if json.Unmarshal(sample, &m) == nil {
				trigger = m
				trigger["test"] = true
			}
		}
	}
	run, err := s.Runs.StartManual(ctx, c.Param("id"), trigger)
	if err != nil {
		fail(c, err)
		return
	}
	c.Set(auditTarget, c.Param("id"))
	c.JSON(http.StatusAccepted, viewRun(run))
}
