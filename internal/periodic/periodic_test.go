package periodic_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-dev/switchboard/internal/periodic"
)

func TestRunCallsOncePerIntervalUntilTheContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		var calls atomic.Int32
		done := make(chan struct{})
		go func() {
			periodic.Run(ctx, time.Second, func(context.Context) { calls.Add(1) })
			close(done)
		}()

		synctest.Wait()
		if n := calls.Load(); n != 0 {
			t.Fatalf("called %d times before the first interval, want 0", n)
		}
		time.Sleep(3*time.Second + time.Millisecond)
		synctest.Wait()
		if n := calls.Load(); n != 3 {
			t.Fatalf("called %d times in three intervals, want 3", n)
		}

		cancel()
		<-done
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if n := calls.Load(); n != 3 {
			t.Fatalf("called %d times after the context ended, want still 3", n)
		}
	})
}
