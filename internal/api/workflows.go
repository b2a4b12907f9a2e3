package api

import (
	"io"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/flows"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// maxDocumentBytes bounds a workflow document.
const maxDocumentBytes = 2 << 20

func readDocument(c *gin.Context) ([]byte, bool) {
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxDocumentBytes))
	if err != nil {
		problem(c, http.StatusRequestEntityTooLarge, "the workflow document is larger than 2 MiB")
		return nil, false
	}
	if !utf8Body(c, raw) {
		return nil, false
	}
	if len(raw) == 0 {
		problem(c, http.StatusBadRequest, "the request body must be a workflow document (JSON)")
		return nil, false
	}
	return raw, true
}

func page(c *gin.Context) (store.Page, bool) {
	p := store.Page{Cursor: c.Query("cursor")}
	if p.Cursor != "" {
		if _, err := uuid.Parse(p.Cursor); err != nil {
			problem(c, http.StatusBadRequest, "cursor is not one this API returned (use next_cursor from the previous page)")
			return p, false
		}
	}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 200 {
			problem(c, http.StatusBadRequest, "limit must be a number from 1 to 200")
			return p, false
		}
		p.Limit = n
	}
	return p, true
}

func (s *server) listWorkflows(c *gin.Context) {
	p, ok := page(c)
	if !ok {
		return
	}
	items, next, err := s.Flows.List(c.Request.Context(), p)
	for _, it := range items {
		forReader(c, it)
	}
	reply(c, http.StatusOK, Page[*flows.Summary]{Items: items, NextCursor: next}, err)
}

// forReader hides a workflow's public URLs (their token lets anyone start
// runs) from viewers: reading a workflow must not hand out the right to
// trigger it.
func forReader(c *gin.Context, v *flows.Summary) {
	if p := principal(c); v == nil || (p != nil && auth.Allows(p.Role, auth.RoleEditor)) {
		return
	}
	v.WebhookURL, v.TestURL, v.FormURL = "", "", ""
}

func (s *server) createWorkflow(c *gin.Context) { s.create(c, "true") }

// importWorkflow stores an imported document switched off (?active=true turns it
// on): its connections may not exist here yet, and nothing should run before
// someone has looked at it.
func (s *server) importWorkflow(c *gin.Context) { s.create(c, "false") }

func (s *server) create(c *gin.Context, activeByDefault string) {
	raw, ok := readDocument(c)
	if !ok {
		return
	}
	active := c.DefaultQuery("active", activeByDefault) != "false"
	v, err := s.Flows.CreateWithToken(c.Request.Context(), raw, active, c.Query("webhook_token"))
	if err != nil {
		fail(c, err)
		return
	}
	c.Set(auditTarget, v.ID)
	c.Header("Location", "/api/v1/workflows/"+v.ID)
	c.Header("ETag", etag(v.Version))
	c.JSON(http.StatusCreated, v)
}

func (s *server) validateWorkflow(c *gin.Context) {
	raw, ok := readDocument(c)
	if !ok {
		return
	}
	doc, err := s.Flows.Check(raw)
	if err == nil {
		err = s.Flows.CheckConnections(c.Request.Context(), doc)
	}
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, validView{Valid: true})
}

func (s *server) getWorkflow(c *gin.Context) {
	v, err := s.Flows.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("ETag", etag(v.Version))
	forReader(c, &v.Summary)
	c.JSON(http.StatusOK, v)
}

func (s *server) updateWorkflow(c *gin.Context) {
	expected, ok := ifMatch(c)
	if !ok {
		return
	}
	raw, ok := readDocument(c)
	if !ok {
		return
	}
	v, err := s.Flows.Update(c.Request.Context(), c.Param("id"), raw, expected)
	if preconditionFail(c, err) {
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("ETag", etag(v.Version))
	c.JSON(http.StatusOK, v)
}

func (s *server) activateWorkflow(c *gin.Context)   { s.setActive(c, true) }
func (s *server) deactivateWorkflow(c *gin.Context) { s.setActive(c, false) }

func (s *server) setActive(c *gin.Context, active bool) {
	v, err := s.Flows.SetActive(c.Request.Context(), c.Param("id"), active)
	reply(c, http.StatusOK, v, err)
}

func (s *server) exportWorkflow(c *gin.Context) {
	v, err := s.Flows.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="workflow-`+v.ID+`.json"`)
	c.Data(http.StatusOK, "application/json", v.Document)
}

func (s *server) listConnectors(c *gin.Context) {
	c.JSON(http.StatusOK, connectorList{Items: s.Registry.Specs()})
}

// newWebhookURL gives the editor a webhook URL before the first save; the
// token comes back as ?webhook_token= on POST /workflows. Nothing is stored.
func (s *server) newWebhookURL(c *gin.Context) {
	tok, url, err := s.Flows.NewWebhookURL()
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newWebhookView{Token: tok, WebhookURL: url, TestURL: url + "/test"})
}
