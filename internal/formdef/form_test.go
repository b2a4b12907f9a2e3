package formdef_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/formdef"
)

// signup has one field of every type.
const signup = `{
  "title": "Workshop sign-up",
  "description": "Tell us who you are.\n\nWe answer within a day.",
  "submit_label": "Sign me up",
  "fields": [
    {"key": "name", "label": "Full name", "required": true, "min_length": 2, "max_length": 10, "help": "As on your badge"},
    {"key": "bio", "label": "About you", "type": "textarea", "max_length": 20},
    {"key": "email", "label": "E-mail", "type": "email", "required": true, "prefill": true},
    {"key": "seats", "label": "Seats", "type": "number", "min": 1, "max": 10},
    {"key": "day", "label": "Day", "type": "date", "min": "2026-01-01", "max": "2026-12-31"},
    {"key": "plan", "label": "Plan", "type": "select", "required": true, "default": "free",
     "options": [{"value": "free", "label": "Free"}, {"value": "pro", "label": "Pro"}]},
    {"key": "size", "label": "T-shirt", "type": "radio", "options": [{"value": "s"}, {"value": "m"}]},
    {"key": "agree", "label": "I accept the terms", "type": "checkbox", "required": true},
    {"key": "news", "label": "Send me news", "type": "checkbox", "default": true},
    {"key": "code", "label": "Voucher", "pattern": "[A-Z]{3}-[0-9]{2}"},
    {"key": "source", "type": "hidden", "prefill": true, "default": "web"}
  ]
}`

func definition(t *testing.T, src string) formdef.Definition {
	t.Helper()
	var d formdef.Definition
	if err := json.Unmarshal([]byte(src), &d); err != nil {
		t.Fatal(err)
	}
	if err := d.ValidateAt("trigger.form"); err != nil {
		t.Fatalf("definition invalid: %v", err)
	}
	return d
}

