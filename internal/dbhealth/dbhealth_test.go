package dbhealth

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) count(sub string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(s.b.String(), sub)
}

// An outage is one line however many checks and polling errors it causes,
// and the recovery one more; while down, the wrapped parts stay quiet.
func TestOneLinePerOutageAndPerRecovery(t *testing.T) {
	var mu sync.Mutex
	var down error
	ping := func(context.Context) error { mu.Lock(); defer mu.Unlock(); return down }
	set := func(err error) { mu.Lock(); down = err; mu.Unlock() }
	out := &syncBuf{}
	log := slog.New(slog.NewTextHandler(out, nil))
	m := New(ping, Options{Logger: log})
	clock := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	m.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	queue := slog.New(m.QuietHandler(log.Handler())).With("part", "queue")
	ctx := context.Background()

	if err := m.Check(ctx); err != nil || m.Ready() != nil {
		t.Fatalf("healthy database: %v", err)
	}
	for outage := 1; outage <= 2; outage++ {
		mu.Lock()
		clock = clock.Add(time.Minute)
		mu.Unlock()
		set(errors.New("connection refused"))
		for i := 0; i < 50; i++ {
			queue.Error("producer: Error fetching jobs", "err", "connection refused")
			_ = m.Check(ctx)
			m.Observe(errors.New("connection refused"))
		}
		if m.Ready() == nil || !errors.Is(m.Ready(), ErrDown) {
			t.Fatal("Ready says up during the outage")
		}
		set(nil)
		if err := m.Check(ctx); err != nil || m.Ready() != nil {
			t.Fatalf("after recovery: %v / %v", err, m.Ready())
		}
		queue.Info("an ordinary line")
		if n := out.count("database unreachable"); n != outage {
			t.Fatalf("%d outage lines after %d outages", n, outage)
		}
		if n := out.count("database reachable again"); n != outage {
			t.Fatalf("%d recovery lines after %d outages", n, outage)
		}
		if n := out.count("Error fetching jobs"); n != 0 {
			t.Fatalf("%d queue errors logged during the outages, want none", n)
		}
		if !strings.Contains(func() string { out.mu.Lock(); defer out.mu.Unlock(); return out.b.String() }(), "log_lines_suppressed=50") {
			t.Fatal("the recovery line does not say how many lines were held back")
		}
	}
	if m.Faults() != 2 {
		t.Fatalf("faults = %d, want 2", m.Faults())
	}
	// While up, the parts' errors are logged as usual.
	queue.Error("a real error")
	if out.count("a real error") != 1 {
		t.Fatal("an error while the database is up was dropped")
	}
	if out.count("an ordinary line") != 2 {
		t.Fatal("info lines must pass")
	}
}
