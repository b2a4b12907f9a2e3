package expr

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/vm/runtime"
	"golang.org/x/text/unicode/norm"
)

// MaxOutputBytes bounds any string an expression produces (its result, a
// rendered template, or a value on the way) and the JSON form of a list or
// object it returns.
const MaxOutputBytes = 1 << 20

// helpers are Switchboard's functions on top of expr's builtins (lower, upper,
// trim, split, replace, join, round, now, date, duration, timezone, toJSON,
// fromJSON, toBase64, fromBase64, map, filter, sum, first, last, uniq, sort…).
func helpers() []expr.Option {
	return []expr.Option{
		// Strings.
		expr.Function("slugify", limited(slugify), new(func(string) string)),
		expr.Function("truncate", truncate, new(func(string, int) string)),
		expr.Function("urlEncode", limited(urlEncode), new(func(string) string)),
		// Numbers.
		expr.Function("roundTo", roundToFn, new(func(float64, int) float64)),
		// Dates and IANA time zones. A date is a time or a string (RFC 3339 as
		// in JSON, or one of the forms parseDate knows).
		// (Overloads run from most to fewest arguments: a type error names the
		// argument rather than the count.)
		expr.Function("formatDate", formatDate,
			new(func(any, string, string) string), new(func(any, string) string)),
		expr.Function("parseDate", parseDate,
			new(func(any, string, string) time.Time), new(func(any, string) time.Time), new(func(any) time.Time)),
		expr.Function("toUnix", toUnix, new(func(any) int)),
		expr.Function("fromUnix", fromUnix, new(func(float64, string) time.Time), new(func(float64) time.Time)),
		// Hashing.
		expr.Function("hmacSha256", hmacSha256, new(func(string, string) string)),

		// Guards on builtins whose output can outgrow their input many times
		// over (repeat, replace, join, toJSON, string) or by a constant factor
		// (upper, lower, toBase64), and on +, so no value on the way to the
		// result can exceed MaxOutputBytes. expr's memory budget does not count
		// string bytes.
		guard("repeat", repeatSize),
		guard("replace", replaceSize),
		guard("join", joinSize),
		guard("toJSON", firstArgSize),
		guard("string", firstArgSize),
		guard("upper", nil),
		guard("lower", nil),
		guard("toBase64", nil),
		expr.Function(addFunc, add, new(func(any, any) any)),
		expr.Patch(addPatcher{}),
	}
}

func limitError(what string, n int, atLeast bool) error {
	q := ""
	if atLeast {
		q = "at least "
	}
	return &Error{Message: fmt.Sprintf("%s is %s%d bytes; the limit is %d", what, q, n, MaxOutputBytes), cause: ErrLimit}
}

// checkOutput rejects a result that is too big: a string by its length, a
// list or object by a lower bound of its size as JSON (counted only until it
// passes the limit).
func checkOutput(v any) error {
	switch x := v.(type) {
	case nil, bool, int, float64, time.Time, time.Duration:
		return nil
	case string:
		if len(x) > MaxOutputBytes {
			return limitError("expression output", len(x), false)
		}
		return nil
	}
	if n := sizeAtLeast(v, MaxOutputBytes); n > MaxOutputBytes {
		return limitError("expression output as JSON", n, true)
	}
	return nil
}

// sizeAtLeast returns a lower bound of the size of v as text (JSON or %v):
// string bytes, a byte per other scalar and per separator. It stops counting
// once the total passes limit, so its cost is bounded by the limit.
func sizeAtLeast(v any, limit int) int {
	n := 0
	var walk func(v any)
	walk = func(v any) {
		if n > limit {
			return
		}
		switch x := v.(type) {
		case string:
			n += len(x)
		case nil, bool, int, float64:
			n++
		case []any:
			n += len(x) + 1
			for _, e := range x {
				if n > limit {
					return
				}
				walk(e)
			}
		case map[string]any:
			n += len(x) + 1
			for k, e := range x {
				if n > limit {
					return
				}
				n += len(k)
				walk(e)
			}
		case []string:
			n += len(x) + 1
			for _, e := range x {
				n += len(e)
				if n > limit {
					return
				}
			}
		default:
			rv := reflect.ValueOf(v)
			switch rv.Kind() {
			case reflect.Slice, reflect.Array:
				n += rv.Len() + 1
				for i := 0; i < rv.Len() && n <= limit; i++ {
					walk(rv.Index(i).Interface())
				}
			case reflect.Map:
				n += rv.Len() + 1
				it := rv.MapRange()
				for it.Next() && n <= limit {
					walk(it.Key().Interface())
					walk(it.Value().Interface())
				}
			case reflect.String:
				n += rv.Len()
			case reflect.Pointer, reflect.Interface:
				if !rv.IsNil() {
					walk(rv.Elem().Interface())
				} else {
					n++
				}
			default:
				n++
			}
		}
	}
	walk(v)
	return n
}

