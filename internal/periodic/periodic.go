// Package periodic runs background work on a fixed interval until its context
// ends: the connectors folder watcher, the plugin sync and the engine's lease
// heartbeat share this one loop. Standard library only, so connectors may use it.
package periodic

import (
	"context"
	"time"
)

// Run calls fn every interval until ctx ends, in the calling goroutine. The
// first call comes one interval after Run starts (callers that want an
// immediate pass make it themselves, where its error can still be returned).
func Run(ctx context.Context, interval time.Duration, fn func(context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn(ctx)
		}
	}
}
