package api

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/connections"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

func readInput(c *gin.Context) (connections.Input, bool) {
	var in connections.Input
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, 64<<10))
	if err != nil {
		problem(c, http.StatusRequestEntityTooLarge, "request body is larger than 64 KiB")
		return in, false
	}
	if !utf8Body(c, raw) {
		return in, false
	}
	if err := unmarshalStrict(raw, &in, false); err != nil {
		problem(c, http.StatusBadRequest, "request body must be {\"name\", \"connector\", \"fields\": {…}} as JSON: "+err.Error())
		return in, false
	}
	return in, true
}

func connectionFail(c *gin.Context, err error) {
	var inv *connections.InvalidError
	if errors.As(err, &inv) {
		fields := make([]*workflow.FieldError, 0, len(inv.Problems))
		for k, msg := range inv.Problems {
			fields = append(fields, &workflow.FieldError{Path: k, Message: msg})
		}
		problem(c, http.StatusUnprocessableEntity, "the connection is invalid", fields...)
		return
	}
	fail(c, err)
}

func (s *server) listConnections(c *gin.Context) {
	vs, err := s.Connections.List(c.Request.Context())
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, Page[*connections.View]{Items: vs})
}

func (s *server) createConnection(c *gin.Context) {
	in, ok := readInput(c)
	if !ok {
		return
	}
	v, err := s.Connections.Create(c.Request.Context(), in)
	if err != nil {
		connectionFail(c, err)
		return
	}
	c.JSON(http.StatusCreated, v)
}

func (s *server) getConnection(c *gin.Context) {
	v, err := s.Connections.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (s *server) updateConnection(c *gin.Context) {
	in, ok := readInput(c)
	if !ok {
		return
	}
	v, err := s.Connections.Update(c.Request.Context(), c.Param("id"), in)
	if err != nil {
		connectionFail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (s *server) deleteConnection(c *gin.Context) {
	if err := s.Connections.Delete(c.Request.Context(), c.Param("id")); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *server) testConnection(c *gin.Context) {
	err := s.Connections.Test(c.Request.Context(), c.Param("id"), func(ctx context.Context, conn connectors.Connector, creds map[string]string) error {
		t, ok := conn.(connectors.ConnectionTester)
		if !ok {
			return errNoTest
		}
		return t.TestConnection(ctx, connectors.Request{Credentials: creds, HTTP: s.OutboundClient, Dial: s.OutboundDial})
	})
	switch {
	case errors.Is(err, errNoTest):
		problem(c, http.StatusNotImplemented, "this connector cannot test a connection")
	case err == nil:
		c.JSON(http.StatusOK, connectionTestResult{OK: true})
	default:
		var inv *connections.InvalidError
		if errors.As(err, &inv) {
			connectionFail(c, err)
			return
		}
		if errors.Is(err, store.ErrNotFound) {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, connectionTestResult{OK: false, Error: err.Error()})
	}
}

var errNoTest = errors.New("no connection test")
