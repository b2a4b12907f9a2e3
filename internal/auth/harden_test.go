package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// Wrong passwords sent in parallel each count: the counter is incremented
// in SQL, so a burst cannot slip past the lockout.
func TestParallelWrongPasswordsLockTheAccount(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		svc := New(storetest.Open(t, dialect), Options{LoginPerIPMin: 1000, LoginPerAccountMin: 1000, MaxFailures: 3, MaxConcurrentHashes: 8})
		_, err := svc.Setup(ctx, UserInput{Email: "ada@example.com", Password: "a long enough password"})
		storetest.Must(t, err, "setup")
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = svc.Login(ctx, "ada@example.com", "wrong password!", fmt.Sprintf("10.0.0.%d", i))
			}()
		}
		wg.Wait()
		if _, err := svc.Login(ctx, "ada@example.com", "a long enough password", "10.0.1.1"); !errors.Is(err, ErrLocked) {
			t.Fatalf("after 8 parallel wrong passwords the right one gives %v, want the account locked", err)
		}
	})
}

// Attempts on one account are limited whatever address they come from.
func TestLoginAttemptsPerAccountAreLimited(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		frozen := time.Now() // the bucket must not refill while slow hashes run
		svc := New(storetest.Open(t, dialect), Options{LoginPerIPMin: 1000, LoginPerAccountMin: 3, MaxFailures: 100,
			Now: func() time.Time { return frozen }})
		_, err := svc.Setup(ctx, UserInput{Email: "ada@example.com", Password: "a long enough password"})
		storetest.Must(t, err, "setup")
		for i := range 3 {
			if _, err := svc.Login(ctx, "ADA@example.com", "wrong password!", fmt.Sprintf("10.0.0.%d", i)); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("attempt %d: %v", i, err)
			}
		}
		if _, err := svc.Login(ctx, "ada@example.com", "a long enough password", "10.0.0.99"); !errors.Is(err, ErrRateLimited) {
			t.Fatalf("4th attempt on the account from a new address: %v, want rate limited", err)
		}
		if _, err := svc.Login(ctx, "bob@example.com", "whatever password", "10.0.0.99"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("another account is limited too: %v", err)
		}
	})
}

// Each hash holds 64 MiB: when every slot is taken a login is refused as
// busy (429) instead of queueing more memory.
func TestPasswordHashesAreBounded(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		svc := New(storetest.Open(t, dialect), Options{LoginPerIPMin: 1000, MaxConcurrentHashes: 2})
		_, err := svc.Setup(ctx, UserInput{Email: "ada@example.com", Password: "a long enough password"})
		storetest.Must(t, err, "setup")
		svc.hashes <- struct{}{}
		svc.hashes <- struct{}{}
		if _, err := svc.Login(ctx, "ada@example.com", "a long enough password", "10.0.0.1"); !errors.Is(err, ErrBusy) {
			t.Fatalf("login with every hash slot taken: %v, want ErrBusy", err)
		}
		<-svc.hashes
		if _, err := svc.Login(ctx, "ada@example.com", "a long enough password", "10.0.0.1"); err != nil {
			t.Fatalf("login with a free slot: %v", err)
		}
		if len(svc.hashes) != 1 {
			t.Fatalf("%d slots held after the login, want 1 (the test's)", len(svc.hashes))
		}
	})
}