// limited checks the length of a helper's string result.
func limited(fn func(...any) (any, error)) func(...any) (any, error) {
	return func(p ...any) (any, error) {
		v, err := fn(p...)
		if s, ok := v.(string); ok && err == nil && len(s) > MaxOutputBytes {
			return nil, limitError("output", len(s), false)
		}
		return v, err
	}
}

// guard replaces builtin name with the same function behind a size check:
// pre, when given, computes the result's size (or a lower bound) before
// anything is allocated; every string result is checked after.
func guard(name string, pre func(args []any) int) expr.Option {
	return func(c *conf.Config) {
		orig, ok := c.Builtins[name]
		if !ok {
			panic("expr: no builtin " + name)
		}
		call := orig.Func
		switch {
		case orig.Fast != nil:
			fast := orig.Fast
			call = func(args ...any) (any, error) { return fast(args[0]), nil }
		case orig.Safe != nil:
			safe := orig.Safe
			call = func(args ...any) (any, error) { v, _, err := safe(args...); return v, err }
		}
		c.Functions[name] = &builtin.Function{
			Name:     name,
			Types:    orig.Types,
			Validate: orig.Validate,
			Func: func(args ...any) (any, error) {
				if pre != nil {
					if n := pre(args); n > MaxOutputBytes {
						return nil, limitError("output of "+name, n, true)
					}
				}
				v, err := call(args...)
				if s, ok := v.(string); ok && err == nil && len(s) > MaxOutputBytes {
					return nil, limitError("output of "+name, len(s), false)
				}
				return v, err
			},
		}
	}
}

func repeatSize(args []any) int {
	s, _ := args[0].(string)
	n, err := toInt(args[1], "repeat")
	if err != nil || n <= 0 || len(s) == 0 {
		return 0
	}
	if len(s) > MaxOutputBytes/n {
		return MaxOutputBytes + 1
	}
	return len(s) * n
}

func replaceSize(args []any) int {
	s, ok1 := args[0].(string)
	old, ok2 := args[1].(string)
	repl, ok3 := args[2].(string)
	if !ok1 || !ok2 || !ok3 || len(repl) <= len(old) {
		return 0
	}
	var count int
	if old == "" {
		count = utf8.RuneCountInString(s) + 1
	} else {
		count = strings.Count(s, old)
	}
	if len(args) == 4 {
		if n, err := toInt(args[3], "replace"); err == nil && n >= 0 && n < count {
			count = n
		}
	}
	return len(s) + count*(len(repl)-len(old))
}

func joinSize(args []any) int {
	glue := 0
	if len(args) == 2 {
		if g, ok := args[1].(string); ok {
			glue = len(g)
		}
	}
	n := 0
	switch list := args[0].(type) {
	case []string:
		for _, s := range list {
			if n += len(s) + glue; n > MaxOutputBytes {
				return n
			}
		}
	case []any:
		for _, e := range list {
			if s, ok := e.(string); ok {
				if n += len(s) + glue; n > MaxOutputBytes {
					return n
				}
			}
		}
	}
	return n
}

func firstArgSize(args []any) int {
	switch args[0].(type) {
	case nil, bool, int, float64, string, time.Time, time.Duration:
		return 0 // the result is checked after
	}
	return sizeAtLeast(args[0], MaxOutputBytes)
}

// addFunc replaces a + b where either side may be a string, so a doubling
// string (reduce(1..40, #acc + #acc)) stops at the limit instead of taking
// the process's memory.
const addFunc = "_add"

func add(p ...any) (any, error) {
	if a, ok := p[0].(string); ok {
		if b, ok := p[1].(string); ok {
			if n := len(a) + len(b); n > MaxOutputBytes {
				return nil, limitError("string from +", n, false)
			}
			return a + b, nil
		}
	}
	return runtime.Add(p[0], p[1]), nil
}

type addPatcher struct{}

