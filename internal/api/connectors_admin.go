package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/connectors/declarative"
	"github.com/switchboard-dev/switchboard/internal/events"
)

// uploadConnector accepts a declarative connector file (YAML or JSON): it is
// checked, its inline tests run, and it is written to the connectors folder
// and registered, or refused as a whole with every problem and its line.
func (s *server) uploadConnector(c *gin.Context) {
	if s.Connectors == nil {
		problem(c, http.StatusNotImplemented, "declarative connectors are not enabled on this server")
		return
	}
	format := ""
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	switch mt {
	case "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml":
		format = "yaml"
	case "application/json":
		format = "json"
	default:
		problem(c, http.StatusUnsupportedMediaType, "send the connector file as application/yaml or application/json")
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, declarative.MaxFileBytes))
	if err != nil {
		problem(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("a connector file may be at most %d bytes", declarative.MaxFileBytes))
		return
	}
	info, err := s.Connectors.Upload(c.Request.Context(), raw, format)
	if err != nil {
		connectorFail(c, err, http.StatusConflict)
		return
	}
	c.Set(auditTarget, info.ID)
	d := events.ConnectorData{ConnectorID: info.ID, Name: info.Spec.Name, Version: info.Version, Hash: info.Hash, Actions: []string{}}
	for _, a := range info.Spec.Actions {
		d.Actions = append(d.Actions, info.ID+"."+a.ID)
	}
	// The file is the record here (no row to share a transaction with):
	// the event is written once the upload is in place.
	if err := events.Record(c.Request.Context(), s.Store, events.ConnectorUploaded, "", d); err != nil {
		s.Logger.Error("recording connector.uploaded", "connector", info.ID, "error", err)
	}
	c.JSON(http.StatusCreated, info)
}

func (s *server) disableConnector(c *gin.Context) { s.switchConnector(c, false) }
func (s *server) enableConnector(c *gin.Context)  { s.switchConnector(c, true) }

func (s *server) switchConnector(c *gin.Context, on bool) {
	if s.Connectors == nil {
		problem(c, http.StatusNotImplemented, "declarative connectors are not enabled on this server")
		return
	}
	set := s.Connectors.Disable
	if on {
		set = s.Connectors.Enable
	}
	info, err := set(c.Param("id"))
	if err != nil {
		connectorFail(c, err, http.StatusConflict)
		return
	}
	c.JSON(http.StatusOK, info)
}

func (s *server) deleteConnector(c *gin.Context) {
	if s.Connectors == nil {
		problem(c, http.StatusNotImplemented, "declarative connectors are not enabled on this server")
		return
	}
	if err := s.Connectors.Delete(c.Param("id")); err != nil {
		connectorFail(c, err, http.StatusForbidden)
		return
	}
	c.Status(http.StatusNoContent)
}

// connectorFail maps loader errors: a refused file to 422 with a problem per
// line, a built-in id to builtinStatus (409 for an upload, 403 for a delete).
func connectorFail(c *gin.Context, err error, builtinStatus int) {
	var fe *declarative.Error
	switch {
	case errors.As(err, &fe):
		fields := make([]*FieldError, 0, len(fe.Problems))
		for _, p := range fe.Problems {
			fields = append(fields, &FieldError{Path: p.Path, Message: p.Message, Line: p.Line})
		}
		detail := "the connector file is invalid"
		if len(fe.Problems) > 0 {
			detail = fe.Problems[0].Error()
			if n := len(fe.Problems) - 1; n > 0 {
				detail += fmt.Sprintf(" (and %d more)", n)
			}
		}
		problem(c, http.StatusUnprocessableEntity, detail, fields...)
	case errors.Is(err, declarative.ErrBuiltin):
		problem(c, builtinStatus, err.Error())
	case errors.Is(err, declarative.ErrConflict):
		problem(c, http.StatusConflict, err.Error())
	case errors.Is(err, declarative.ErrNotFound):
		problem(c, http.StatusNotFound, err.Error())
	case errors.Is(err, declarative.ErrNoFolder):
		problem(c, http.StatusNotImplemented, err.Error())
	default:
		fail(c, err)
	}
}
