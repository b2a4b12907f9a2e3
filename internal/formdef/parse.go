package formdef

import (
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// numberPattern is a plain decimal number: no hex, no Inf or NaN, no "1_000".
var numberPattern = regexp.MustCompile(`^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$`)

// Parse checks a submission against the definition, as the server must
// whatever the browser did. It returns the typed value of every field —
// number → float64 (nil when left empty), checkbox → bool, date →
// "YYYY-MM-DD" (nil when left empty), the others → string — and one message
// per invalid field, by key (nil when the submission is valid). Posted keys
// that are not fields are ignored.
func Parse(d Definition, posted url.Values) (values map[string]any, fieldErrors map[string]string) {
	values = make(map[string]any, len(d.Fields))
	for i := range d.Fields {
		f := &d.Fields[i]
		v, msg := parseField(f, posted.Get(f.Key))
		if msg != "" {
			if fieldErrors == nil {
				fieldErrors = map[string]string{}
			}
			fieldErrors[f.Key] = msg
			continue
		}
		values[f.Key] = v
	}
	return values, fieldErrors
}

func parseField(f *Field, raw string) (any, string) {
	kind := f.kind()
	if !utf8.ValidString(raw) || strings.ContainsRune(raw, 0) {
		return nil, "Contains characters that are not allowed"
	}
	if kind == TypeCheckbox {
		on := checked(raw)
		if f.Required && !on {
			return nil, "Tick this box to continue"
		}
		return on, ""
	}
	v := strings.TrimSpace(raw)
	if kind == TypeTextarea {
		// Browsers send CRLF line ends; keep the text as typed otherwise.
		v = strings.ReplaceAll(raw, "\r\n", "\n")
		if strings.TrimSpace(v) == "" {
			v = ""
		}
	}
	if v == "" {
		if f.Required {
			return nil, requiredMessage(kind)
		}
		if kind == TypeNumber || kind == TypeDate {
			return nil, ""
		}
		return "", ""
	}
	switch kind {
	case TypeNumber:
		if !numberPattern.MatchString(v) {
			return nil, "Enter a number"
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, "Enter a number"
		}
		if f.Min != nil && f.Min.Number != nil && n < *f.Min.Number {
			return nil, "Must be at least " + formatNumber(*f.Min.Number)
		}
		if f.Max != nil && f.Max.Number != nil && n > *f.Max.Number {
			return nil, "Must be at most " + formatNumber(*f.Max.Number)
		}
		return n, ""
	case TypeDate:
		t, err := time.Parse(DateLayout, v)
		if err != nil {
			return nil, "Enter a real date written YYYY-MM-DD, such as 2026-01-31"
		}
		v = t.Format(DateLayout)
		if f.Min != nil && f.Min.Number == nil && validDate(f.Min.Date) && v < f.Min.Date {
			return nil, "Must be on or after " + f.Min.Date
		}
		if f.Max != nil && f.Max.Number == nil && validDate(f.Max.Date) && v > f.Max.Date {
			return nil, "Must be on or before " + f.Max.Date
		}
		return v, ""
	case TypeSelect, TypeRadio:
		for _, o := range f.Options {
			if o.Value == v {
				return v, ""
			}
		}
		return nil, "Choose one of the options"
	case TypeEmail:
		if !validEmail(v) {
			return nil, "Enter a valid e-mail address, such as name@example.com"
		}
	}
	// text, textarea, email, hidden
	n := utf8.RuneCountInString(v)
	if f.MinLength > 0 && n < f.MinLength {
		return nil, "Must be at least " + plural(f.MinLength, "character")
	}
	if f.MaxLength > 0 && n > f.MaxLength {
		return nil, "Must be at most " + plural(f.MaxLength, "character")
	}
	if f.Pattern != "" {
		re, err := compilePattern(f.Pattern)
		if err != nil || !re.MatchString(v) {
			return nil, "Does not match the expected format"
		}
	}
	return v, ""
}

func requiredMessage(kind string) string {
	switch kind {
	case TypeEmail:
		return "Enter an e-mail address"
	case TypeNumber:
		return "Enter a number"
	case TypeDate:
		return "Enter a date"
	case TypeSelect, TypeRadio:
		return "Choose one of the options"
	}
	return "This field is required"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// checked reads a checkbox: browsers send "on" (or the value attribute) when
// ticked and nothing when not.
func checked(raw string) bool {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "", "false", "off", "0", "no":
		return false
	}
	return true
}

// validEmail accepts a bare address with a dotted domain: what a person
// types into an e-mail field, not a display name or a local host.
func validEmail(s string) bool {
	if len(s) > 254 {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") &&
		!strings.HasSuffix(domain, ".") && !strings.Contains(domain, "..")
}
