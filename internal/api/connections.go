package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/connections"
	"github.com/switchboard-dev/switchboard/internal/store"
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

func (s *server) listConnections(c *gin.Context) {
	vs, err := s.Connections.List(c.Request.Context())
	reply(c, http.StatusOK, Page[*connections.View]{Items: vs}, err)
}

func (s *server) createConnection(c *gin.Context) {
	in, ok := readInput(c)
	if !ok {
		return
	}
	v, err := s.Connections.Create(c.Request.Context(), in)
	if err == nil {
		c.Set(auditTarget, v.ID)
	}
	reply(c, http.StatusCreated, v, err)
}

func (s *server) getConnection(c *gin.Context) {
	v, err := s.Connections.Get(c.Request.Context(), c.Param("id"))
	reply(c, http.StatusOK, v, err)
}

func (s *server) updateConnection(c *gin.Context) {
	in, ok := readInput(c)
	if !ok {
		return
	}
	v, err := s.Connections.Update(c.Request.Context(), c.Param("id"), in)
	reply(c, http.StatusOK, v, err)
}

func (s *server) deleteConnection(c *gin.Context) {
	noContent(c, s.Connections.Delete(c.Request.Context(), c.Param("id")))
}

func (s *server) testConnection(c *gin.Context) {
	var spec connectors.Spec
	err := s.Connections.Test(c.Request.Context(), c.Param("id"), func(ctx context.Context, conn connectors.Connector, creds map[string]string) error {
		spec = conn.Spec()
		t, ok := conn.(connectors.ConnectionTester)
		if !ok {
			return connectors.CannotTest(spec.Name + " has no harmless call to check credentials with")
		}
		return t.TestConnection(ctx, connectors.Request{Credentials: creds, HTTP: s.OutboundClient, Dial: s.OutboundDial})
	})
	switch {
	case errors.Is(err, connectors.ErrCannotTest):
		c.JSON(http.StatusOK, connectionTestResult{Message: "Not tested: " + err.Error() + ". Nothing was contacted."})
	case err == nil:
		msg := spec.Name + " accepted the credentials."
		if spec.Auth.Test != "" {
			msg += " (" + strings.TrimSuffix(spec.Auth.Test, ".") + ".)"
		}
		c.JSON(http.StatusOK, connectionTestResult{OK: true, Tested: true, Message: msg})
	default:
		if errors.As(err, new(*connections.InvalidError)) || errors.Is(err, store.ErrNotFound) {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, connectionTestResult{OK: false, Tested: true, Message: spec.Name + " refused the test: " + err.Error(), Error: err.Error()})
	}
}
