package expr_test

import (
	"errors"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/expr"
)

// runGuarded runs src and fails the test, instead of hanging it for
// minutes, if the evaluation is not stopped.
func runGuarded(t *testing.T, src string, env map[string]any) (any, error) {
	t.Helper()
	p, err := expr.Compile(src)
	if err != nil {
		t.Fatalf("compile %q: %v", src, err)
	}
	type result struct {
		v   any
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := p.Run(env)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-time.After(2 * time.Minute):
		t.Fatalf("%q was not stopped", src)
		return nil, nil
	}
}

// Work, not only memory, is bounded: closures count steps and helpers such
// as hashing are charged by the size of their input, so the VM stops.
func TestCPUHeavyExpressionsAreStopped(t *testing.T) {
	for _, src := range []string{
		`let s = repeat("a", 1000000); count(1..999, {count(1..999, {sha256(s) != ""}) >= 999})`,
		`count(1..3000, {count(1..3000, {count(1..3000, {# > 0}) > 0}) > 0})`,
		`len(filter(1..100000, {len(filter(1..100000, {# == 1})) > 0}))`,
	} {
		_, err := runGuarded(t, src, map[string]any{})
		if !errors.Is(err, expr.ErrLimit) {
			t.Errorf("%q: %v, want a limit error", src, err)
		}
	}
	v, err := runGuarded(t, `count(1..10000, {# % 2 == 0}) + len(sha256(trigger.body.s))`, map[string]any{"trigger": map[string]any{"body": map[string]any{"s": "abc"}}})
	if err != nil || v != 5064 {
		t.Fatalf("an ordinary expression: %v %v", v, err)
	}
}

// One budget can span every expression of a step: each alone is cheap, all
// together are stopped.
func TestABudgetSpansSeveralEvaluations(t *testing.T) {
	p, err := expr.Compile(`count(1..100000, {# > 0})`)
	if err != nil {
		t.Fatal(err)
	}
	b := expr.NewBudget(expr.StepBudget)
	env := map[string]any{expr.BudgetName: b}
	var last error
	for range 200 {
		if _, last = p.Run(env); last != nil {
			break
		}
	}
	if !errors.Is(last, expr.ErrLimit) {
		t.Fatalf("200 evaluations on one budget: %v, want a limit error", last)
	}
	if _, err := p.Run(map[string]any{}); err != nil {
		t.Fatalf("a fresh evaluation: %v", err)
	}
	if _, err := expr.Compile(`__budget != nil`); err == nil {
		t.Fatal("an expression may name the budget")
	}
}
