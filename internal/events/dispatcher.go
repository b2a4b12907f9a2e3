package events

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/secrets"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/webhooksig"
)

// DefaultSchedule is the published retry schedule: the delays after the
// first attempt before each retry (so eight attempts in all, over about 28
// hours). Each delay gets ±20% jitter.
var DefaultSchedule = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
	5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// DispatcherOptions configures delivery.
type DispatcherOptions struct {
	// Client sends the deliveries: the netguard client, so subscriber URLs
	// are held to the same SSRF rules as every user-given URL.
	Client   *http.Client
	Schedule []time.Duration // default DefaultSchedule
	// DisableAfter disables a subscription whose deliveries have failed
	// without a success for this long (default 5 days).
	DisableAfter time.Duration
	Poll         time.Duration // how often due deliveries are looked for (default 1s)
	Lease        time.Duration // how long a claimed delivery is held (default 2m)
	Concurrency  int           // deliveries at once (default 8)
	Logger       *slog.Logger
	Now          func() time.Time
}

// Dispatcher delivers due events from the outbox. Any number of processes
// may run one: a delivery is claimed with a lease in the database, and a
// process that dies mid-delivery loses its lease, so another (or the same
// after a restart) sends it again — at least once.
type Dispatcher struct {
	st   *store.Store
	ring *secrets.Keyring
	o    DispatcherOptions
	wake chan struct{}
}

// NewDispatcher returns a dispatcher.
func NewDispatcher(st *store.Store, ring *secrets.Keyring, o DispatcherOptions) *Dispatcher {
	if o.Client == nil {
		o.Client = http.DefaultClient
	}
	if o.Schedule == nil {
		o.Schedule = DefaultSchedule
	}
	if o.DisableAfter <= 0 {
		o.DisableAfter = 5 * 24 * time.Hour
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Dispatcher{st: st, ring: ring, o: o, wake: make(chan struct{}, 1)}
}

// Nudge makes the dispatcher look for due deliveries now.
func (d *Dispatcher) Nudge() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	t := time.NewTicker(d.o.Poll)
	defer t.Stop()
	for {
		if err := d.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			d.o.Logger.Warn("delivering events", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-d.wake:
		}
	}
}

// DeliverDue sends every delivery due now (in batches) and returns when
// they are done.
func (d *Dispatcher) DeliverDue(ctx context.Context) error {
	for ctx.Err() == nil {
		now := d.o.Now()
		due, err := d.st.DueDeliveries(ctx, now, 4*d.o.Concurrency)
		if err != nil {
			return err
		}
		if len(due) == 0 {
			return nil
		}
		sem := make(chan struct{}, d.o.Concurrency)
		var wg sync.WaitGroup
		claimed := 0
		for i := range due {
			ok, err := d.st.ClaimDelivery(ctx, due[i].ID, now, now.Add(d.o.Lease))
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			claimed++
			sem <- struct{}{}
			wg.Add(1)
			go func(del store.EventDelivery) {
				defer func() { <-sem; wg.Done() }()
				if err := d.deliver(ctx, &del); err != nil && ctx.Err() == nil {
					d.o.Logger.Warn("event delivery", "delivery_id", del.ID, "error", err)
				}
			}(due[i])
		}
		wg.Wait()
		if claimed == 0 {
			return nil // others hold the rest
		}
	}
	return nil
}

// responseExcerpt bounds the recorded response body.
const responseExcerpt = 2 << 10

func (d *Dispatcher) deliver(ctx context.Context, del *store.EventDelivery) error {
	sub, err := d.st.GetSubscription(ctx, del.SubscriptionID)
	if errors.Is(err, store.ErrNotFound) {
		return d.st.AbandonDelivery(ctx, del.ID, "subscription deleted")
	}
	if err != nil {
		return err
	}
	if !sub.Enabled {
		return d.st.AbandonDelivery(ctx, del.ID, "subscription disabled: "+sub.DisabledReason)
	}
	ev, err := d.st.GetEvent(ctx, del.EventID)
	if err != nil {
		return err
	}
	now := d.o.Now()
	keys, err := signingSecrets(d.ring, sub, now)
	if err != nil {
		return err
	}
	body := []byte(ev.Payload)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, bytes.NewReader(body))
	if err != nil {
		return d.finish(ctx, sub, del, store.EventAttempt{URL: sub.URL, Error: err.Error()}, false, 0)
	}
	for k, v := range sub.HeaderMap() {
		req.Header.Set(k, v)
	}
	sigs, err := Sign(keys, ev.ID, now, body)
	if err != nil {
		return err
	}
	for k, vs := range sigs {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Switchboard-Webhooks/1")

	start := time.Now()
	resp, err := d.o.Client.Do(req)
	a := store.EventAttempt{URL: sub.URL, Signatures: len(keys)}
	var retryAfter time.Duration
	if err != nil {
		a.Error = err.Error()
	} else {
		excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, responseExcerpt))
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		a.Status = resp.StatusCode
		a.ResponseBody = strings.ToValidUTF8(string(excerpt), "\uFFFD")
		retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	}
	a.LatencyMS = time.Since(start).Milliseconds()
	return d.finish(ctx, sub, del, a, a.Status == http.StatusGone, retryAfter)
}

