package declarative

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxFileBytes bounds a connector file.
const MaxFileBytes = 1 << 20

// source is a parsed file with the line of every path in it.
type source struct {
	name  string
	lines map[string]int // "actions[0].method" -> line of its value
	byLn  []lineSpan     // paths by line, for decode errors that only know a line
	probs []*Problem
	fatal bool // the document could not be read into the format
}

type lineSpan struct {
	line int
	path string
}

// add records a problem at path (its line looked up, or its nearest
// parent's).
func (s *source) add(path, format string, args ...any) {
	s.probs = append(s.probs, &Problem{File: s.name, Line: s.line(path), Path: path, Message: fmt.Sprintf(format, args...)})
}

func (s *source) line(path string) int {
	for p := path; ; {
		if l, ok := s.lines[p]; ok {
			return l
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			return s.lines[""]
		}
		p = p[:i]
	}
}

// pathAt returns the first path whose value starts on line.
func (s *source) pathAt(line int) string {
	for _, sp := range s.byLn {
		if sp.line == line {
			return sp.path
		}
	}
	return ""
}

func (s *source) err() error {
	if len(s.probs) == 0 {
		return nil
	}
	sort.SliceStable(s.probs, func(i, j int) bool { return s.probs[i].Line < s.probs[j].Line })
	return &Error{File: s.name, Problems: s.probs}
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// decode parses data (YAML or JSON, which YAML reads too) into f, indexing
// the line of every path and refusing unknown and duplicate keys.
func decode(name string, data []byte, f *file) *source {
	s := &source{name: name, lines: map[string]int{}, fatal: true}
	if len(data) > MaxFileBytes {
		s.probs = append(s.probs, &Problem{File: name, Message: fmt.Sprintf("file is %d bytes; the limit is %d", len(data), MaxFileBytes)})
		return s
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		s.probs = append(s.probs, yamlProblem(name, err))
		return s
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		s.probs = append(s.probs, &Problem{File: name, Line: 1, Message: "file is empty"})
		return s
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		s.probs = append(s.probs, &Problem{File: name, Line: doc.Line, Message: "want a mapping (id: …, name: …, actions: …) at the top"})
		return s
	}
	if line, msg := refuseNodes(doc, 0); msg != "" {
		s.probs = append(s.probs, &Problem{File: name, Line: line, Message: msg})
		return s
	}
	s.fatal = false
	s.index("", doc)
	sort.SliceStable(s.byLn, func(i, j int) bool { return s.byLn[i].line < s.byLn[j].line })
	s.checkKeys("", doc, reflect.TypeOf(file{}))
	if err := doc.Decode(f); err != nil {
		s.fatal = true
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, msg := range te.Errors {
				p := yamlProblem(name, errors.New(msg))
				p.Path = s.pathAt(p.Line)
				p.Message = typeMessage(p.Message)
				s.probs = append(s.probs, p)
			}
		} else {
			s.probs = append(s.probs, yamlProblem(name, err))
		}
	}
	return s
}

var cannotUnmarshal = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")

// typeMessage rewrites yaml's "cannot unmarshal !!map into string" for
// people who write YAML rather than Go.
func typeMessage(msg string) string {
	m := cannotUnmarshal.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	got := map[string]string{"map": "a mapping", "seq": "a list", "str": "text", "int": "a number",
		"float": "a number", "bool": "true or false", "null": "nothing"}[m[1]]
	if got == "" {
		got = m[1]
	}
	if m[2] != "" {
		got += " (" + m[2] + ")"
	}
	want := m[3]
	switch {
	case strings.HasPrefix(want, "[]"):
		want = "a list"
	case strings.HasPrefix(want, "map[") || strings.HasPrefix(want, "declarative."):
		want = "a mapping (key: value)"
	case want == "string":
		want = "text"
	case want == "int":
		want = "a whole number"
	case want == "bool":
		want = "true or false"
	}
	return "want " + want + ", got " + got
}

func yamlProblem(name string, err error) *Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return &Problem{File: name, Line: n, Message: m[2]}
	}
	return &Problem{File: name, Message: msg}
}

func (s *source) index(path string, n *yaml.Node) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	s.lines[path] = n.Line
	s.byLn = append(s.byLn, lineSpan{n.Line, path})
	switch n.Kind {
	case yaml.MappingNode:
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			if first, dup := seen[k.Value]; dup {
				s.probs = append(s.probs, &Problem{File: s.name, Line: k.Line, Path: p,
					Message: fmt.Sprintf("key %q is already given on line %d", k.Value, first)})
				continue
			}
			seen[k.Value] = k.Line
			s.index(p, v)
			// A key's own line is more useful than its block value's.
			s.lines[p] = k.Line
		}
	case yaml.SequenceNode:
		for i, v := range n.Content {
			s.index(fmt.Sprintf("%s[%d]", path, i), v)
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// checkKeys refuses keys the format does not know (a typo would otherwise
// be ignored silently), walking struct-typed parts of the document.
func (s *source) checkKeys(path string, n *yaml.Node, t reflect.Type) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		known := map[string]reflect.Type{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			if tag != "" && tag != "-" {
				known[tag] = t.Field(i).Type
				names = append(names, tag)
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			ft, ok := known[k]
			if !ok {
				s.probs = append(s.probs, &Problem{File: s.name, Line: n.Content[i].Line, Path: join(path, k),
					Message: fmt.Sprintf("unknown key (known here: %s)", strings.Join(names, ", "))})
				continue
			}
			s.checkKeys(join(path, k), n.Content[i+1], ft)
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, v := range n.Content {
			s.checkKeys(fmt.Sprintf("%s[%d]", path, i), v, t.Elem())
		}
	}
}

// maxNodeDepth bounds nesting, so a deep document cannot exhaust the stack.
const maxNodeDepth = 64

// refuseNodes finds an alias, or nesting deeper than maxNodeDepth, without
// following any alias. Aliases are refused outright: expanding them is how
// 434 bytes become gigabytes ("billion laughs"), and a connector file has no
// need of them.
func refuseNodes(n *yaml.Node, depth int) (line int, msg string) {
	if n.Kind == yaml.AliasNode {
		return n.Line, "YAML aliases (*" + n.Value + ") are not supported: write the value out"
	}
	if depth > maxNodeDepth {
		return n.Line, fmt.Sprintf("nested deeper than %d levels", maxNodeDepth)
	}
	for _, c := range n.Content {
		if line, msg := refuseNodes(c, depth+1); msg != "" {
			return line, msg
		}
	}
	return 0, ""
}
