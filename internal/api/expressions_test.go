package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

const evaluatePath = "/api/v1/expressions/evaluate"

const sampleData = `"data": {"trigger": {"body": {"total": 125, "name": "Ada", "items": [{"sku": "A"}, {"sku": "B"}],
  "created_at": "2026-03-29T01:30:00Z"}}, "item": {"sku": "C"}, "index": 2, "vars": {"currency": "EUR"}}`

func TestEvaluateExpression(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		cases := []struct {
			body     string
			wantType string
			want     string // the value as JSON
		}{
			{`{"expression": "trigger.body.total * 2", ` + sampleData + `}`, "number", `250`},
			{`{"expression": "trigger.body.total > 100", ` + sampleData + `}`, "boolean", `true`},
			{`{"expression": "index + 1", ` + sampleData + `}`, "number", `3`},
			{`{"expression": "map(trigger.body.items, .sku)", ` + sampleData + `}`, "list", `["A","B"]`},
			{`{"expression": "{'sku': item.sku, 'currency': vars.currency}", ` + sampleData + `}`, "object", `{"currency":"EUR","sku":"C"}`},
			{`{"expression": "trigger.body.missing", ` + sampleData + `}`, "null", `null`},
			{`{"expression": "steps.fetch"}`, "null", `null`},
			{`{"expression": "parseDate(trigger.body.created_at, '', 'Europe/Berlin')", ` + sampleData + `}`,
				"time", `"2026-03-29T03:30:00+02:00"`},
			{`{"expression": "duration('90m')"}`, "string", `"1h30m0s"`},
			{`{"template": "Hi {{ trigger.body.name }}, {{ len(trigger.body.items) }} items", ` + sampleData + `}`,
				"string", `"Hi Ada, 2 items"`},
			{`{"template": "{{ trigger.body.total }}", ` + sampleData + `}`, "number", `125`},
			{`{"template": "plain"}`, "string", `"plain"`},
		}
		for _, c := range cases {
			r := b.do(t, "POST", evaluatePath, "application/json", c.body)
			if r.status != 200 {
				t.Fatalf("%s: %d %s", c.body, r.status, r.raw)
			}
			var got struct {
				Value json.RawMessage `json:"value"`
				Type  string          `json:"type"`
			}
			if err := json.Unmarshal([]byte(r.raw), &got); err != nil {
				t.Fatal(err)
			}
			if got.Type != c.wantType || string(got.Value) != c.want {
				t.Errorf("%s: got %s (%s), want %s (%s)", c.body, got.Value, got.Type, c.want, c.wantType)
			}
		}
	})
}

func TestEvaluateExpressionErrors(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		cases := []struct {
			body        string
			path        string
			line, col   int    // 0: not checked
			wantMessage string // in the field's message
		}{
			{`{"expression": "trigger.body.total >"}`, "expression", 1, 20, "unexpected token"},
			{`{"expression": "trigerr.body"}`, "expression", 1, 1, "unknown name"},
			{`{"template": "Hello\n{{ trigger.body. }}"}`, "template", 2, 0, ""},
			{`{"template": "Hi\n  {{ trigger.body.missing.x }}", ` + sampleData + `}`, "template", 2, 27, "cannot fetch x"},
			{`{"expression": "1..100000000"}`, "expression", 1, 0, "limit"},
			{`{"template": "{{ repeat('x', 2000000) }}"}`, "template", 1, 0, "limit"},
			{`{"expression": "1 / 0"}`, "expression", 0, 0, "not a number JSON can hold"},
		}
		for _, c := range cases {
			r := b.do(t, "POST", evaluatePath, "application/json", c.body)
			if r.status != 422 || r.header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%s: status %d, type %q: %s", c.body, r.status, r.header.Get("Content-Type"), r.raw)
			}
			errs, _ := r.body["errors"].([]any)
			if len(errs) != 1 {
				t.Fatalf("%s: errors = %v", c.body, r.body["errors"])
			}
			fe := errs[0].(map[string]any)
			line, _ := fe["line"].(float64)
			col, _ := fe["column"].(float64)
			msg, _ := fe["message"].(string)
			if fe["path"] != c.path || (c.line > 0 && int(line) != c.line) || (c.col > 0 && int(col) != c.col) ||
				!strings.Contains(msg, c.wantMessage) {
				t.Errorf("%s: field error %v, want path %s at %d:%d mentioning %q", c.body, fe, c.path, c.line, c.col, c.wantMessage)
			}
		}
		r := b.do(t, "POST", evaluatePath, "application/json", `{"expression": "1..100000000"}`)
		if !strings.Contains(r.body["detail"].(string), "limit") {
			t.Errorf("limit: detail = %v", r.body["detail"])
		}
	})
}

func TestEvaluateExpressionBadRequests(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		big := `{"expression": "1", "data": {"trigger": "` + strings.Repeat("x", 300<<10) + `"}}`
		cases := []struct{ body, want string }{
			{`{"data": {}}`, `give "expression" or "template"`},
			{`{"expression": "1", "template": "2"}`, "only one of"},
			{`not json`, "not valid"},
			{``, "empty"},
			{`{"expression": "1"} {}`, "after the JSON object"},
			{`{"expresion": "1"}`, `unknown field "expresion"`},
			{`{"expression": 1}`, "not valid"},
			{`{"expression": "1", "data": {"trgger": {}}}`, "data.trgger is not a name"},
			{big, "larger than 256 KiB"},
		}
		for _, c := range cases {
			r := b.do(t, "POST", evaluatePath, "application/json", c.body)
			detail, _ := r.body["detail"].(string)
			if r.status != 400 || r.header.Get("Content-Type") != "application/problem+json" || !strings.Contains(detail, c.want) {
				t.Errorf("%.60s: %d %q, want 400 mentioning %q", c.body, r.status, detail, c.want)
			}
		}
	})
}
