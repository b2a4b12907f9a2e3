package connectors

import (
	"errors"
	"fmt"
	"time"
)

// ErrorKind tells the engine whether retrying an action can help.
//
// The retry rules for HTTP services (StatusError and TransportError apply
// them; the engine records each delivery's kind by the same rules):
//   - 429 and 503: rate_limited, retried no sooner than Retry-After;
//   - 408, 425 and other 5xx: retryable;
//   - other 4xx (400, 401, 403, 404, 410, 422…): permanent;
//   - no answer (connection refused or reset, timeout, a body cut off or
//     dripping past the timeout): retryable;
//   - a server certificate the client does not trust: permanent (a retry
//     meets the same certificate);
//   - refused by the outbound network policy (also after a redirect) or a
//     response larger than the cap: permanent (the engine decides these).
//
// A step retries retryable and rate-limited failures only when it has a
// retry policy, up to retry.max_attempts.
type ErrorKind string

const (
	// KindRetryable: a transient failure (5xx, timeout, connection reset).
	KindRetryable ErrorKind = "retryable"
	// KindPermanent: retrying will fail the same way (4xx, rejected request).
	KindPermanent ErrorKind = "permanent"
	// KindRateLimited: retry after RetryAfter.
	KindRateLimited ErrorKind = "rate_limited"
	// KindBadInput: the step's input is wrong; fix the workflow.
	KindBadInput ErrorKind = "bad_input"
)

// Error is an action failure with its kind.
type Error struct {
	Kind       ErrorKind
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	if e.Kind == KindRateLimited && e.RetryAfter > 0 {
		return fmt.Sprintf("%s (retry after %s): %v", e.Kind, e.RetryAfter, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Kind, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable marks err as transient.
func Retryable(err error) error { return &Error{Kind: KindRetryable, Err: err} }

// Permanent marks err as one a retry cannot fix.
func Permanent(err error) error { return &Error{Kind: KindPermanent, Err: err} }

// RateLimited marks err as a rate limit, to retry after d (0 if unknown).
func RateLimited(d time.Duration, err error) error {
	return &Error{Kind: KindRateLimited, RetryAfter: d, Err: err}
}

// BadInput marks err as a problem with the step's input.
func BadInput(err error) error { return &Error{Kind: KindBadInput, Err: err} }

// KindOf reports the kind of err; unclassified errors are retryable, since a
// failure we do not understand is more often transient than not.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindRetryable
}

// RetryAfterOf reports the retry delay a rate-limited error carries.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}