func (addPatcher) Visit(node *ast.Node) {
	b, ok := (*node).(*ast.BinaryNode)
	if !ok || b.Operator != "+" || !maybeString(b.Left.Type()) || !maybeString(b.Right.Type()) {
		return
	}
	ast.Patch(node, &ast.CallNode{
		Callee:    &ast.IdentifierNode{Value: addFunc},
		Arguments: []ast.Node{b.Left, b.Right},
	})
}

func maybeString(t reflect.Type) bool {
	return t == nil || t.Kind() == reflect.Interface || t.Kind() == reflect.String
}

// slugify lower-cases s, drops accents and joins runs of letters and digits
// with "-": "Crème Brûlée, 2 pcs!" → "creme-brulee-2-pcs".
func slugify(p ...any) (any, error) {
	s, err := str(p[0], "slugify")
	if err != nil {
		return nil, err
	}
	s = norm.NFKD.String(s)
	var b strings.Builder
	dash := false
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(unicode.ToLower(r))
		default:
			dash = true
		}
	}
	return b.String(), nil
}

// truncate keeps the first n characters (runes) of s.
func truncate(p ...any) (any, error) {
	s, err := str(p[0], "truncate")
	if err != nil {
		return nil, err
	}
	n, err := toInt(p[1], "truncate length")
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, fmt.Errorf("truncate length %d: want 0 or more", n)
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos], nil
		}
		i++
	}
	return s, nil
}

func urlEncode(p ...any) (any, error) {
	s, err := str(p[0], "urlEncode")
	if err != nil {
		return nil, err
	}
	return url.QueryEscape(s), nil
}

func str(v any, what string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: want a string, got %s", what, typeName(v))
	}
	return s, nil
}

func toFloat(v any, what string) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case uint:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case float32:
		return float64(x), nil
	}
	return 0, fmt.Errorf("%s: want a number, got %s", what, typeName(v))
}

func toInt(v any, what string) (int, error) {
	f, err := toFloat(v, what)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("%s: want a whole number, got %v", what, v)
	}
	return int(f), nil
}

func typeName(v any) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// roundToFn rounds x to n decimals (n < 0 rounds to tens, hundreds…), half
// away from zero on the number as written: roundTo(1.005, 2) is 1.01.
func roundToFn(p ...any) (any, error) {
	x, err := toFloat(p[0], "roundTo")
	if err != nil {
		return nil, err
	}
	n, err := toInt(p[1], "roundTo decimals")
	if err != nil {
		return nil, err
	}
	if n < -15 || n > 15 {
		return nil, fmt.Errorf("roundTo decimals %d: want -15 to 15", n)
	}
	return roundTo(x, n), nil
}

func roundTo(x float64, n int) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) || x == 0 {
		return x
	}
	// Shift the shortest decimal form, not the binary value, so 1.005 is
	// treated as written.
	s := strconv.FormatFloat(x, 'e', -1, 64)
	i := strings.IndexByte(s, 'e')
	exp, _ := strconv.Atoi(s[i+1:])
	shifted, err := strconv.ParseFloat(s[:i]+"e"+strconv.Itoa(exp+n), 64)
	if err != nil || math.Abs(shifted) >= 1<<53 {
		return x // already has no more than n decimals
	}
	r := math.Round(shifted)
	out, _ := strconv.ParseFloat(strconv.FormatFloat(r, 'f', 0, 64)+"e"+strconv.Itoa(-n), 64)
	return out
}

// layout maps a few well-known names to Go layouts; anything else is a Go
// layout (reference time Mon Jan 2 15:04:05 MST 2006).
func layout(name string) string {
	switch name {
	case "RFC3339":
		return time.RFC3339
	case "RFC3339Nano":
		return time.RFC3339Nano
	case "RFC1123":
		return time.RFC1123
	case "RFC1123Z":
		return time.RFC1123Z
	case "RFC822":
		return time.RFC822
	case "RFC822Z":
		return time.RFC822Z
	case "RFC850":
		return time.RFC850
	case "ANSIC":
		return time.ANSIC
	case "Kitchen":
		return time.Kitchen
	case "DateTime":
		return time.DateTime
	case "DateOnly":
		return time.DateOnly
	case "TimeOnly":
		return time.TimeOnly
	}
	return name
}

func location(name any) (*time.Location, error) {
	s, ok := name.(string)
	if !ok {
		return nil, fmt.Errorf("time zone: want an IANA name such as \"Europe/Berlin\", got %s", typeName(name))
	}
	if s == "" || s == "UTC" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q: want an IANA name such as \"Europe/Berlin\"", s)
	}
	return loc, nil
}

