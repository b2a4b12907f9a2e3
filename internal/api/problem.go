package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/internal/fielderr"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type      string        `json:"type"`
	Title     string        `json:"title"`
	Status    int           `json:"status"`
	Detail    string        `json:"detail,omitempty"`
	Instance  string        `json:"instance,omitempty"`
	RequestID string        `json:"request_id,omitempty"`
	Errors    []*FieldError `json:"errors,omitempty"`
}

// FieldError is one invalid field.
type FieldError = workflow.FieldError

// unmarshalStrict decodes one JSON value into v, refusing fields v does not
// have (a misspelt option must not be ignored silently) and trailing data.
// Numbers stay json.Number when useNumber is set.
func unmarshalStrict(raw []byte, v any, useNumber bool) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if useNumber {
		dec.UseNumber()
	}
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// utf8Body refuses a JSON body that is not UTF-8, saying where (400): Go's
// decoder would store U+FFFD in its place without a word.
func utf8Body(c *gin.Context, raw []byte) bool {
	if fe := fielderr.CheckUTF8(raw); fe != nil {
		problem(c, http.StatusBadRequest, fe.Message, fe)
		return false
	}
	return true
}

func problem(c *gin.Context, status int, detail string, fields ...*FieldError) {
	p := Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail,
		Instance: c.Request.URL.Path, RequestID: c.GetString(requestIDKey), Errors: fields}
	if len(fields) > 0 {
		p.Type = "https://switchboard.dev/problems/validation"
	}
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(status, p)
}

// fail maps an error to a safe response: known kinds to their status, the
// rest to 500 without internal text (it is logged with the request id).
func fail(c *gin.Context, err error) {
	if ve, ok := workflow.AsValidation(err); ok {
		problem(c, http.StatusUnprocessableEntity, "the workflow document is invalid", ve.Errors...)
		return
	}
	var inv *fielderr.Invalid
	if errors.As(err, &inv) {
		problem(c, http.StatusUnprocessableEntity, inv.Title(), inv.Fields()...)
		return
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		problem(c, http.StatusNotFound, err.Error())
	case errors.Is(err, store.ErrConflict):
		problem(c, http.StatusConflict, err.Error())
	default:
		_ = c.Error(err)
		problem(c, http.StatusInternalServerError, "internal error; see the server log for request "+c.GetString(requestIDKey))
	}
}

// reply answers v with status, or the problem err maps to.
func reply(c *gin.Context, status int, v any, err error) {
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(status, v)
}

// noContent answers 204, or the problem err maps to.
func noContent(c *gin.Context, err error) {
	if err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
