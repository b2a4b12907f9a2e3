package engine

import (
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/workflow"
)

func TestBackoffGrowsWithJitterCapsAndHonoursRetryAfter(t *testing.T) {
	r := &workflow.Retry{MaxAttempts: 10, Initial: "1s", Max: "10s"}
	for attempt, full := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 9: 10 * time.Second} {
		for i := 0; i < 50; i++ {
			d := backoff(r, attempt, 0)
			if d < full/2 || d > full {
				t.Fatalf("attempt %d: backoff %s outside [%s, %s]", attempt, d, full/2, full)
			}
		}
	}
	if d := backoff(r, 1, 30*time.Second); d != 30*time.Second {
		t.Fatalf("Retry-After 30s gave %s", d)
	}
	fixed := &workflow.Retry{MaxAttempts: 3, Backoff: "fixed", Initial: "2s"}
	if d := backoff(fixed, 3, 0); d < time.Second || d > 2*time.Second {
		t.Fatalf("fixed backoff = %s", d)
	}
}