// parseTime reads s with the layout (or the automatic ones), in loc when s
// has no offset of its own.
func parseTime(s, lay string, loc *time.Location) (time.Time, error) {
	if lay != "" {
		t, err := time.ParseInLocation(layout(lay), s, loc)
		if err != nil {
			return time.Time{}, fmt.Errorf("date %q does not match layout %q", s, lay)
		}
		return t, nil
	}
	// Tried in order when there is no layout.
	auto := [...]string{time.RFC3339, "2006-01-02 15:04:05Z07:00", "2006-01-02T15:04:05", time.DateTime,
		time.DateOnly, time.RFC1123Z, time.RFC1123, time.RFC850, time.RFC822Z, time.RFC822}
	for _, l := range auto {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot read %q as a date: use RFC 3339 (2026-03-29T01:30:00Z) or give a layout", s)
}

// toTime accepts a time or a date string (as JSON carries dates).
func toTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case string:
		return parseTime(x, "", time.UTC)
	}
	return time.Time{}, fmt.Errorf("want a date (time or RFC 3339 string), got %s", typeName(v))
}

// formatDate(t, layout[, tz]) writes t with a Go layout (or RFC3339,
// DateOnly…), converted to time zone tz when given.
func formatDate(p ...any) (any, error) {
	t, err := toTime(p[0])
	if err != nil {
		return nil, fmt.Errorf("formatDate: %w", err)
	}
	if len(p) == 3 {
		loc, err := location(p[2])
		if err != nil {
			return nil, fmt.Errorf("formatDate: %w", err)
		}
		t = t.In(loc)
	}
	lay, err := str(p[1], "formatDate layout")
	if err != nil {
		return nil, err
	}
	if len(lay) > 256 {
		return nil, fmt.Errorf("formatDate: layout is %d bytes; the limit is 256", len(lay))
	}
	return t.Format(layout(lay)), nil
}

// parseDate(s[, layout[, tz]]) reads a date; without a layout it tries RFC
// 3339 and a few common forms. A date without an offset is read in tz (UTC
// when not given), and the result is shown in tz.
func parseDate(p ...any) (any, error) {
	lay := ""
	if len(p) > 1 {
		var err error
		if lay, err = str(p[1], "parseDate layout"); err != nil {
			return nil, err
		}
	}
	loc := time.UTC
	if len(p) == 3 {
		var err error
		if loc, err = location(p[2]); err != nil {
			return nil, fmt.Errorf("parseDate: %w", err)
		}
	}
	var t time.Time
	switch x := p[0].(type) {
	case time.Time:
		t = x
	case string:
		var err error
		if t, err = parseTime(x, lay, loc); err != nil {
			return nil, fmt.Errorf("parseDate: %w", err)
		}
	default:
		return nil, fmt.Errorf("parseDate: want a string, got %s", typeName(p[0]))
	}
	if len(p) == 3 {
		t = t.In(loc)
	}
	return t, nil
}

// toUnix(t) is t in whole seconds since 1970-01-01 UTC.
func toUnix(p ...any) (any, error) {
	t, err := toTime(p[0])
	if err != nil {
		return nil, fmt.Errorf("toUnix: %w", err)
	}
	return int(t.Unix()), nil
}

// fromUnix(n[, tz]) is the time n seconds (fractions allowed) after
// 1970-01-01 UTC, in UTC or tz.
func fromUnix(p ...any) (any, error) {
	f, err := toFloat(p[0], "fromUnix")
	if err != nil {
		return nil, err
	}
	if math.IsNaN(f) || math.Abs(f) > 1e11 {
		return nil, fmt.Errorf("fromUnix: %v seconds is out of range", p[0])
	}
	sec, frac := math.Modf(f)
	t := time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC()
	if len(p) == 2 {
		loc, err := location(p[1])
		if err != nil {
			return nil, fmt.Errorf("fromUnix: %w", err)
		}
		t = t.In(loc)
	}
	return t, nil
}

// hmacSha256(key, message) is the hex HMAC-SHA256, as webhook signatures use.
func hmacSha256(p ...any) (any, error) {
	key, err := str(p[0], "hmacSha256 key")
	if err != nil {
		return nil, err
	}
	msg, err := str(p[1], "hmacSha256 message")
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil)), nil
}
