// Package expr is Switchboard's expression language: expr-lang/expr with our
// names and helpers, {{ }} templates, positioned errors and resource limits.
package expr

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"github.com/google/uuid"
)

// Limits bound what one expression may cost.
const (
	MaxSourceBytes = 16 << 10 // source text
	MaxNodes       = 5000     // AST size
	MemoryBudget   = 1_000_000
)

// Names are the top-level variables every expression may use.
var Names = []string{"trigger", "steps", "item", "index", "vars", "run"}

// Error is a compile or run error with a position (1-based; 0 when unknown).
// A limit error wraps ErrLimit.
type Error struct {
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
	cause   error
}

// Unwrap returns what caused the error (ErrLimit for a limit), or nil.
func (e *Error) Unwrap() error { return e.cause }

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Message)
	}
	return e.Message
}

// ErrLimit marks errors caused by a resource limit.
var ErrLimit = errors.New("expression limit exceeded")

// Program is a compiled expression.
type Program struct {
	src  string
	prog *vm.Program
}

// Source returns the expression text.
func (p *Program) Source() string { return p.src }

func options() []expr.Option {
	return append([]expr.Option{
		// Names are checked by checkNames: declaring them in an Env would give
		// them the type of a sample value and reject valid field accesses.
		expr.AllowUndefinedVariables(),
		expr.MaxNodes(MaxNodes),
		expr.Function(tickName, tick),
		expr.Function(chargeName, chargeArg),
		expr.Patch(budgetPatch{}),
		expr.Function("uuid", func(...any) (any, error) { return uuid.NewString(), nil }, new(func() string)),
		expr.Function("sha256", hashFn(func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }), new(func(string) string)),
		expr.Function("sha512", hashFn(func(b []byte) []byte { s := sha512.Sum512(b); return s[:] }), new(func(string) string)),
		expr.Function("sha1", hashFn(func(b []byte) []byte { s := sha1.Sum(b); return s[:] }), new(func(string) string)),
		expr.Function("md5", hashFn(func(b []byte) []byte { s := md5.Sum(b); return s[:] }), new(func(string) string)),
		expr.Function("coalesce", func(params ...any) (any, error) {
			for _, p := range params {
				if p != nil && p != "" {
					return p, nil
				}
			}
			return nil, nil
		}),
	}, helpers()...)
}

func hashFn(sum func([]byte) []byte) func(...any) (any, error) {
	return func(params ...any) (any, error) {
		s, ok := params[0].(string)
		if !ok {
			return nil, fmt.Errorf("hash of %T: want a string", params[0])
		}
		return hex.EncodeToString(sum([]byte(s))), nil
	}
}

// Compile checks and compiles an expression.
func Compile(src string) (*Program, error) { return compile(src, Names) }

// CompileWithNames is Compile for a context whose top-level names differ
// from the workflow's (Names): a declarative connector's templates, for
// instance, see input, credentials and response. Everything else (helpers,
// limits, positioned errors) is the same.
func CompileWithNames(src string, names []string) (*Program, error) { return compile(src, names) }

func compile(src string, names []string) (*Program, error) {
	if len(src) > MaxSourceBytes {
		return nil, &Error{Message: fmt.Sprintf("expression is %d bytes; the limit is %d", len(src), MaxSourceBytes)}
	}
	if strings.TrimSpace(src) == "" {
		return nil, &Error{Message: "expression is empty"}
	}
	if n := reservedName(src); n != "" {
		return nil, &Error{Message: fmt.Sprintf("%q is reserved for the evaluator", n)}
	}
	p, err := expr.Compile(src, options()...)
	if err != nil {
		return nil, positioned(err)
	}
	if err := checkNames(p, names); err != nil {
		return nil, err
	}
	return &Program{src: src, prog: p}, nil
}

func positioned(err error) error {
	var fe *file.Error
	if errors.As(err, &fe) {
		return &Error{Line: fe.Line, Column: fe.Column + 1, Message: fe.Message, cause: fe.Unwrap()}
	}
	return &Error{Message: err.Error()}
}

type nameChecker struct {
	lets    map[string]bool
	callees map[ast.Node]bool
	err     *Error
}

func (c *nameChecker) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.VariableDeclaratorNode:
		c.lets[n.Name] = true
	case *ast.CallNode:
		c.callees[n.Callee] = true
	}
}

// checkNames rejects top-level names that are neither ours, nor let-bound, nor
// functions, so a typo such as "trigerr" fails when the workflow is saved.
func checkNames(p *vm.Program, names []string) error {
	node := p.Node()
	c := &nameChecker{lets: map[string]bool{}, callees: map[ast.Node]bool{}}
	ast.Walk(&node, c)
	var bad *Error
	ast.Walk(&node, visitorFunc(func(n *ast.Node) {
		id, ok := (*n).(*ast.IdentifierNode)
		if !ok || bad != nil || c.lets[id.Value] || c.callees[*n] || slices.Contains(names, id.Value) || id.Value == BudgetName {
			return
		}
		line, col := runePosition(p.Source().String(), id.Location().From)
		bad = &Error{Line: line, Column: col,
			Message: fmt.Sprintf("unknown name %q (available: %s)", id.Value, strings.Join(names, ", "))}
	}))
	if bad != nil {
		return bad
	}
	return nil
}

// runePosition turns expr's rune offset into a 1-based line and column.
func runePosition(src string, from int) (line, col int) {
	line, col = 1, 1
	for i, r := range []rune(src) {
		if i >= from {
			break
		}
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

type visitorFunc func(*ast.Node)

func (f visitorFunc) Visit(n *ast.Node) { f(n) }

// Run evaluates p against env within the memory budget; a string result may
// be at most MaxOutputBytes long, a list or object at most that as JSON.
func (p *Program) Run(env map[string]any) (out any, err error) {
	defer func() {
		// expr recovers its own panics; this guards helpers and reflection.
		if r := recover(); r != nil {
			out, err = nil, &Error{Message: fmt.Sprintf("expression panicked: %v", r)}
		}
	}()
	if _, ok := env[BudgetName].(*Budget); !ok {
		// A fresh budget for this evaluation alone; the caller's map is
		// copied, not written, as it may be shared by parallel items.
		own := make(map[string]any, len(env)+1)
		for k, v := range env {
			own[k] = v
		}
		own[BudgetName] = NewBudget(StepBudget)
		env = own
	}
	machine := vm.VM{MemoryBudget: MemoryBudget}
	v, err := machine.Run(p.prog, env)
	if err != nil {
		e := positioned(err).(*Error)
		if strings.Contains(e.Message, "memory budget exceeded") {
			e.Message, e.cause = ErrLimit.Error()+": memory budget exceeded", ErrLimit
		}
		return nil, e
	}
	if err := checkOutput(v); err != nil {
		return nil, err
	}
	return v, nil
}

// Truthy reports whether a filter or condition result counts as true.
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case int:
		return x != 0
	case float64:
		return x != 0
	default:
		return true
	}
}
