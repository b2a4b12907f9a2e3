package schedule

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/cronspec"
)

// at is wall-clock time s ("2006-01-02 15:04:05") in zone tz.
func at(t *testing.T, tz, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(tz)
	if err == nil {
		var v time.Time
		if v, err = time.ParseInLocation(time.DateTime, s, loc); err == nil {
			return v
		}
	}
	t.Fatal(err)
	return time.Time{}
}

// fakeClock is a Clock whose time moves only when the test says so. Tests
// wait until every Scheduler is blocked on a timer (it has finished with the
// current time) before moving the time on, so nothing depends on real time.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer
	changed chan struct{} // closed and replaced whenever timers change
}

type fakeTimer struct {
	c     *fakeClock
	at    time.Time
	ch    chan time.Time
	armed bool
}

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, changed: make(chan struct{})}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), ch: make(chan time.Time, 1), armed: true}
	c.timers = append(c.timers, t)
	c.broadcast()
	return t
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if !t.armed {
		return false
	}
	t.armed = false
	t.c.timers = slices.DeleteFunc(t.c.timers, func(x *fakeTimer) bool { return x == t })
	t.c.broadcast()
	return true
}

func (c *fakeClock) broadcast() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// waitTimers blocks until n timers are armed: n Schedulers are idle.
func (c *fakeClock) waitTimers(t *testing.T, n int) {
	t.Helper()
	for {
		c.mu.Lock()
		armed, changed := len(c.timers), c.changed
		c.mu.Unlock()
		if armed >= n {
			return
		}
		select {
		case <-changed:
		case <-time.After(30 * time.Second): // a hang detector, not a timing assertion
			t.Fatalf("waited for %d idle schedulers, %d are", n, armed)
		}
	}
}

// advanceToNext moves the time to the earliest armed timer and fires every
// timer due by then. It returns the new time.
func (c *fakeClock) advanceToNext() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := c.timers[0].at
	for _, t := range c.timers {
		if t.at.Before(next) {
			next = t.at
		}
	}
	if next.After(c.now) {
		c.now = next
	}
	c.timers = slices.DeleteFunc(c.timers, func(t *fakeTimer) bool {
		if t.at.After(c.now) {
			return false
		}
		t.armed = false
		t.ch <- c.now
		return true
	})
	c.broadcast()
	return c.now
}

// fakeSource serves a list of entries that the test may change.
type fakeSource struct {
	mu      sync.Mutex
	entries []Entry
	err     error
	calls   int
	called  chan struct{} // closed and replaced on every call
}

func newFakeSource(entries ...Entry) *fakeSource {
	return &fakeSource{entries: entries, called: make(chan struct{})}
}

func (s *fakeSource) Schedules(context.Context) ([]Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	close(s.called)
	s.called = make(chan struct{})
	if s.err != nil {
		return nil, s.err
	}
	return slices.Clone(s.entries), nil
}

func (s *fakeSource) set(entries ...Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries = entries
}

// waitCalls blocks until Schedules was called n times.
func (s *fakeSource) waitCalls(t *testing.T, n int) {
	t.Helper()
	for {
		s.mu.Lock()
		calls, called := s.calls, s.called
		s.mu.Unlock()
		if calls >= n {
			return
		}
		select {
		case <-called:
		case <-time.After(30 * time.Second): // a hang detector
			t.Fatalf("waited for %d Schedules calls, got %d", n, calls)
		}
	}
}

// runStore is what a database with a unique key on (workflow, fire time)
// does for concurrent schedulers: the first insert wins.
type runStore struct {
	mu       sync.Mutex
	winner   map[string]string // key -> scheduler that fired it
	attempts map[string]int
	failNext int // the next failNext Fire calls fail
}

func newRunStore() *runStore {
	return &runStore{winner: map[string]string{}, attempts: map[string]int{}}
}

func key(workflowID string, fireAt time.Time) string {
	return workflowID + "@" + fireAt.UTC().Format(time.RFC3339)
}

// firer returns the Firer of one scheduler process.
func (r *runStore) firer(name string) Firer { return storeFirer{r, name} }

type storeFirer struct {
	r    *runStore
	name string
}

func (f storeFirer) Fire(_ context.Context, workflowID string, fireAt time.Time) (bool, error) {
	f.r.mu.Lock()
	defer f.r.mu.Unlock()
	if f.r.failNext > 0 {
		f.r.failNext--
		return false, errors.New("database unavailable")
	}
	k := key(workflowID, fireAt)
	f.r.attempts[k]++
	if _, taken := f.r.winner[k]; taken {
		return false, nil
	}
	f.r.winner[k] = f.name
	return true, nil
}

