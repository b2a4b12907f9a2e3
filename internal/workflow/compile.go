package workflow

import (
	"cmp"
	"fmt"
	"time"

	"github.com/switchboard-dev/switchboard/internal/expr"
)

// Compiled is a validated document with every expression compiled once, ready
// for the engine. It is immutable and safe to share between runs.
type Compiled struct {
	Doc   *Document
	Steps []*CompiledStep
	ByID  map[string]*CompiledStep
}

// CompiledStep is a step with its programs.
type CompiledStep struct {
	*Step
	Path    string
	If      *expr.Program // filter
	Fields  *expr.Value   // map
	Input   *expr.Value   // action
	Items   *expr.Program // for_each
	Until   *expr.Program // delay
	For     time.Duration // delay
	Timeout time.Duration
	Paths   []CompiledPath
	Steps   []*CompiledStep // for_each body
}

// CompiledPath is one branch of a paths step.
type CompiledPath struct {
	Name  string
	If    *expr.Program // nil: always
	Steps []*CompiledStep
}

// Compile compiles a document that passed Validate.
func Compile(d *Document) (*Compiled, error) {
	c := &Compiled{Doc: d, ByID: map[string]*CompiledStep{}}
	steps, err := c.compileSteps("steps", d.Steps)
	if err != nil {
		return nil, err
	}
	c.Steps = steps
	return c, nil
}

// optional parses src into *dst when src is set; the error names the field
// at path.
func optional[T any](dst *T, src, path string, parse func(string) (T, error)) error {
	if src == "" {
		return nil
	}
	v, err := parse(src)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	*dst = v
	return nil
}

func (c *Compiled) compileSteps(prefix string, steps []Step) ([]*CompiledStep, error) {
	out := make([]*CompiledStep, 0, len(steps))
	for i := range steps {
		s := &steps[i]
		cs := &CompiledStep{Step: s, Path: fmt.Sprintf("%s[%d]", prefix, i)}
		var err error
		if err := optional(&cs.If, s.If, cs.Path+".if", expr.Compile); err != nil {
			return nil, err
		}
		if s.Fields != nil {
			if cs.Fields, err = expr.CompileValue(s.Fields); err != nil {
				return nil, fmt.Errorf("%s.fields: %w", cs.Path, err)
			}
		}
		if s.Type == StepAction {
			in := s.Input
			if in == nil {
				in = map[string]any{}
			}
			if cs.Input, err = expr.CompileValue(in); err != nil {
				return nil, fmt.Errorf("%s.input: %w", cs.Path, err)
			}
		}
		if err := cmp.Or(
			optional(&cs.Items, s.Items, cs.Path+".items", expr.Compile),
			optional(&cs.Until, s.Until, cs.Path+".until", expr.Compile),
			optional(&cs.For, s.For, cs.Path+".for", time.ParseDuration),
			optional(&cs.Timeout, s.Timeout, cs.Path+".timeout", time.ParseDuration),
		); err != nil {
			return nil, err
		}
		for j, p := range s.Paths {
			cp := CompiledPath{Name: p.Name}
			pp := fmt.Sprintf("%s.paths[%d]", cs.Path, j)
			if err := optional(&cp.If, p.If, pp+".if", expr.Compile); err != nil {
				return nil, err
			}
			if cp.Steps, err = c.compileSteps(pp+".steps", p.Steps); err != nil {
				return nil, err
			}
			cs.Paths = append(cs.Paths, cp)
		}
		if len(s.Steps) > 0 {
			if cs.Steps, err = c.compileSteps(cs.Path+".steps", s.Steps); err != nil {
				return nil, err
			}
		}
		c.ByID[s.ID] = cs
		out = append(out, cs)
	}
	return out, nil
}
