package expr

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr/ast"
)

// The memory budget counts allocations, not work: a loop of hashes allocates
// little and can hold a CPU for minutes. Every compiled expression is
// therefore patched (budgetPatch) so that each closure iteration and each
// function call charges a Budget, and a Budget that runs out stops the VM
// with ErrLimit. Hashing and other helpers are charged by the size of their
// arguments, so a few calls on a megabyte cost what millions of small ones do.
const (
	// StepBudget is the work one evaluation may do (and, when a caller puts
	// one Budget in the environment of several evaluations, all of them).
	// A unit is one closure iteration or call, or 64 bytes of a call's
	// string arguments.
	StepBudget = 2_000_000
	// Deadline bounds one evaluation's wall time, whatever its units.
	Deadline = 10 * time.Second
	// BudgetName is the environment key of the Budget an evaluation charges;
	// without one, Run uses a fresh Budget of StepBudget.
	BudgetName = "__budget"
)

const (
	tickName   = "__tick"
	chargeName = "__charge"
)

// Budget is the work left to expressions that share it (one request, one
// step). It is safe for concurrent use (for_each items run in parallel).
type Budget struct {
	left     atomic.Int64
	deadline time.Time
	ticks    atomic.Int64
}

// NewBudget returns a budget of units that also expires after Deadline.
func NewBudget(units int64) *Budget {
	b := &Budget{deadline: time.Now().Add(Deadline)}
	b.left.Store(units)
	return b
}

// ErrBudget is the limit error an exhausted budget stops the VM with.
var errBudget = fmt.Errorf("%w: the expression does too much work (a loop or hashing too large)", ErrLimit)

// charge takes n units, failing once the budget or its deadline is spent
// (the clock is read every 1024 charges, so charging stays cheap).
func (b *Budget) charge(n int64) error {
	if b.left.Add(-n) < 0 {
		return errBudget
	}
	if b.ticks.Add(1)%1024 == 0 && time.Now().After(b.deadline) {
		return errBudget
	}
	return nil
}

// cost of a value passed to a call: one unit, plus one per 64 bytes of a
// string (hashing, repeat, replace… work in proportion to it).
func cost(v any) int64 {
	if s, ok := v.(string); ok {
		return 1 + int64(len(s))/64
	}
	return 1
}

func budgetOf(v any) (*Budget, error) {
	b, ok := v.(*Budget)
	if !ok || b == nil {
		return nil, fmt.Errorf("%w: no expression budget", ErrLimit)
	}
	return b, nil
}

// tick(budget, value) charges one iteration and returns value: it wraps the
// body of every closure (filter, map, count, all, any, sortBy…).
func tick(params ...any) (any, error) {
	b, err := budgetOf(params[0])
	if err != nil {
		return nil, err
	}
	if err := b.charge(1); err != nil {
		return nil, err
	}
	return params[1], nil
}

// charge(budget, value) charges a call's argument by its size and returns
// it: it wraps every argument of every call, so the work is paid before the
// helper runs.
func chargeArg(params ...any) (any, error) {
	b, err := budgetOf(params[0])
	if err != nil {
		return nil, err
	}
	if err := b.charge(cost(params[1])); err != nil {
		return nil, err
	}
	return params[1], nil
}

// budgetPatch inserts the charges into the tree before type checking.
type budgetPatch struct{}

func budgetIdent() ast.Node { return &ast.IdentifierNode{Value: BudgetName} }

func (budgetPatch) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.PredicateNode:
		if isCall(n.Node, tickName) {
			return
		}
		n.Node = &ast.CallNode{Callee: &ast.IdentifierNode{Value: tickName}, Arguments: []ast.Node{budgetIdent(), n.Node}}
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && (id.Value == tickName || id.Value == chargeName) {
			return
		}
		chargeArgs(n.Arguments)
	case *ast.BuiltinNode:
		// The closures of filter, map and the like are charged by tick.
		chargeArgs(n.Arguments)
	}
}

// chargeArgs wraps the arguments that may be large strings. Literals are
// left alone (the source is bounded), and so are arguments typed as
// something else than a string: wrapping hides a type from the checker,
// and a number costs the one unit the surrounding closure already charged.
func chargeArgs(args []ast.Node) {
	for i, a := range args {
		switch a.(type) {
		case *ast.PredicateNode, *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.NilNode:
			continue
		}
		if isCall(a, chargeName) || !maybeString(a.Type()) {
			continue
		}
		args[i] = &ast.CallNode{Callee: &ast.IdentifierNode{Value: chargeName}, Arguments: []ast.Node{budgetIdent(), a}}
	}
}

func isCall(n ast.Node, name string) bool {
	c, ok := n.(*ast.CallNode)
	if !ok {
		return false
	}
	id, ok := c.Callee.(*ast.IdentifierNode)
	return ok && id.Value == name
}

// reservedNames may not appear in an expression's source: the budget is the
// evaluator's, not the author's.
func reservedName(src string) string {
	for _, n := range []string{BudgetName, tickName, chargeName} {
		if strings.Contains(src, n) {
			return n
		}
	}
	return ""
}