func (r *runStore) fired() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.winner))
	for k := range r.winner {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// start runs the schedulers until the test ends.
func start(t *testing.T, scheds ...*Scheduler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, s := range scheds {
		wg.Go(func() {
			if err := s.Run(ctx); !errors.Is(err, context.Canceled) {
				t.Errorf("Run returned %v, want context.Canceled", err)
			}
		})
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

// expectedKeys lists the ticks of each entry in (from, to].
func expectedKeys(t *testing.T, from, to time.Time, entries ...Entry) []string {
	var out []string
	for _, e := range entries {
		s, err := cronspec.Parse(e.Spec, e.Timezone)
		if err != nil {
			t.Fatal(err)
		}
		for tk := s.Next(from); !tk.IsZero() && !tk.After(to); tk = s.Next(tk) {
			out = append(out, key(e.WorkflowID, tk))
		}
	}
	slices.Sort(out)
	return out
}

func TestTwoSchedulersFireEachTickOnce(t *testing.T) {
	t.Parallel()
	entries := []Entry{
		{WorkflowID: "quarter", Spec: "*/15 * * * *", Timezone: "UTC"},
		{WorkflowID: "night", Spec: "30 2 * * *", Timezone: "Europe/Berlin"},
		{WorkflowID: "hourly-berlin", Spec: "0 * * * *", Timezone: "Europe/Berlin"},
		{WorkflowID: "every", Spec: "@every 50m", Misfire: cronspec.MisfireRunOnce},
	}
	// Two days spanning Berlin's fall back.
	begin := at(t, "UTC", "2025-10-25 00:00:00")
	end := at(t, "UTC", "2025-10-27 00:00:00")
	clock := newFakeClock(begin)
	src := newFakeSource(entries...)
	store := newRunStore()
	opts := func(name string) Options {
		return Options{Clock: clock, Reload: 10 * time.Minute, Logger: testLogger(t).With("scheduler", name)}
	}
	a := New(src, store.firer("a"), opts("a"))
	b := New(src, store.firer("b"), opts("b"))
	start(t, a, b)

	for {
		clock.waitTimers(t, 2)
		if clock.advanceToNext().After(end) {
			break
		}
	}

	// Never fired before: each schedule starts at begin, with a tick due
	// exactly then counting as due.
	want := expectedKeys(t, begin.Add(-cronspec.DefaultGrace), end, entries...)
	got := store.fired()
	if !slices.Equal(got, want) {
		t.Fatalf("fired %d ticks, want %d\ngot  %v\nwant %v", len(got), len(want), got, want)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	wins := map[string]int{}
	for k, n := range store.attempts {
		if n != 2 {
			t.Errorf("%s: %d attempts, want one per scheduler", k, n)
		}
		wins[store.winner[k]]++
	}
	t.Logf("%d ticks fired once each; wins by scheduler: %v", len(got), wins)
	// On the fall-back day the night schedule fired once, the Berlin hourly
	// one 25 times.
	berlin := cronspec.MustParse("@daily", "Europe/Berlin").Location()
	perDay := func(id, day string) (n int) {
		for _, k := range got {
			wid, ts, _ := strings.Cut(k, "@")
			tm, err := time.Parse(time.RFC3339, ts)
			if err != nil {
				t.Fatal(err)
			}
			if wid == id && tm.In(berlin).Format("2006-01-02") == day {
				n++
			}
		}
		return n
	}
	if n := perDay("night", "2025-10-26"); n != 1 {
		t.Errorf("night fired %d times on the fall-back day, want 1", n)
	}
	if n := perDay("hourly-berlin", "2025-10-26"); n != 25 {
		t.Errorf("hourly Berlin fired %d times on the 25-hour day, want 25", n)
	}
}

func TestRefreshStopsADeactivatedWorkflowAtOnce(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(at(t, "UTC", "2025-06-02 09:59:00"))
	keep := Entry{WorkflowID: "keep", Spec: "0 * * * *"}
	drop := Entry{WorkflowID: "drop", Spec: "0 * * * *"}
	src := newFakeSource(keep, drop)
	store := newRunStore()
	// A reload period longer than the test: only Refresh can apply the change.
	s := New(src, store.firer("a"), Options{Clock: clock, Reload: 24 * time.Hour, Logger: testLogger(t)})
	start(t, s)

	clock.waitTimers(t, 1)
	clock.advanceToNext() // 10:00
	clock.waitTimers(t, 1)
	want := []string{"drop@2025-06-02T10:00:00Z", "keep@2025-06-02T10:00:00Z"}
	if got := store.fired(); !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}

	src.set(keep) // "drop" deactivated
	s.Refresh()
	src.waitCalls(t, 2)
	clock.waitTimers(t, 1)
	for range 3 { // 11:00, 12:00, 13:00
		clock.advanceToNext()
		clock.waitTimers(t, 1)
	}
	want = []string{
		"drop@2025-06-02T10:00:00Z",
		"keep@2025-06-02T10:00:00Z", "keep@2025-06-02T11:00:00Z", "keep@2025-06-02T12:00:00Z", "keep@2025-06-02T13:00:00Z",
	}
	if got := store.fired(); !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
}

func TestRefreshAppliesAnEditedSpec(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(at(t, "UTC", "2025-06-02 10:05:00"))
	src := newFakeSource(Entry{WorkflowID: "w", Spec: "0 * * * *", LastFired: at(t, "UTC", "2025-06-02 10:00:00")})
	store := newRunStore()
	s := New(src, store.firer("a"), Options{Clock: clock, Reload: 24 * time.Hour, Logger: testLogger(t)})
	start(t, s)
	clock.waitTimers(t, 1)

	// Edited at 10:05 to half past; the Source reports the edit time.
	src.set(Entry{WorkflowID: "w", Spec: "30 * * * *", LastFired: at(t, "UTC", "2025-06-02 10:05:00")})
	s.Refresh()
	src.waitCalls(t, 2)
	clock.waitTimers(t, 1)
	for range 2 {
		clock.advanceToNext()
		clock.waitTimers(t, 1)
	}
	want := []string{"w@2025-06-02T10:30:00Z", "w@2025-06-02T11:30:00Z"}
	if got := store.fired(); !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
}

func TestSchedulerAfterDowntime(t *testing.T) {
	t.Parallel()
	lastFired := at(t, "Europe/Berlin", "2025-06-02 09:00:00")
	now := at(t, "Europe/Berlin", "2025-06-05 12:00:00") // three days down
	for _, tc := range []struct {
		policy cronspec.Misfire
		want   []string
	}{
		// Missed ticks dropped; the next one tomorrow.
		{cronspec.MisfireSkip, []string{"w@2025-06-06T07:00:00Z"}},
		// One fire at start for the latest missed tick, then tomorrow's.
		{cronspec.MisfireRunOnce, []string{"w@2025-06-05T07:00:00Z", "w@2025-06-06T07:00:00Z"}},
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock(now)
			src := newFakeSource(Entry{WorkflowID: "w", Spec: "0 9 * * *", Timezone: "Europe/Berlin", Misfire: tc.policy, LastFired: lastFired})
			store := newRunStore()
			s := New(src, store.firer("a"), Options{Clock: clock, Reload: 24 * time.Hour, Logger: testLogger(t)})
			start(t, s)
			clock.waitTimers(t, 1)
			if now := clock.advanceToNext(); !now.Equal(at(t, "Europe/Berlin", "2025-06-06 09:00:00")) {
				t.Fatalf("woke at %s, want at the next tick", now)
			}
			clock.waitTimers(t, 1)
			if got := store.fired(); !slices.Equal(got, tc.want) {
				t.Fatalf("fired %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSchedulerRetriesAFailedFire(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(at(t, "UTC", "2025-06-02 09:59:00"))
	src := newFakeSource(Entry{WorkflowID: "w", Spec: "0 10 * * *"})
	store := newRunStore()
	store.failNext = 2
	s := New(src, store.firer("a"), Options{Clock: clock, Reload: time.Hour, Retry: 5 * time.Second, Logger: testLogger(t)})
	start(t, s)
	var wakes []time.Time
	for range 3 { // 10:00:00 fails, 10:00:05 fails, 10:00:10 fires (inside the grace window)
		clock.waitTimers(t, 1)
		wakes = append(wakes, clock.advanceToNext())
	}
	clock.waitTimers(t, 1)
	if got, want := store.fired(), []string{"w@2025-06-02T10:00:00Z"}; !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v (woke at %v)", got, want, wakes)
	}
	if want := at(t, "UTC", "2025-06-02 10:00:10"); !wakes[2].Equal(want) {
		t.Errorf("third attempt at %s, want %s", wakes[2], want)
	}
}

func TestSchedulerKeepsEntriesWhenTheSourceFails(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(at(t, "UTC", "2025-06-02 09:30:00"))
	src := newFakeSource(
		Entry{WorkflowID: "w", Spec: "0 * * * *"},
		Entry{WorkflowID: "bad", Spec: "0 25 * * *"},           // invalid: logged, not scheduled
		Entry{WorkflowID: "odd", Spec: "@daily", Misfire: "x"}, // invalid policy
	)
	store := newRunStore()
	s := New(src, store.firer("a"), Options{Clock: clock, Reload: 20 * time.Minute, Retry: time.Minute, Logger: testLogger(t)})
	start(t, s)
	clock.waitTimers(t, 1)

	src.mu.Lock()
	src.err = errors.New("database unavailable")
	src.mu.Unlock()
	for clock.Now().Before(at(t, "UTC", "2025-06-02 12:00:00")) {
		clock.advanceToNext()
		clock.waitTimers(t, 1)
	}
	want := []string{"w@2025-06-02T10:00:00Z", "w@2025-06-02T11:00:00Z", "w@2025-06-02T12:00:00Z"}
	if got := store.fired(); !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
}
