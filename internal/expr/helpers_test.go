package expr

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var helperEnv = map[string]any{
	"trigger": map[string]any{"body": map[string]any{
		"title":      "Crème Brûlée, 2 pcs!",
		"price":      19.995,
		"id":         7.0,
		"created_at": "2026-03-29T01:30:00Z",
		"epoch":      1774747800.0,
		"tz":         "America/New_York",
		"nothing":    nil,
		"total":      250.0,
	}},
	"steps": map[string]any{},
}

// TestHelpers covers every helper Switchboard adds, and the builtins the
// design promises (strings, numbers, dates, JSON, lists, hashing, base64,
// uuid), so a change of expr's builtins shows up here.
func TestHelpers(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		src  string
		want any
	}{
		// Strings: added.
		{`slugify(trigger.body.title)`, "creme-brulee-2-pcs"},
		{`slugify("  Hello   World  ")`, "hello-world"},
		{`slugify("Привет, мир")`, "привет-мир"},
		{`truncate("Grüße", 3)`, "Grü"},
		{`truncate("ab", 5)`, "ab"},
		{`truncate("ab", 0)`, ""},
		{`urlEncode("a b&c=d/é")`, "a+b%26c%3Dd%2F%C3%A9"},
		// Strings: builtins.
		{`lower("ÀB")`, "àb"},
		{`upper("ab")`, "AB"},
		{`trim("  a ")`, "a"},
		{`split("a,b", ",")`, []string{"a", "b"}},
		{`replace("a-b-c", "-", "+")`, "a+b+c"},
		{`join(["a", "b"], ", ")`, "a, b"},
		{`repeat("ab", 3)`, "ababab"},
		{`"Order " + string(trigger.body.id)`, "Order 7"},
		{`trigger.body.title contains "Brûlée"`, true},

		// Numbers.
		{`roundTo(1.005, 2)`, 1.01},
		{`roundTo(2.345, 2)`, 2.35},
		{`roundTo(trigger.body.price, 2)`, 20.0},
		{`roundTo(trigger.body.price, 1)`, 20.0},
		{`roundTo(19.944, 2)`, 19.94},
		{`roundTo(-1.5, 0)`, -2.0},
		{`roundTo(1234.5, -2)`, 1200.0},
		{`roundTo(0.1 + 0.2, 2)`, 0.3},
		{`roundTo(10, 2)`, 10.0},
		{`roundTo(1e300, 5)`, 1e300},
		{`round(2.5)`, 3.0},
		{`trigger.body.total + 1`, 251.0},

		// Dates and time zones. 2026-03-29 is the switch to summer time in
		// Berlin: 01:30 UTC is 03:30 CEST, 00:30 UTC is still 01:30 CET.
		{`formatDate(trigger.body.created_at, "2006-01-02 15:04 MST", "Europe/Berlin")`, "2026-03-29 03:30 CEST"},
		{`formatDate("2026-03-29T00:30:00Z", "15:04 MST", "Europe/Berlin")`, "01:30 CET"},
		{`formatDate(trigger.body.created_at, "15:04 MST", trigger.body.tz)`, "21:30 EDT"},
		{`formatDate(trigger.body.created_at, "DateOnly")`, "2026-03-29"},
		{`formatDate(date("2026-03-29T01:30:00Z"), "RFC3339", "Asia/Kolkata")`, "2026-03-29T07:00:00+05:30"},
		{`formatDate("2026-03-29T03:30:00+02:00", "RFC3339", "UTC")`, "2026-03-29T01:30:00Z"},
		{`parseDate("2026-03-29 03:30", "2006-01-02 15:04", "Europe/Berlin")`,
			time.Date(2026, 3, 29, 3, 30, 0, 0, berlin)},
		{`toUnix(parseDate("2026-03-29 03:30", "2006-01-02 15:04", "Europe/Berlin"))`, 1774747800},
		{`parseDate(trigger.body.created_at)`, time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)},
		{`parseDate("2026-03-29")`, time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)},
		{`parseDate("29.03.2026", "02.01.2006")`, time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)},
		{`parseDate(trigger.body.created_at, "", "Europe/Berlin").Hour()`, 3},
		{`parseDate(now()) == parseDate(now())`, false}, // two calls of now()
		{`toUnix(trigger.body.created_at)`, 1774747800},
		{`toUnix(date("2026-03-29T01:30:00Z"))`, 1774747800},
		{`fromUnix(trigger.body.epoch)`, time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)},
		{`fromUnix(1.5)`, time.Date(1970, 1, 1, 0, 0, 1, 5e8, time.UTC)},
		{`formatDate(fromUnix(1774747800, "Europe/Berlin"), "15:04 MST")`, "03:30 CEST"},
		{`parseDate("2026-03-29T01:30:00Z") + duration("90m") == parseDate("2026-03-29T03:00:00Z")`, true},
		{`date("2026-03-29T01:30:00Z").In(timezone("Europe/Berlin")).Hour()`, 3},
		{`now().Year() >= 2026`, true},

		// JSON.
		{`toJSON({"a": 1})`, "{\n  \"a\": 1\n}"},
		{`fromJSON("{\"a\": [1, 2]}").a[1]`, 2.0},

		// Lists.
		{`map([1, 2, 3], # * 2)`, []any{2, 4, 6}},
		{`filter([1, 2, 3], # > 1)`, []any{2, 3}},
		{`sum([1, 2, 3])`, 6},
		{`first([1, 2])`, 1},
		{`last([1, 2])`, 2},
		{`uniq([1, 1, 2])`, []any{1, 2}},
		{`sort([3, 1, 2])`, []any{1, 2, 3}},

		// Hashing, base64, uuid.
		{`hmacSha256("Jefe", "what do ya want for nothing?")`, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{`sha256("abc")`, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{`sha1("abc")`, "a9993e364706816aba3e25717850c26c9cd0d89d"},
		{`md5("abc")`, "900150983cd24fb0d6963f7d28e17f72"},
		{`len(sha512("abc"))`, 128},
		{`toBase64("hi")`, "aGk="},
		{`fromBase64("aGk=")`, "hi"},
		{`len(uuid()) == 36 && uuid() != uuid()`, true},
	}
	for _, c := range cases {
		p, err := Compile(c.src)
		if err != nil {
			t.Errorf("%s: compile: %v", c.src, err)
			continue
		}
		got, err := p.Run(helperEnv)
		if err != nil {
			t.Errorf("%s: run: %v", c.src, err)
			continue
		}
		if w, ok := c.want.(time.Time); ok {
			g, ok := got.(time.Time)
			if !ok || !g.Equal(w) || g.Location().String() != w.Location().String() {
				t.Errorf("%s = %#v, want %v", c.src, got, w)
			}
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s = %#v (%T), want %#v (%T)", c.src, got, got, c.want, c.want)
		}
	}
}

func TestHelperErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{`formatDate("yesterday", "2006")`, "cannot read"},
		{`formatDate(trigger.body.created_at, "15:04", "Mars/Olympus")`, `unknown time zone "Mars/Olympus"`},
		{`formatDate(trigger.body.id, "15:04")`, "want a date"},
		{`parseDate("29.03.2026", "2006-01-02")`, "does not match layout"},
		{`toUnix(trigger.body.nothing)`, "got null"},
		{`fromUnix("1")`, "cannot use string"},
		{`fromUnix(trigger.body.title)`, "want a number"},
		{`roundTo(trigger.body.title, 2)`, "want a number"},
		{`roundTo(1.5, 2.5)`, "cannot use float64"},
		{`roundTo(1.5, trigger.body.price)`, "whole number"},
		{`formatDate(trigger.body.created_at, 7)`, "cannot use int"},
		{`roundTo(1.5, 99)`, "-15 to 15"},
		{`slugify(trigger.body.id)`, "want a string"},
		{`truncate("abc", -1)`, "0 or more"},
		{`hmacSha256("k")`, "not enough arguments"},
		{`"a" + 1`, "invalid operation"},
	}
	for _, c := range cases {
		p, err := Compile(c.src)
		if err == nil {
			_, err = p.Run(helperEnv)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", c.src, err, c.want)
		}
	}
}

