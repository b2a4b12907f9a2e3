package workflow_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/workflow"
)

func TestMapFieldsKeepTheirOrderThroughParseAndMarshal(t *testing.T) {
	doc := `{"schema":"switchboard/v1","name":"order","trigger":{"type":"webhook"},"steps":[
	 {"id":"msg","type":"map","fields":{"zeta":"1","alpha":{"b":2,"a":1},"mid":"{{ trigger.body.x }}"}},
	 {"id":"each","type":"for_each","items":"{{ trigger.body.list }}","steps":[
	   {"id":"inner","type":"map","fields":{"z":1,"a":2}}]},
	 {"id":"route","type":"paths","paths":[{"name":"one","steps":[{"id":"p1","type":"map","fields":{"second":1,"first":2}}]}]}]}`
	d, err := workflow.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	out := string(b)
	for _, want := range []string{
		`"fields":{"zeta":"1","alpha":{"a":1,"b":2},"mid":"{{ trigger.body.x }}"}`,
		`"fields":{"z":1,"a":2}`,
		`"fields":{"second":1,"first":2}`,
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("marshalled document lost the field order %s:\n%s", want, out)
		}
	}
	// Parsing the output again keeps it (a saved document read and saved again).
	d2, err := workflow.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(d2)
	if string(b2) != out {
		t.Fatalf("second round changed the document:\n%s\n%s", out, b2)
	}
	// A key added in code (no recorded place) comes after the written ones.
	d2.Steps[0].Fields["added"] = true
	b3, _ := json.Marshal(d2.Steps[0])
	if !strings.Contains(string(b3), `"mid":"{{ trigger.body.x }}","added":true}`) {
		t.Fatalf("added key: %s", b3)
	}
}
