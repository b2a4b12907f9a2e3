package connectors

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Redacted stands where a secret was.
const Redacted = "[redacted]"

// minSecretLen is the shortest value Redact hides: a shorter one would blank
// out ordinary text (a one-letter "secret" is in every sentence).
const minSecretLen = 4

// Redact returns s with every secret (a token, a password, a signed URL)
// replaced by [redacted], for error texts and records built from a service's
// answer. Secrets shorter than four characters are left alone.
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= minSecretLen {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
	}
	return s
}

// RedactError returns err with the secrets hidden in its message while its
// chain (error kinds, deadlines, sentinels) still answers errors.Is and
// errors.As; an error that names no secret is returned as is.
func RedactError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if red := Redact(msg, secrets...); red != msg {
		return &redactedError{msg: red, err: err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Stringify formats a value as text: strings as they are, whole numbers
// without a decimal point, nil as empty, times in RFC 3339, objects and lists
// as JSON. Templates and connectors that put a value into a text field use
// it, so a value reads the same everywhere.
func Stringify(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case int, int64, int32, uint, uint64, bool:
		return fmt.Sprint(x)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case time.Duration:
		return x.String()
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}

// Redactor hides a connection's secret values in what leaves a call: the
// output, error texts, logs and delivery records. The zero value and nil
// hide nothing.
type Redactor struct{ secrets []string }

// NewRedactor hides every credential value of at least four characters.
func NewRedactor(creds map[string]string) *Redactor {
	r := &Redactor{}
	for _, v := range creds {
		if len(v) >= minSecretLen {
			r.secrets = append(r.secrets, v)
		}
	}
	return r
}

// Text is s with the secrets replaced by [redacted].
func (r *Redactor) Text(s string) string {
	if r == nil {
		return s
	}
	return Redact(s, r.secrets...)
}

// Value redacts the strings (keys too) of a JSON-like value, copying maps
// and lists; other values come back as they are.
func (r *Redactor) Value(v any) any {
	if r == nil || len(r.secrets) == 0 {
		return v
	}
	switch x := v.(type) {
	case string:
		return r.Text(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, sub := range x {
			out[r.Text(k)] = r.Value(sub)
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, sub := range x {
			out[r.Text(k)] = r.Text(sub)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, sub := range x {
			out[i] = r.Value(sub)
		}
		return out
	default:
		return v
	}
}

// Err is err with the secrets hidden in its message, its chain kept.
func (r *Redactor) Err(err error) error {
	if r == nil {
		return err
	}
	return RedactError(err, r.secrets...)
}
