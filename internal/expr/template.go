package expr

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-dev/switchboard/connectors"
)

// Template is a string with {{ expr }} parts. A template that is exactly one
// {{ expr }} (surrounding white space aside) yields the value with its type.
type Template struct {
	parts []part
	whole bool // exactly one expression: keep its type
}

type part struct {
	text string
	prog *Program
	line int // line of the part's start, for errors
	col  int
}

// HasTemplate reports whether s contains a {{ }} part.
func HasTemplate(s string) bool { return strings.Contains(s, "{{") }

// ParseTemplate compiles every {{ }} part of s. Positions in errors are
// relative to s.
func ParseTemplate(s string) (*Template, error) { return parseTemplate(s, Names) }

// ParseTemplateWithNames is ParseTemplate with other top-level names (see
// CompileWithNames).
func ParseTemplateWithNames(s string, names []string) (*Template, error) {
	return parseTemplate(s, names)
}

func parseTemplate(s string, names []string) (*Template, error) {
	t := &Template{}
	rest := s
	offset := 0
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if rest != "" {
				t.parts = append(t.parts, part{text: rest})
			}
			break
		}
		if i > 0 {
			t.parts = append(t.parts, part{text: rest[:i]})
		}
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			line, col := position(s, offset+i)
			return nil, &Error{Line: line, Column: col, Message: "unclosed {{: add }}"}
		}
		src := rest[i+2 : i+2+j]
		startOff := offset + i + 2
		prog, err := compile(src, names)
		if err != nil {
			return nil, shift(err, s, startOff)
		}
		line, col := position(s, startOff)
		t.parts = append(t.parts, part{prog: prog, line: line, col: col})
		consumed := i + 2 + j + 2
		rest = rest[consumed:]
		offset += consumed
	}
	exprs, texts := 0, 0
	for _, p := range t.parts {
		if p.prog != nil {
			exprs++
		} else if strings.TrimSpace(p.text) != "" {
			texts++
		}
	}
	t.whole = exprs == 1 && texts == 0
	return t, nil
}

// shift moves a positioned error from expression coordinates to template ones.
func shift(err error, s string, startOff int) error {
	e, ok := err.(*Error)
	if !ok || e.Line == 0 {
		return err
	}
	// Walk the expression text to the error's line and column (in runes).
	off := startOff
	line, col := 1, 1
	for off < len(s) && (line < e.Line || (line == e.Line && col < e.Column)) {
		r, size := utf8.DecodeRuneInString(s[off:])
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
		off += size
	}
	l, c := position(s, off)
	return &Error{Line: l, Column: c, Message: e.Message, cause: e.cause}
}

// position turns a byte offset in s into a 1-based line and column (in runes).
func position(s string, off int) (line, col int) {
	line, col = 1, 1
	for i := 0; i < off && i < len(s); i++ {
		if s[i] == '\n' {
			line++
			col = 1
		} else if utf8.RuneStart(s[i]) {
			col++
		}
	}
	return line, col
}

// at moves a run-time error of the part's expression to template coordinates.
func (p part) at(err error) error {
	e, ok := err.(*Error)
	if !ok || e.Line == 0 {
		return err
	}
	out := *e
	if e.Line == 1 {
		out.Line, out.Column = p.line, p.col+e.Column-1
	} else {
		out.Line = p.line + e.Line - 1
	}
	return &out
}

// Render evaluates the template. A text template's output is at most
// MaxOutputBytes long.
func (t *Template) Render(env map[string]any) (any, error) {
	if t.whole {
		for _, p := range t.parts {
			if p.prog != nil {
				v, err := p.prog.Run(env)
				if err != nil {
					return nil, p.at(err)
				}
				return v, nil
			}
		}
	}
	var b strings.Builder
	for _, p := range t.parts {
		s := p.text
		if p.prog != nil {
			v, err := p.prog.Run(env)
			if err != nil {
				return nil, p.at(err)
			}
			s = Stringify(v)
		}
		if n := b.Len() + len(s); n > MaxOutputBytes {
			return nil, limitError("template output", n, true)
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// Stringify formats a value for a text template, as the connector SDK does
// for every text field (connectors.Stringify).
func Stringify(v any) string { return connectors.Stringify(v) }

// Value is a JSON-like value whose strings may be templates, compiled once.
type Value struct {
	tmpl   *Template
	object map[string]*Value
	list   []*Value
	lit    any
	kind   byte // 't' template, 'o' object, 'l' list, 'v' literal
}

// CompileValue compiles every template inside v (strings, nested objects and
// lists). The error names the path inside v where it failed.
func CompileValue(v any) (*Value, error) { return compileValue(v, Names) }

// CompileValueWithNames is CompileValue with other top-level names (see
// CompileWithNames).
func CompileValueWithNames(v any, names []string) (*Value, error) { return compileValue(v, names) }

func compileValue(v any, names []string) (*Value, error) {
	switch x := v.(type) {
	case string:
		if !HasTemplate(x) {
			return &Value{lit: x, kind: 'v'}, nil
		}
		t, err := parseTemplate(x, names)
		if err != nil {
			return nil, err
		}
		return &Value{tmpl: t, kind: 't'}, nil
	case map[string]any:
		out := &Value{object: make(map[string]*Value, len(x)), kind: 'o'}
		for k, sub := range x {
			c, err := compileValue(sub, names)
			if err != nil {
				return nil, &PathError{Path: "." + k, Err: err}
			}
			out.object[k] = c
		}
		return out, nil
	case []any:
		out := &Value{list: make([]*Value, len(x)), kind: 'l'}
		for i, sub := range x {
			c, err := compileValue(sub, names)
			if err != nil {
				return nil, &PathError{Path: fmt.Sprintf("[%d]", i), Err: err}
			}
			out.list[i] = c
		}
		return out, nil
	default:
		return &Value{lit: v, kind: 'v'}, nil
	}
}

// PathError says where inside a value a template failed.
type PathError struct {
	Path string
	Err  error
}

func (e *PathError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *PathError) Unwrap() error { return e.Err }

// SplitPath unwraps nested PathErrors into the full path and the inner error.
func SplitPath(err error) (string, error) {
	path := ""
	for {
		pe, ok := err.(*PathError)
		if !ok {
			return path, err
		}
		path += pe.Path
		err = pe.Err
	}
}

// Render evaluates every template in the value.
func (v *Value) Render(env map[string]any) (any, error) {
	switch v.kind {
	case 't':
		return v.tmpl.Render(env)
	case 'o':
		out := make(map[string]any, len(v.object))
		for k, sub := range v.object {
			r, err := sub.Render(env)
			if err != nil {
				return nil, &PathError{Path: "." + k, Err: err}
			}
			out[k] = r
		}
		return out, nil
	case 'l':
		out := make([]any, len(v.list))
		for i, sub := range v.list {
			r, err := sub.Render(env)
			if err != nil {
				return nil, &PathError{Path: fmt.Sprintf("[%d]", i), Err: err}
			}
			out[i] = r
		}
		return out, nil
	default:
		return v.lit, nil
	}
}
