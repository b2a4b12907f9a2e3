package workflow

import (
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

func (c *Compiled) compileSteps(prefix string, steps []Step) ([]*CompiledStep, error) {
	out := make([]*CompiledStep, 0, len(steps))
	for i := range steps {
		s := &steps[i]
		cs := &CompiledStep{Step: s, Path: fmt.Sprintf("%s[%d]", prefix, i)}
		var err error
		if s.If != "" {
			if cs.If, err = expr.Compile(s.If); err != nil {
				return nil, fmt.Errorf("%s.if: %w", cs.Path, err)
			}
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
		if s.Items != "" {
			if cs.Items, err = expr.Compile(s.Items); err != nil {
				return nil, fmt.Errorf("%s.items: %w", cs.Path, err)
			}
		}
		if s.Until != "" {
			if cs.Until, err = expr.Compile(s.Until); err != nil {
				return nil, fmt.Errorf("%s.until: %w", cs.Path, err)
			}
		}
		if s.For != "" {
			if cs.For, err = time.ParseDuration(s.For); err != nil {
				return nil, fmt.Errorf("%s.for: %w", cs.Path, err)
			}
		}
		if s.Timeout != "" {
			if cs.Timeout, err = time.ParseDuration(s.Timeout); err != nil {
				return nil, fmt.Errorf("%s.timeout: %w", cs.Path, err)
			}
		}
		for j, p := range s.Paths {
			cp := CompiledPath{Name: p.Name}
			pp := fmt.Sprintf("%s.paths[%d]", cs.Path, j)
			if p.If != "" {
				if cp.If, err = expr.Compile(p.If); err != nil {
					return nil, fmt.Errorf("%s.if: %w", pp, err)
				}
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
