package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/internal/expr"
)

// maxEvaluateBytes bounds an evaluate request (expression and sample data).
const maxEvaluateBytes = 256 << 10

type evaluateRequest struct {
	Expression *string        `json:"expression" required:"false" nullable:"false" description:"an expression (give this or template)"`
	Template   *string        `json:"template" required:"false" nullable:"false" description:"a {{ }} template (give this or expression)"`
	Data       map[string]any `json:"data" required:"false" nullable:"false" description:"sample data: trigger, steps, vars"`
}

// evaluateExpression is the editor's live preview: it evaluates one
// expression, or renders one {{ }} template, against sample data, with the
// limits a run has.
//
//	POST /api/v1/expressions/evaluate
//	{"expression": "trigger.body.total > 100", "data": {"trigger": {"body": {"total": 250}}}}
//	200 {"value": true, "type": "boolean"}
func (s *server) evaluateExpression(c *gin.Context) {
	req, ok := readEvaluateRequest(c)
	if !ok {
		return
	}
	env, err := evaluateEnv(req.Data)
	if err != nil {
		problem(c, http.StatusBadRequest, err.Error())
		return
	}
	var v any
	field := "expression"
	if req.Expression != nil {
		p, err := expr.Compile(*req.Expression)
		if err != nil {
			expressionProblem(c, field, "the expression does not compile", err)
			return
		}
		if v, err = p.Run(env); err != nil {
			expressionProblem(c, field, "the expression failed on the sample data", err)
			return
		}
	} else {
		field = "template"
		t, err := expr.ParseTemplate(*req.Template)
		if err != nil {
			expressionProblem(c, field, "the template does not compile", err)
			return
		}
		if v, err = t.Render(env); err != nil {
			expressionProblem(c, field, "the template failed on the sample data", err)
			return
		}
	}
	value, typ, err := shown(v)
	if err == nil {
		var b []byte
		if b, err = json.Marshal(evaluated{Type: typ, Value: value}); err == nil {
			c.Data(http.StatusOK, "application/json; charset=utf-8", b)
			return
		}
	}
	problem(c, http.StatusUnprocessableEntity, "the result cannot be shown as JSON",
		&FieldError{Path: field, Message: err.Error()})
}

func readEvaluateRequest(c *gin.Context) (*evaluateRequest, bool) {
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxEvaluateBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			problem(c, http.StatusBadRequest, "the request body is larger than 256 KiB; send a smaller sample in data")
		} else {
			problem(c, http.StatusBadRequest, "the request body could not be read")
		}
		return nil, false
	}
	if !utf8Body(c, raw) {
		return nil, false
	}
	const shape = `the request body must be a JSON object: {"expression": "…"} or {"template": "…"}, with optional "data"`
	if len(bytes.TrimSpace(raw)) == 0 {
		problem(c, http.StatusBadRequest, "the request body is empty; "+shape)
		return nil, false
	}
	var req evaluateRequest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		problem(c, http.StatusBadRequest, "the request body is not valid: "+err.Error()+"; "+shape)
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		problem(c, http.StatusBadRequest, "the request body has data after the JSON object; "+shape)
		return nil, false
	}
	switch {
	case req.Expression == nil && req.Template == nil:
		problem(c, http.StatusBadRequest, `give "expression" or "template"`)
		return nil, false
	case req.Expression != nil && req.Template != nil:
		problem(c, http.StatusBadRequest, `give only one of "expression" and "template", not both`)
		return nil, false
	}
	return &req, true
}

// evaluateEnv builds the names a run sees from the sample data. As in a run,
// steps and vars are objects even when not given; other missing names are nil.
func evaluateEnv(data map[string]any) (map[string]any, error) {
	env := map[string]any{"steps": map[string]any{}, "vars": map[string]any{}}
	for k, v := range data {
		if !slices.Contains(expr.Names, k) {
			return nil, fmt.Errorf("data.%s is not a name expressions can use; use %s", k, strings.Join(expr.Names, ", "))
		}
		env[k] = v
	}
	// One work budget for the request (a template's parts share it).
	env[expr.BudgetName] = expr.NewBudget(expr.StepBudget)
	// A run's index is a whole number, not JSON's float.
	if f, ok := env["index"].(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		env["index"] = int(f)
	}
	return env, nil
}

func expressionProblem(c *gin.Context, field, detail string, err error) {
	fe := &FieldError{Path: field, Message: err.Error()}
	var ee *expr.Error
	if errors.As(err, &ee) {
		fe.Line, fe.Column, fe.Message = ee.Line, ee.Column, ee.Message
	}
	if errors.Is(err, expr.ErrLimit) {
		detail = "the " + field + " exceeded a limit"
	}
	problem(c, http.StatusUnprocessableEntity, detail, fe)
}

// shown turns a result into JSON-ready form and names its type: string,
// number, boolean, object, list, null or time (RFC 3339).
func shown(v any) (any, string, error) {
	switch x := v.(type) {
	case nil:
		return nil, "null", nil
	case string:
		return x, "string", nil
	case bool:
		return x, "boolean", nil
	case time.Time:
		return x.Format(time.RFC3339Nano), "time", nil
	}
	out, err := jsonable(v)
	if err != nil {
		return nil, "", err
	}
	switch out.(type) {
	case []any:
		return out, "list", nil
	case map[string]any:
		return out, "object", nil
	case float64, int64, uint64:
		return out, "number", nil
	case string:
		return out, "string", nil
	}
	return out, "object", nil
}

// jsonable converts what expr may return into what encoding/json writes
// faithfully: maps with keys of any type get string keys, durations become
// text ("1h30m0s"), and a number JSON cannot hold (NaN, ±Inf) is an error.
func jsonable(v any) (any, error) {
	switch x := v.(type) {
	case nil, string, bool:
		return x, nil
	case time.Time:
		return x.Format(time.RFC3339Nano), nil
	case time.Duration:
		return x.String(), nil
	case *time.Location:
		return x.String(), nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			j, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			out[i] = j
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			j, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			out[k] = j
		}
		return out, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return rv.Uint(), nil
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("the result %v is not a number JSON can hold", f)
		}
		return f, nil
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			j, err := jsonable(rv.Index(i).Interface())
			if err != nil {
				return nil, err
			}
			out[i] = j
		}
		return out, nil
	case reflect.Map:
		out := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			j, err := jsonable(it.Value().Interface())
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(it.Key().Interface())] = j
		}
		return out, nil
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil, nil
		}
		return jsonable(rv.Elem().Interface())
	case reflect.Struct:
		return v, nil // encoding/json writes it as an object
	}
	return fmt.Sprint(v), nil
}
