package connectors_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
)

func TestRedactHidesSecretsButNotShortValues(t *testing.T) {
	got := connectors.Redact("token xoxb-123456 and pw hunter2 and a", "xoxb-123456", "hunter2", "a", "")
	if want := "token [redacted] and pw [redacted] and a"; got != want {
		t.Fatalf("Redact = %q, want %q", got, want)
	}
}

func TestRedactErrorKeepsTheChain(t *testing.T) {
	base := connectors.Retryable(fmt.Errorf("calling https://x/bot12345678:SECRETSECRET: %w", context.DeadlineExceeded))
	err := connectors.RedactError(base, "12345678:SECRETSECRET")
	if err.Error() != "retryable: calling https://x/bot[redacted]: context deadline exceeded" {
		t.Fatalf("message: %q", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) || connectors.KindOf(err) != connectors.KindRetryable {
		t.Fatalf("the chain is lost: %v", err)
	}
	plain := errors.New("nothing secret")
	if connectors.RedactError(plain, "SECRETSECRET") != plain || connectors.RedactError(nil, "x") != nil {
		t.Fatal("an error without secrets must come back as is")
	}
}

func TestStringify(t *testing.T) {
	for _, c := range []struct {
		in   any
		want string
	}{
		{nil, ""}, {"a b", "a b"}, {float64(3), "3"}, {2.5, "2.5"}, {true, "true"}, {42, "42"},
		{map[string]any{"a": 1.0}, `{"a":1}`}, {[]any{"x", 2.0}, `["x",2]`},
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "2026-01-02T03:04:05Z"}, {90 * time.Second, "1m30s"},
	} {
		if got := connectors.Stringify(c.in); got != c.want {
			t.Errorf("Stringify(%#v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRedactorHidesCredentialsInValues(t *testing.T) {
	r := connectors.NewRedactor(map[string]string{"token": "xoxb-SECRET", "short": "ab"})
	got := r.Value(map[string]any{"echo": "Bearer xoxb-SECRET", "list": []any{"xoxb-SECRET", 1.0}, "xoxb-SECRET": "key",
		"headers": map[string]string{"Authorization": "xoxb-SECRET"}, "ab": "ab"})
	want := `{"[redacted]":"key","ab":"ab","echo":"Bearer [redacted]","headers":{"Authorization":"[redacted]"},"list":["[redacted]",1]}`
	if s := connectors.Stringify(got); s != want {
		t.Fatalf("Value = %s, want %s", s, want)
	}
	var none *connectors.Redactor
	if none.Text("xoxb-SECRET") != "xoxb-SECRET" || none.Value("x") != "x" {
		t.Fatal("a nil Redactor hides nothing")
	}
}