func TestOutputLimit(t *testing.T) {
	cases := []struct {
		src  string
		want string // in the message
	}{
		{`1..100000000`, "memory budget"},
		{`repeat("x", 2000000)`, "the limit is 1048576"},
		{`repeat("x", 600000) + repeat("y", 600000)`, "the limit is 1048576"},
		// Growth on the way to the result stops at the limit, not when the
		// process runs out of memory.
		{`len(reduce(1..64, #acc + #acc, "x"))`, "string from + is"},
		{`len(reduce(1..64, replace(#acc, "x", "xx"), "x"))`, "output of replace"},
		{`len(reduce(1..64, toBase64(#acc), "x"))`, "output of toBase64"},
		{`len(join(map(1..2000, repeat("x", 1000))))`, "output of join"},
		{`len(toJSON(map(1..2000, repeat("x", 1000))))`, "output of toJSON"},
		{`len(string(map(1..2000, repeat("x", 1000))))`, "output of string"},
		{`map(1..2000, repeat("x", 1000))`, "expression output as JSON is at least"},
		{`{"a": [trigger.body.title, repeat("xx", 524285)]}`, "expression output as JSON"},
	}
	for _, c := range cases {
		p, err := Compile(c.src)
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		start := time.Now()
		_, err = p.Run(helperEnv)
		if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want ErrLimit mentioning %q", c.src, err, c.want)
		}
		var e *Error
		if !errors.As(err, &e) || (e.Line != 1 && !strings.HasPrefix(e.Message, "expression output")) {
			t.Errorf("%s: err = %#v, want a positioned *Error", c.src, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: took %v", c.src, d)
		}
	}
	// Exactly the limit is fine.
	p, _ := Compile(`repeat("xx", 524288)`)
	if v, err := p.Run(helperEnv); err != nil || len(v.(string)) != MaxOutputBytes {
		t.Fatalf("output of exactly MaxOutputBytes: %v", err)
	}
	// A string returned whole is checked.
	big := strings.Repeat("x", MaxOutputBytes+1)
	p, _ = Compile(`trigger.body`)
	if _, err := p.Run(map[string]any{"trigger": map[string]any{"body": big}}); !errors.Is(err, ErrLimit) ||
		err.Error() != "expression output is 1048577 bytes; the limit is 1048576" {
		t.Fatalf("big string: err = %v", err)
	}
}

func TestTemplateOutputLimit(t *testing.T) {
	for _, src := range []string{
		`{{ repeat("x", 2000000) }}`,
		`Hi {{ repeat("x", 2000000) }}`,
		`{{ repeat("x", 600000) }} and {{ repeat("y", 600000) }}`,
		`{{ 1..100000000 }}`,
		`list: {{ map(1..2000, repeat("x", 1000)) }}`,
	} {
		tp, err := ParseTemplate(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if _, err := tp.Render(helperEnv); !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "limit") {
			t.Errorf("%s: err = %v, want ErrLimit", src, err)
		}
	}
}

func TestTemplateRunErrorIsInTemplateCoordinates(t *testing.T) {
	tp, err := ParseTemplate("Hi\n  {{ trigger.body.missing.x }}")
	if err != nil {
		t.Fatal(err)
	}
	_, err = tp.Render(helperEnv)
	var e *Error
	if !errors.As(err, &e) || e.Line != 2 || e.Column != 27 {
		t.Fatalf("err = %#v, want line 2, column 27 (the x)", err)
	}
	// Columns count characters, not bytes.
	_, err1 := ParseTemplate("Grüße {{ trigger. }}")
	_, err2 := ParseTemplate("Grase {{ trigger. }}")
	var e1, e2 *Error
	if !errors.As(err1, &e1) || !errors.As(err2, &e2) || e1.Column != e2.Column {
		t.Fatalf("columns differ: %v vs %v", err1, err2)
	}
}

func TestTemplateWritesTimesAsRFC3339(t *testing.T) {
	tp, _ := ParseTemplate(`at {{ parseDate(trigger.body.created_at, "", "Europe/Berlin") }} ({{ duration("90m") }})`)
	got, err := tp.Render(helperEnv)
	if err != nil || got != "at 2026-03-29T03:30:00+02:00 (1h30m0s)" {
		t.Fatalf("got %q, %v", got, err)
	}
}