func TestParseTypesValuesAndChecksEveryField(t *testing.T) {
	t.Parallel()
	d := definition(t, signup)
	valid := url.Values{"name": {"  Ada  "}, "email": {"ada@example.com"}, "plan": {"pro"}, "agree": {"on"}}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range valid {
			v[k] = vs
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "<absent>" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	cases := []struct {
		name   string
		posted url.Values
		field  string
		want   any    // the typed value, when valid
		errMsg string // the field's message, when not
	}{
		{"text is trimmed", valid, "name", "Ada", ""},
		{"text required", with("name", "   "), "name", nil, "This field is required"},
		{"text too short", with("name", "A"), "name", nil, "Must be at least 2 characters"},
		{"text too long", with("name", "Ada Lovelace King"), "name", nil, "Must be at most 10 characters"},
		{"length counts characters, not bytes", with("name", "Zoë Ünal"), "name", "Zoë Ünal", ""},
		{"textarea keeps line breaks", with("bio", "line one\r\nline two"), "bio", "line one\nline two", ""},
		{"textarea optional empty", valid, "bio", "", ""},
		{"textarea too long", with("bio", strings.Repeat("x", 21)), "bio", nil, "Must be at most 20 characters"},
		{"email valid", valid, "email", "ada@example.com", ""},
		{"email required", with("email", ""), "email", nil, "Enter an e-mail address"},
		{"email without at", with("email", "ada.example.com"), "email", nil, "Enter a valid e-mail address, such as name@example.com"},
		{"email with display name", with("email", "Ada <ada@example.com>"), "email", nil, "Enter a valid e-mail address, such as name@example.com"},
		{"email without dotted domain", with("email", "ada@localhost"), "email", nil, "Enter a valid e-mail address, such as name@example.com"},
		{"number is a float64", with("seats", "3"), "seats", 3.0, ""},
		{"number with decimals", with("seats", " 2.5 "), "seats", 2.5, ""},
		{"number optional empty is nil", valid, "seats", nil, ""},
		{"number not a number", with("seats", "three"), "seats", nil, "Enter a number"},
		{"number hex refused", with("seats", "0x5"), "seats", nil, "Enter a number"},
		{"number Inf refused", with("seats", "Inf"), "seats", nil, "Enter a number"},
		{"number below min", with("seats", "0"), "seats", nil, "Must be at least 1"},
		{"number above max", with("seats", "11"), "seats", nil, "Must be at most 10"},
		{"date is a YYYY-MM-DD string", with("day", "2026-05-04"), "day", "2026-05-04", ""},
		{"date optional empty is nil", valid, "day", nil, ""},
		{"date not real", with("day", "2026-02-30"), "day", nil, "Enter a real date written YYYY-MM-DD, such as 2026-01-31"},
		{"date other format", with("day", "04/05/2026"), "day", nil, "Enter a real date written YYYY-MM-DD, such as 2026-01-31"},
		{"date before min", with("day", "2025-12-31"), "day", nil, "Must be on or after 2026-01-01"},
		{"date after max", with("day", "2027-01-01"), "day", nil, "Must be on or before 2026-12-31"},
		{"select valid", valid, "plan", "pro", ""},
		{"select required", with("plan", ""), "plan", nil, "Choose one of the options"},
		{"select unknown option", with("plan", "gold"), "plan", nil, "Choose one of the options"},
		{"radio valid", with("size", "m"), "size", "m", ""},
		{"radio optional empty", valid, "size", "", ""},
		{"radio unknown option", with("size", "xl"), "size", nil, "Choose one of the options"},
		{"checkbox ticked is true", valid, "agree", true, ""},
		{"checkbox absent is false", valid, "news", false, ""},
		{"checkbox ticked optional", with("news", "on"), "news", true, ""},
		{"checkbox required unticked", with("agree", "<absent>"), "agree", nil, "Tick this box to continue"},
		{"pattern matches", with("code", "ABC-12"), "code", "ABC-12", ""},
		{"pattern is anchored", with("code", "xABC-12x"), "code", nil, "Does not match the expected format"},
		{"pattern optional empty", valid, "code", "", ""},
		{"hidden carries its value", with("source", "newsletter"), "source", "newsletter", ""},
		{"invalid UTF-8 refused", with("name", "Ad\xffa"), "name", nil, "Contains characters that are not allowed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			values, errs := formdef.Parse(d, c.posted)
			if c.errMsg != "" {
				if errs[c.field] != c.errMsg {
					t.Fatalf("error for %s = %q, want %q (all: %v)", c.field, errs[c.field], c.errMsg, errs)
				}
				if _, ok := values[c.field]; ok {
					t.Fatalf("an invalid field has a value: %v", values[c.field])
				}
				return
			}
			if len(errs) != 0 {
				t.Fatalf("unexpected errors: %v", errs)
			}
			got, ok := values[c.field]
			if !ok {
				t.Fatalf("no value for %s in %v", c.field, values)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("%s = %#v, want %#v", c.field, got, c.want)
			}
		})
	}
}

func TestParseEmptySubmissionNamesEveryRequiredFieldAndIgnoresUnknownKeys(t *testing.T) {
	t.Parallel()
	d := definition(t, signup)
	values, errs := formdef.Parse(d, url.Values{"admin": {"true"}, "website": {""}})
	want := map[string]string{
		"name": "This field is required", "email": "Enter an e-mail address",
		"plan": "Choose one of the options", "agree": "Tick this box to continue",
	}
	if !reflect.DeepEqual(errs, want) {
		t.Fatalf("errors = %v, want %v", errs, want)
	}
	if _, ok := values["admin"]; ok {
		t.Fatal("an unknown posted key became a value")
	}
	values, errs = formdef.Parse(d, url.Values{"name": {"Ada"}, "email": {"a@b.co"}, "plan": {"free"}, "agree": {"on"},
		"seats": {"4"}, "admin": {"true"}})
	if errs != nil {
		t.Fatalf("errors = %v", errs)
	}
	want2 := map[string]any{"name": "Ada", "bio": "", "email": "a@b.co", "seats": 4.0, "day": nil, "plan": "free",
		"size": "", "agree": true, "news": false, "code": "", "source": ""}
	if !reflect.DeepEqual(values, want2) {
		t.Fatalf("values = %#v\nwant %#v", values, want2)
	}
}

