// Package waitfor is the one way Switchboard's tests wait for something to
// happen: poll a condition until it holds, and fail naming what did not
// happen once the timeout passes. No test sleeps and then asserts.
package waitfor

import (
	"testing"
	"time"
)

// Until polls cond (every 10 ms at first, backing off to 100 ms) until it
// returns true, or fails t with "timed out after … waiting for what".
func Until(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	pause := 10 * time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(pause)
		pause = min(2*pause, 100*time.Millisecond)
	}
}
