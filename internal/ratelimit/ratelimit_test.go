package ratelimit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/ratelimit"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

var t0 = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

// An attacker who keeps trying never gets a fresh bucket from the passing
// of wall-clock time: only the limit's own rate refills it. The cache's
// expiry is shortened to 300 ms here and outlived several times over; an
// attempt that came later than the expiry after the previous one (a stalled
// machine) is an idle client, whose bucket may be forgotten, so the check
// starts over on a new key then.
func TestLocalActiveBucketDoesNotRefillOnATimer(t *testing.T) {
	const ttl = 300 * time.Millisecond
	b := ratelimit.NewLocal(100, ttl)
	l := ratelimit.Limit{PerMinute: 1, Burst: 3}
	ctx := context.Background()
	drain := func(key string) {
		for i := 0; i < 3; i++ {
			if d, _ := b.Take(ctx, key, l, t0); !d.Allowed {
				t.Fatalf("attempt %d of the burst refused", i+1)
			}
		}
	}
	key, round := "attacker-0", 0
	drain(key)
	checked, last := 0, time.Now()
	// The limit's clock stands still (no token is due for a minute) while
	// real time passes several expiry periods with the attacker trying.
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if time.Since(last) > ttl/2 {
			round++
			key = fmt.Sprintf("attacker-%d", round)
			drain(key)
			last = time.Now()
			continue
		}
		d, _ := b.Take(ctx, key, l, t0)
		last = time.Now()
		if d.Allowed {
			t.Fatal("an active attacker's empty bucket was refilled by the passing of time")
		}
		if d.RetryAfter <= 0 || d.RetryAfter > time.Minute {
			t.Fatalf("retry after %s, want up to a minute", d.RetryAfter)
		}
		checked++
	}
	if checked < 20 {
		t.Fatalf("only %d attempts checked; the machine stalled throughout", checked)
	}
	// The limit's own rate does refill it: one token a minute.
	if d, _ := b.Take(ctx, key, l, t0.Add(time.Minute)); !d.Allowed {
		t.Fatal("one minute later the bucket still refuses")
	}
	// Another key has its own bucket.
	if d, _ := b.Take(ctx, "someone else", l, t0); !d.Allowed {
		t.Fatal("a different key was refused")
	}
}

// Two processes (two store handles on one database) share one bucket.
func TestSharedBucketHoldsAcrossProcesses(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		opts := storetest.Options(t, dialect)
		first, err := store.Open(context.Background(), opts)
		storetest.Must(t, err, "first handle")
		t.Cleanup(func() { first.Close() })
		_, err = first.Migrate(context.Background())
		storetest.Must(t, err, "migrate")
		second, err := store.Open(context.Background(), opts)
		storetest.Must(t, err, "second handle")
		t.Cleanup(func() { second.Close() })
		a, b := ratelimit.NewRegistry(ratelimit.NewShared(first)), ratelimit.NewRegistry(ratelimit.NewShared(second))
		limit := ratelimit.Limit{PerMinute: 60, Burst: 5}
		la, lb := a.Limiter("webhook", limit), b.Limiter("webhook", limit)
		ctx := context.Background()
		allowed := 0
		for i := 0; i < 20; i++ {
			l := la
			if i%2 == 1 {
				l = lb
			}
			d, err := l.Allow(ctx, "endpoint-1", ratelimit.Limit{}, t0)
			storetest.Must(t, err, "allow")
			if d.Allowed {
				allowed++
			} else if d.RetryAfter <= 0 || d.RetryAfter > time.Second {
				t.Fatalf("retry after %s, want (0, 1s] at 60 a minute", d.RetryAfter)
			}
		}
		if allowed != 5 {
			t.Fatalf("two processes let %d of 20 through at once, want the shared burst of 5", allowed)
		}
		// One token a second comes back, for both.
		if d, _ := lb.Allow(ctx, "endpoint-1", ratelimit.Limit{}, t0.Add(time.Second)); !d.Allowed {
			t.Fatal("a second later no token came back")
		}
		if d, _ := la.Allow(ctx, "endpoint-1", ratelimit.Limit{}, t0.Add(time.Second)); d.Allowed {
			t.Fatal("the token that came back was handed out twice")
		}
		if d, _ := la.Allow(ctx, "endpoint-2", ratelimit.Limit{}, t0); !d.Allowed {
			t.Fatal("another endpoint shares the bucket")
		}
		st := a.Stats()
		if len(st) != 1 || st[0].Scope != "database" || st[0].Allowed == 0 || st[0].Refused == 0 || st[0].Burst != 5 {
			t.Fatalf("stats %+v", st)
		}
		// Full buckets are pruned; a pruned bucket is full.
		n, err := first.PruneRateTokens(ctx, t0.Add(time.Hour))
		storetest.Must(t, err, "prune")
		if n != 2 {
			t.Fatalf("pruned %d buckets, want 2", n)
		}
	})
}