func TestInitialUsesDefaultsAndPrefillsFromTheQuery(t *testing.T) {
	t.Parallel()
	d := definition(t, signup)
	got := formdef.Initial(d, url.Values{"email": {"ada@example.com"}, "name": {"Mallory"}, "source": {"mail"}})
	want := url.Values{"email": {"ada@example.com"}, "plan": {"free"}, "news": {"on"}, "source": {"mail"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Initial = %v, want %v (name has no prefill, so the query must not set it)", got, want)
	}
	if got := formdef.Initial(d, nil); got.Get("source") != "web" {
		t.Fatalf("hidden default without a query = %q, want web", got.Get("source"))
	}
}

func TestDefaultsDecodedWithUseNumberStillWork(t *testing.T) {
	t.Parallel()
	// Workflow documents are decoded with UseNumber: numbers arrive as json.Number.
	dec := json.NewDecoder(strings.NewReader(`{"fields":[{"key":"n","label":"N","type":"number","default":7,"min":1}]}`))
	dec.UseNumber()
	var d formdef.Definition
	if err := dec.Decode(&d); err != nil {
		t.Fatal(err)
	}
	if err := d.ValidateAt("trigger.form"); err != nil {
		t.Fatal(err)
	}
	if got := formdef.Initial(d, nil).Get("n"); got != "7" {
		t.Fatalf("default = %q, want 7", got)
	}
	out, _ := json.Marshal(d)
	if !strings.Contains(string(out), `"min":1,"default":7`) {
		t.Fatalf("re-encoded = %s", out)
	}
}

func TestRenderShowsLabelsErrorsAndPreservedValues(t *testing.T) {
	t.Parallel()
	d := definition(t, signup)
	posted := url.Values{"name": {`<i>Ada</i>`}, "email": {"not-an-email"}, "seats": {"42"},
		"plan": {"pro"}, "size": {"m"}, "news": {"on"}, "bio": {"hello\nthere"}}
	_, errs := formdef.Parse(d, posted)
	var buf bytes.Buffer
	if err := formdef.Render(&buf, d, formdef.Data{Values: posted, Errors: errs}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{
		`<html lang="en">`,
		`<title>Error: Workshop sign-up</title>`,
		`<h1>Workshop sign-up</h1>`,
		`<p>Tell us who you are.</p>`, `<p>We answer within a day.</p>`,
		// labels bound to inputs
		`<label for="f-name">Full name</label>`,
		`<label for="f-bio">About you <span class="optional">(optional)</span></label>`,
		`<legend>T-shirt <span class="optional">(optional)</span></legend>`,
		`<label for="f-size-1">m</label>`,
		`<label for="f-agree">I accept the terms</label>`,
		// error summary linking to the fields, focused on load
		`role="alert"`, `autofocus`, `There is a problem`,
		`<a href="#f-email">E-mail: Enter a valid e-mail address, such as name@example.com</a>`,
		`<a href="#f-seats">Seats: Must be at most 10</a>`,
		`<a href="#f-agree">I accept the terms: Tick this box to continue</a>`,
		// messages tied to inputs
		`<span class="error" id="f-email-error"><span class="visually-hidden">Error: </span>Enter a valid e-mail address, such as name@example.com</span>`,
		`id="f-email" name="email" value="not-an-email"`,
		`aria-describedby="f-email-error" aria-invalid="true" required>`,
		`aria-describedby="f-name-help"`,
		// entered values kept, escaped
		`value="&lt;i&gt;Ada&lt;/i&gt;"`,
		`id="f-seats" name="seats" value="42" inputmode="decimal"`,
		`<option value="pro" selected>Pro</option>`,
		`<input type="radio" id="f-size-1" name="size" value="m" checked>`,
		`name="news" value="on" checked`,
		">hello\nthere</textarea>",
		`<input type="date" id="f-day" name="day" value="" min="2026-01-01" max="2026-12-31">`,
		`<input type="hidden" name="source" value="">`,
		// the honeypot: hidden from people and assistive technology, labelled
		`<div class="trap" aria-hidden="true"><label for="hp-website">Leave this empty</label><input type="text" id="hp-website" name="website" value="" tabindex="-1" autocomplete="off"></div>`,
		`<form method="post" accept-charset="utf-8" novalidate>`,
		`<button type="submit">Sign me up</button>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<i>") {
		t.Error("entered text reached the page unescaped")
	}
	if strings.Contains(page, `id="f-name-error"`) {
		t.Error("a valid field shows an error")
	}
}

func TestRenderFreshPageAndSuccessPage(t *testing.T) {
	t.Parallel()
	d := definition(t, signup)
	var buf bytes.Buffer
	if err := formdef.Render(&buf, d, formdef.Data{Values: formdef.Initial(d, url.Values{"email": {"a@b.co"}})}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if strings.Contains(page, "There is a problem") || strings.Contains(page, "aria-invalid") || strings.Contains(page, "Error:") {
		t.Error("a fresh page shows errors")
	}
	for _, want := range []string{`name="email" value="a@b.co"`, `<option value="free" selected>Free</option>`,
		`name="news" value="on" checked`, `<input type="hidden" name="source" value="web">`} {
		if !strings.Contains(page, want) {
			t.Errorf("fresh page lacks %q", want)
		}
	}

	buf.Reset()
	d.Success = &formdef.Success{Message: "Thanks, <b>see you</b> there!"}
	if err := formdef.RenderSuccess(&buf, d); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `role="status"`) || !strings.Contains(buf.String(), "Thanks, &lt;b&gt;see you&lt;/b&gt; there!") {
		t.Fatalf("success page: %s", buf.String())
	}
	buf.Reset()
	if err := formdef.RenderSuccess(&buf, formdef.Definition{}); err != nil || !strings.Contains(buf.String(), "Thank you. Your response has been received.") {
		t.Fatalf("default success page: %v %s", err, buf.String())
	}
}

func TestHoneypotAvoidsARealFieldNamedWebsite(t *testing.T) {
	t.Parallel()
	d := definition(t, `{"fields":[{"key":"website","label":"Your website"}]}`)
	if hp := d.Honeypot(); hp == "website" || hp == "" {
		t.Fatalf("honeypot = %q", hp)
	}
	if d.HoneypotFilled(url.Values{"website": {"https://ada.dev"}}) {
		t.Fatal("the real website field counted as the trap")
	}
	if !d.HoneypotFilled(url.Values{d.Honeypot(): {"spam"}}) {
		t.Fatal("the trap was filled but not noticed")
	}
	plain := definition(t, `{"fields":[{"key":"name","label":"Name"}]}`)
	if plain.Honeypot() != "website" || !plain.HoneypotFilled(url.Values{"website": {"x"}}) || plain.HoneypotFilled(url.Values{"website": {" "}}) {
		t.Fatal("honeypot website not detected")
	}
}

func TestValidateAtNamesExactPaths(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		def  string
		want []string
	}{
		{"no fields", `{"fields":[]}`, []string{"trigger.form.fields: needs at least one field"}},
		{"bad regexp", `{"fields":[{"key":"a","label":"A"},{"key":"b","label":"B"},{"key":"c","label":"C","pattern":"(ab"}]}`,
			[]string{"trigger.form.fields[2].pattern: invalid regexp: missing closing ): `(ab`"}},
		{"keys", `{"fields":[{"label":"A"},{"key":"1x","label":"B"},{"key":"ok","label":"C"},{"key":"ok","label":"D"}]}`,
			[]string{"trigger.form.fields[0].key: is required",
				"trigger.form.fields[1].key: must start with a letter and hold only letters, digits and _ (at most 64)",
				"trigger.form.fields[3].key: duplicates the key of fields[2]"}},
		{"type and label", `{"fields":[{"key":"a","type":"color","label":"A"},{"key":"b"},{"key":"h","type":"hidden"}]}`,
			[]string{"trigger.form.fields[0].type: unknown field type \"color\" (text, textarea, email, number, date, select, radio, checkbox or hidden)",
				"trigger.form.fields[1].label: is required: every visible field needs a label"}},
		{"bounds", `{"fields":[{"key":"n","label":"N","type":"number","min":5,"max":1},{"key":"d","label":"D","type":"date","min":3,"max":"2026-13-01"},{"key":"t","label":"T","min":1}]}`,
			[]string{"trigger.form.fields[0].max: is less than min",
				"trigger.form.fields[1].min: must be a date such as \"2026-01-31\" for a date field",
				"trigger.form.fields[1].max: must be a date written YYYY-MM-DD, not \"2026-13-01\"",
				"trigger.form.fields[2].min: applies only to number and date fields (use min_length and max_length for text)"}},
		{"lengths", `{"fields":[{"key":"a","label":"A","min_length":5,"max_length":2},{"key":"b","label":"B","type":"number","max_length":3},{"key":"c","label":"C","type":"checkbox","pattern":"x"}]}`,
			[]string{"trigger.form.fields[0].max_length: is less than min_length",
				"trigger.form.fields[1]: min_length and max_length apply only to text, textarea, email and hidden fields",
				"trigger.form.fields[2].pattern: applies only to text, textarea, email and hidden fields"}},
		{"options", `{"fields":[{"key":"a","label":"A","type":"select"},{"key":"b","label":"B","type":"radio","options":[{"value":"x"},{"value":"x"},{"value":""}]},{"key":"c","label":"C","options":[{"value":"x"}]}]}`,
			[]string{"trigger.form.fields[0].options: needs at least one option for a select field",
				"trigger.form.fields[1].options[1].value: duplicates the value of options[0]",
				"trigger.form.fields[1].options[2].value: is required",
				"trigger.form.fields[2].options: apply only to select and radio fields"}},
		{"defaults", `{"fields":[{"key":"a","label":"A","type":"checkbox","default":"yes"},{"key":"b","label":"B","type":"number","default":"many"},{"key":"c","label":"C","type":"select","options":[{"value":"x"}],"default":"y"},{"key":"d","label":"D","type":"date","default":"tomorrow"}]}`,
			[]string{"trigger.form.fields[0].default: must be true or false for a checkbox",
				"trigger.form.fields[1].default: must be a number for a number field",
				"trigger.form.fields[2].default: must be the value of one of the options",
				"trigger.form.fields[3].default: must be a date written YYYY-MM-DD"}},
		{"success", `{"fields":[{"key":"a","label":"A"}],"success":{"message":"hi","redirect":"https://x.test"}}`,
			[]string{"trigger.form.success: set message or redirect, not both"}},
		{"redirect", `{"fields":[{"key":"a","label":"A"}],"success":{"redirect":"javascript:alert(1)"}}`,
			[]string{"trigger.form.success.redirect: must be an absolute http or https URL"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d formdef.Definition
			if err := json.Unmarshal([]byte(c.def), &d); err != nil {
				t.Fatal(err)
			}
			err := d.ValidateAt("trigger.form")
			var ve *formdef.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want *ValidationError, got %v", err)
			}
			var got []string
			for _, fe := range ve.Errors {
				got = append(got, fe.Error())
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
	if err := definition(t, signup).ValidateAt("x"); err != nil {
		t.Fatalf("the sign-up form is valid: %v", err)
	}
}
