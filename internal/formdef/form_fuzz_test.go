package formdef

import (
	"net/url"
	"testing"
)

var fuzzForm = Definition{Fields: []Field{
	{Key: "name", Label: "Name", Type: "text", Required: true},
	{Key: "email", Label: "E-mail", Type: "email"},
	{Key: "seats", Label: "Seats", Type: "number", Min: NumberBound(1), Max: NumberBound(10)},
	{Key: "day", Label: "Day", Type: "date"},
	{Key: "plan", Label: "Plan", Type: "select", Options: []Option{{Value: "free", Label: "Free"}}},
	{Key: "agree", Label: "Agree", Type: "checkbox"},
}}

// Any posted values give typed values or field errors, never a panic, and
// a value the form accepts for a select is one of its options.
func FuzzParse(f *testing.F) {
	f.Add("Ada", "ada@example.com", "3", "2026-02-30", "free", "on")
	f.Add("", "not an email", "1e400", "9999-99-99", "pro", "yes")
	f.Add("\x00", "\xff@x", "NaN", "", "", "")
	f.Fuzz(func(t *testing.T, name, email, seats, day, plan, agree string) {
		v := url.Values{"name": {name}, "email": {email}, "seats": {seats}, "day": {day}, "plan": {plan}, "agree": {agree}}
		values, errs := Parse(fuzzForm, v)
		if _, bad := errs["plan"]; !bad && values["plan"] != nil && values["plan"] != "free" && values["plan"] != "" {
			t.Fatalf("plan %v accepted", values["plan"])
		}
	})
}
