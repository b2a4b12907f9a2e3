package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/connectors/declarative"
	"github.com/switchboard-dev/switchboard/connectors/wasm"
	"github.com/switchboard-dev/switchboard/internal/events"
	"github.com/switchboard-dev/switchboard/internal/plugins"
)

// uploadConnector accepts a declarative connector file (YAML or JSON): it is
// checked, its inline tests run, and it is written to the connectors folder
// and registered, or refused as a whole with every problem and its line. A
// WebAssembly plugin (application/wasm) goes to the plugin manager instead.
func (s *server) uploadConnector(c *gin.Context) {
	format := ""
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	switch mt {
	case "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml":
		format = "yaml"
	case "application/json":
		format = "json"
	case "application/wasm":
		s.uploadPlugin(c)
		return
	default:
		problem(c, http.StatusUnsupportedMediaType, "send the connector file as application/yaml or application/json, or a WebAssembly plugin as application/wasm")
		return
	}
	if s.Connectors == nil {
		problem(c, http.StatusNotImplemented, "declarative connectors are not enabled on this server")
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, declarative.MaxFileBytes))
	if err != nil {
		problem(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("a connector file may be at most %d bytes", declarative.MaxFileBytes))
		return
	}
	if s.Plugins != nil {
		if d, err := declarative.Parse("upload."+format, raw); err == nil && s.Plugins.Has(d.Spec().ID) {
			problem(c, http.StatusConflict, fmt.Sprintf("connector %q is a WebAssembly plugin; delete the plugin first or give the file another id", d.Spec().ID))
			return
		}
	}
	info, err := s.Connectors.Upload(c.Request.Context(), raw, format)
	if err != nil {
		connectorFail(c, err, http.StatusConflict)
		return
	}
	c.Set(auditTarget, info.ID)
	// The file is the record here (no row to share a transaction with):
	// the event is written once the upload is in place.
	s.connectorUploaded(c, info.Spec, info.Hash)
	c.JSON(http.StatusCreated, info)
}

// connectorUploaded records the connector.uploaded event of a declarative
// file or a plugin module.
func (s *server) connectorUploaded(c *gin.Context, spec connectors.Spec, hash string) {
	d := events.ConnectorData{ConnectorID: spec.ID, Name: spec.Name, Version: spec.Version, Hash: hash, Actions: []string{}}
	for _, a := range spec.Actions {
		d.Actions = append(d.Actions, spec.ID+"."+a.ID)
	}
	if err := events.Record(c.Request.Context(), s.Store, events.ConnectorUploaded, "", d); err != nil {
		s.Logger.Error("recording connector.uploaded", "connector", spec.ID, "error", err)
	}
}

func (s *server) disableConnector(c *gin.Context) { s.switchConnector(c, false) }
func (s *server) enableConnector(c *gin.Context)  { s.switchConnector(c, true) }

func (s *server) switchConnector(c *gin.Context, on bool) {
	if s.isPlugin(c.Param("id")) {
		set := s.Plugins.Disable
		if on {
			set = s.Plugins.Enable
		}
		info, err := set(c.Request.Context(), c.Param("id"))
		if err != nil {
			pluginFail(c, err)
			return
		}
		c.JSON(http.StatusOK, info)
		return
	}
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
	if s.isPlugin(c.Param("id")) {
		if err := s.Plugins.Delete(c.Request.Context(), c.Param("id")); err != nil {
			pluginFail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
		return
	}
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

// isPlugin reports whether id is not a declarative or built-in connector and
// plugins are enabled: then the plugin manager (and the database, the
// truth for every process) answers, 404 included.
func (s *server) isPlugin(id string) bool {
	if s.Plugins == nil {
		return false
	}
	if s.Plugins.Has(id) {
		return true
	}
	if s.Connectors != nil {
		_, err := s.Connectors.Info(id)
		return errors.Is(err, declarative.ErrNotFound)
	}
	_, builtin := s.Registry.Get(id)
	return !builtin
}

// uploadPlugin accepts a WebAssembly module: validated (WebAssembly,
// imports, exports, ABI version, spec), stored by content hash as the
// plugin's next version, and loaded in every process.
func (s *server) uploadPlugin(c *gin.Context) {
	if s.Plugins == nil {
		problem(c, http.StatusNotImplemented, "WebAssembly plugins are not enabled on this server")
		return
	}
	max := s.Plugins.Runtime().Limits().MaxModuleBytes
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, int64(max)))
	if err != nil {
		problem(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("a plugin module may be at most %d bytes", max))
		return
	}
	by := ""
	if p := principal(c); p != nil {
		by = p.Name
	}
	info, err := s.Plugins.Upload(c.Request.Context(), raw, by)
	if err != nil {
		pluginFail(c, err)
		return
	}
	c.Set(auditTarget, info.ID)
	// Stored by the plugin manager's own transaction; the event follows it.
	s.connectorUploaded(c, info.Spec, info.Hash)
	c.JSON(http.StatusCreated, info)
}

// installedConnectors lists every connector with where it comes from
// (builtin, file or plugin), whether it is enabled, its version and hash:
// what an admin Connectors page shows.
func (s *server) installedConnectors(c *gin.Context) {
	items := []connectorInfo{}
	if s.Connectors != nil {
		for _, in := range s.Connectors.List() {
			items = append(items, connectorInfo{in})
		}
	} else {
		for _, spec := range s.Registry.Specs() {
			conn, _ := s.Registry.Get(spec.ID)
			if _, plugin := conn.(*wasm.Connector); !plugin {
				items = append(items, connectorInfo{declarative.Info{ID: spec.ID, Version: spec.Version, Origin: "builtin", Enabled: true, Spec: spec}})
			}
		}
	}
	if s.Plugins != nil {
		list, err := s.Plugins.List(c.Request.Context())
		if err != nil {
			fail(c, err)
			return
		}
		for _, in := range list {
			items = append(items, connectorInfo{in})
		}
	}
	c.JSON(http.StatusOK, installedList{Items: items})
}

func (s *server) pluginVersions(c *gin.Context) {
	if s.Plugins == nil {
		problem(c, http.StatusNotImplemented, "WebAssembly plugins are not enabled on this server")
		return
	}
	vs, err := s.Plugins.Versions(c.Request.Context(), c.Param("id"))
	if err != nil {
		pluginFail(c, err)
		return
	}
	c.JSON(http.StatusOK, pluginVersionList{Items: vs})
}

func (s *server) activatePluginVersion(c *gin.Context) {
	if s.Plugins == nil {
		problem(c, http.StatusNotImplemented, "WebAssembly plugins are not enabled on this server")
		return
	}
	rev, err := strconv.Atoi(c.Param("version"))
	if err != nil || rev < 1 {
		problem(c, http.StatusBadRequest, "version must be a revision number (1, 2, …)")
		return
	}
	info, err := s.Plugins.Activate(c.Request.Context(), c.Param("id"), rev)
	if err != nil {
		pluginFail(c, err)
		return
	}
	c.JSON(http.StatusOK, info)
}

// pluginFail maps plugin errors: a refused module to 422 with the reason.
func pluginFail(c *gin.Context, err error) {
	var inv *wasm.InvalidError
	switch {
	case errors.As(err, &inv):
		problem(c, http.StatusUnprocessableEntity, "the plugin module is refused: "+inv.Reason,
			&FieldError{Path: "module", Message: inv.Reason})
	case errors.Is(err, plugins.ErrTaken):
		problem(c, http.StatusConflict, err.Error())
	case errors.Is(err, plugins.ErrNotFound):
		problem(c, http.StatusNotFound, err.Error())
	default:
		fail(c, err)
	}
}