// finish records an attempt and decides what comes next.
func (d *Dispatcher) finish(ctx context.Context, sub *store.Subscription, del *store.EventDelivery, a store.EventAttempt, gone bool, retryAfter time.Duration) error {
	ctx = context.WithoutCancel(ctx) // the attempt happened; record it
	now := d.o.Now()
	ok := a.Error == "" && a.Status >= 200 && a.Status < 300
	out := store.DeliveryOutcome{Attempt: a}
	switch {
	case ok:
		out.State = store.DeliverySucceeded
	case gone:
		out.State = store.DeliveryFailed
	case del.Attempts >= len(d.o.Schedule):
		out.State = store.DeliveryFailed
	default:
		delay := jitter(d.o.Schedule[del.Attempts])
		if retryAfter > delay {
			delay = retryAfter
		}
		next := now.Add(delay)
		out.State, out.Next = store.DeliveryPending, &next
	}
	if err := d.st.FinishAttempt(ctx, del, out); err != nil {
		return err
	}
	if ok {
		return d.st.SubscriptionHealthy(ctx, sub.ID)
	}
	if gone {
		return d.disable(ctx, sub, "the endpoint answered 410 Gone")
	}
	since, err := d.st.SubscriptionFailing(ctx, sub.ID, now)
	if err != nil {
		return err
	}
	if now.Sub(since) >= d.o.DisableAfter {
		return d.disable(ctx, sub, fmt.Sprintf("deliveries failed without a success since %s", since.UTC().Format(time.RFC3339)))
	}
	return nil
}

// disable switches the subscription off and tells the admins through the
// audit log.
func (d *Dispatcher) disable(ctx context.Context, sub *store.Subscription, reason string) error {
	// The switch and the notice commit together.
	return d.st.InTx(ctx, func(tx *store.Store, _ *sql.Tx) error {
		changed, err := tx.DisableSubscription(ctx, sub.ID, reason)
		if err != nil || !changed {
			return err
		}
		d.o.Logger.Warn("subscription disabled", "subscription_id", sub.ID, "reason", reason)
		return tx.AddAudit(ctx, &store.AuditEntry{At: d.o.Now().UTC(), ActorKind: "system", ActorName: "switchboard",
			Action: "subscription.disabled", TargetType: "subscription", TargetID: sub.ID,
			Detail: store.MustJSON(map[string]string{"reason": reason, "url": sub.URL})})
	})
}

// Sign returns the Standard Webhooks headers for body: webhook-id,
// webhook-timestamp and a webhook-signature with one v1 signature per
// secret, space-separated, as the specification allows during a rotation.
func Sign(secrets []string, id string, now time.Time, body []byte) (http.Header, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("signing event %s: no secret", id)
	}
	var h http.Header
	var sigs []string
	for _, sec := range secrets {
		one, err := webhooksig.Sign(webhooksig.Config{Scheme: webhooksig.SchemeStandardWebhooks}, sec, body, now, id)
		if err != nil {
			return nil, fmt.Errorf("signing event %s: %w", id, err)
		}
		if h == nil {
			h = one
		}
		sigs = append(sigs, one.Get(webhooksig.HeaderWebhookSignature))
	}
	h.Set(webhooksig.HeaderWebhookSignature, strings.Join(sigs, " "))
	return h, nil
}

func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// parseRetryAfter reads seconds or an HTTP date, capped at a day.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d < 0 {
		return 0
	}
	return min(d, 24*time.Hour)
}
