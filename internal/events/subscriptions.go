package events

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/fielderr"
	"github.com/switchboard-dev/switchboard/internal/secrets"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// InvalidError lists what is wrong with a subscription, by field.
type InvalidError = fielderr.Invalid

func invalid(problems map[string]string) *InvalidError {
	return &InvalidError{What: "subscription", Problems: problems}
}

// Service manages subscriptions and their deliveries.
type Service struct {
	st    *store.Store
	ring  *secrets.Keyring
	now   func() time.Time
	nudge func()
}

// NewService returns a Service; secrets are sealed with ring. nudge (may be
// nil) wakes a local dispatcher when something is due at once.
func NewService(st *store.Store, ring *secrets.Keyring, nudge func()) *Service {
	if nudge == nil {
		nudge = func() {}
	}
	return &Service{st: st, ring: ring, now: time.Now, nudge: nudge}
}

// Input creates or changes a subscription; nil fields are kept on update.
type Input struct {
	URL         *string            `json:"url,omitempty"`
	Description *string            `json:"description,omitempty"`
	Events      []string           `json:"events,omitempty"`
	WorkflowID  *string            `json:"workflow_id,omitempty"` // "" removes the filter
	Headers     *map[string]string `json:"headers,omitempty"`
	Enabled     *bool              `json:"enabled,omitempty"`
}

// View is a subscription as the API shows it. Secret is set only in the
// answer that created or rotated it.
type View struct {
	ID              string            `json:"id"`
	URL             string            `json:"url"`
	Description     string            `json:"description"`
	Events          []string          `json:"events" nullable:"false"`
	WorkflowID      *string           `json:"workflow_id"`
	Headers         map[string]string `json:"headers" nullable:"false"`
	Enabled         bool              `json:"enabled"`
	DisabledReason  string            `json:"disabled_reason,omitempty"`
	FailingSince    *time.Time        `json:"failing_since,omitempty"`
	PrevSecretUntil *time.Time        `json:"previous_secret_valid_until,omitempty"`
	Secret          string            `json:"secret,omitempty"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
}

func (s *Service) view(sub *store.Subscription) *View {
	v := &View{ID: sub.ID, URL: sub.URL, Description: sub.Description, Events: sub.EventTypes(), WorkflowID: sub.WorkflowID,
		Headers: sub.HeaderMap(), Enabled: sub.Enabled, DisabledReason: sub.DisabledReason, FailingSince: sub.FailingSince,
		CreatedAt: sub.CreatedAt, UpdatedAt: sub.UpdatedAt}
	if sub.PrevSecretUntil != nil && sub.PrevSecretUntil.After(s.now()) && sub.PrevSecretSealed != "" {
		v.PrevSecretUntil = sub.PrevSecretUntil
	}
	return v
}

// reservedHeaders cannot be set per subscription: they carry the signature
// or describe the body.
var reservedHeaders = []string{"webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "content-length",
	"host", "transfer-encoding", "connection", "user-agent"}

func (s *Service) check(ctx context.Context, sub *store.Subscription, events []string, headers map[string]string) error {
	problems := map[string]string{}
	u, err := url.Parse(sub.URL)
	switch {
	case strings.TrimSpace(sub.URL) == "":
		problems["url"] = "is required"
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		problems["url"] = "must be an http:// or https:// address"
	case u.User != nil:
		problems["url"] = "must not hold a user name or password; use a custom header"
	}
	if len(events) == 0 {
		problems["events"] = "pick at least one event type (or \"*\" for all)"
	}
	for i, e := range events {
		if e != "*" && !Known(e) {
			problems[fmt.Sprintf("events[%d]", i)] = fmt.Sprintf("%q is not an event type; see GET /api/v1/event-types", e)
		}
	}
	for k, v := range headers {
		switch {
		case k == "" || strings.ContainsAny(k, " \t\r\n:()<>@,;\\\"/[]?={}"):
			problems["headers"] = fmt.Sprintf("%q is not a valid header name", k)
		case slices.Contains(reservedHeaders, strings.ToLower(k)):
			problems["headers."+k] = "is set by Switchboard and cannot be overridden"
		case strings.ContainsAny(v, "\r\n"):
			problems["headers."+k] = "must be one line"
		}
	}
	if len(headers) > 20 {
		problems["headers"] = "at most 20 custom headers"
	}
	if len(sub.Description) > 500 {
		problems["description"] = "at most 500 characters"
	}
	if sub.WorkflowID != nil {
		if _, err := s.st.GetWorkflow(ctx, *sub.WorkflowID); errors.Is(err, store.ErrNotFound) {
			problems["workflow_id"] = "no such workflow"
		} else if err != nil {
			return err
		}
	}
	if len(problems) > 0 {
		return invalid(problems)
	}
	return nil
}

func apply(sub *store.Subscription, in Input) ([]string, map[string]string) {
	if in.URL != nil {
		sub.URL = strings.TrimSpace(*in.URL)
	}
	if in.Description != nil {
		sub.Description = *in.Description
	}
	events := sub.EventTypes()
	if in.Events != nil {
		events = in.Events
		sub.Events = store.MustJSON(events)
	}
	if in.WorkflowID != nil {
		if *in.WorkflowID == "" {
			sub.WorkflowID = nil
		} else {
			id := *in.WorkflowID
			sub.WorkflowID = &id
		}
	}
	headers := sub.HeaderMap()
	if in.Headers != nil {
		headers = *in.Headers
		if headers == nil {
			headers = map[string]string{}
		}
		sub.Headers = store.MustJSON(headers)
	}
	if in.Enabled != nil {
		sub.Enabled = *in.Enabled
		if sub.Enabled {
			sub.DisabledReason, sub.FailingSince = "", nil
		}
	}
	return events, headers
}

// NewSecret returns a Standard Webhooks secret: whsec_ and base64 of 32
// random bytes.
func NewSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating secret: %w", err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b[:]), nil
}

func aad(id string) []byte { return []byte("subscription:" + id) }

// Create stores a subscription (enabled unless in says otherwise) and
// returns it with its signing secret, shown this once.
func (s *Service) Create(ctx context.Context, in Input) (*View, error) {
	sub := &store.Subscription{ID: store.NewID(), Enabled: true, Events: store.MustJSON([]string{}), Headers: store.MustJSON(map[string]string{})}
	events, headers := apply(sub, in)
	if err := s.check(ctx, sub, events, headers); err != nil {
		return nil, err
	}
	secret, err := NewSecret()
	if err != nil {
		return nil, err
	}
	if sub.SecretSealed, err = s.ring.Seal([]byte(secret), aad(sub.ID)); err != nil {
		return nil, fmt.Errorf("sealing subscription secret: %w", err)
	}
	if err := s.st.CreateSubscription(ctx, sub); err != nil {
		return nil, err
	}
	v := s.view(sub)
	v.Secret = secret
	return v, nil
}

// Get returns a subscription.
func (s *Service) Get(ctx context.Context, id string) (*View, error) {
	sub, err := s.st.GetSubscription(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.view(sub), nil
}

// List returns every subscription.
func (s *Service) List(ctx context.Context) ([]*View, error) {
	subs, err := s.st.ListSubscriptions(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*View, len(subs))
	for i := range subs {
		out[i] = s.view(&subs[i])
	}
	return out, nil
}

// Update changes the fields in sets; enabling clears the disabled reason.
func (s *Service) Update(ctx context.Context, id string, in Input) (*View, error) {
	sub, err := s.st.GetSubscription(ctx, id)
	if err != nil {
		return nil, err
	}
	events, headers := apply(sub, in)
	if err := s.check(ctx, sub, events, headers); err != nil {
		return nil, err
	}
	if err := s.st.UpdateSubscription(ctx, sub); err != nil {
		return nil, err
	}
	return s.view(sub), nil
}

// Delete removes a subscription with its deliveries.
func (s *Service) Delete(ctx context.Context, id string) error {
	return s.st.DeleteSubscription(ctx, id)
}

// MaxOverlap bounds how long a rotated-out secret keeps signing.
const MaxOverlap = 7 * 24 * time.Hour

// Rotate gives a subscription a new secret, returned this once. For overlap
// the old secret keeps signing too (both signatures are sent), so the
// receiver can switch without losing a delivery.
func (s *Service) Rotate(ctx context.Context, id string, overlap time.Duration) (*View, error) {
	if overlap < 0 || overlap > MaxOverlap {
		return nil, invalid(map[string]string{"overlap": "must be between 0s and 168h"})
	}
	sub, err := s.st.GetSubscription(ctx, id)
	if err != nil {
		return nil, err
	}
	secret, err := NewSecret()
	if err != nil {
		return nil, err
	}
	sealed, err := s.ring.Seal([]byte(secret), aad(sub.ID))
	if err != nil {
		return nil, fmt.Errorf("sealing subscription secret: %w", err)
	}
	if overlap > 0 {
		until := s.now().Add(overlap).UTC()
		sub.PrevSecretSealed, sub.PrevSecretUntil = sub.SecretSealed, &until
	} else {
		sub.PrevSecretSealed, sub.PrevSecretUntil = "", nil
	}
	sub.SecretSealed = sealed
	if err := s.st.UpdateSubscription(ctx, sub); err != nil {
		return nil, err
	}
	v := s.view(sub)
	v.Secret = secret
	return v, nil
}

// signingSecrets opens the secrets that sign a delivery at now: the current
// one, and the previous one during a rotation's overlap.
func signingSecrets(ring *secrets.Keyring, sub *store.Subscription, now time.Time) ([]string, error) {
	cur, err := ring.Open(sub.SecretSealed, aad(sub.ID))
	if err != nil {
		return nil, fmt.Errorf("opening secret of subscription %s: %w", sub.ID, err)
	}
	out := []string{string(cur)}
	if sub.PrevSecretSealed != "" && sub.PrevSecretUntil != nil && now.Before(*sub.PrevSecretUntil) {
		prev, err := ring.Open(sub.PrevSecretSealed, aad(sub.ID))
		if err != nil {
			return nil, fmt.Errorf("opening previous secret of subscription %s: %w", sub.ID, err)
		}
		out = append(out, string(prev))
	}
	return out, nil
}

// Test queues a test event of type typ (default run.succeeded) with the
// catalog's example data, for this subscription only, and returns the
// delivery id.
func (s *Service) Test(ctx context.Context, id, typ string) (string, error) {
	if typ == "" {
		typ = RunSucceeded
	}
	var example any
	for _, t := range Catalog() {
		if t.Type == typ {
			example = t.Example
		}
	}
	if example == nil {
		return "", invalid(map[string]string{"event_type": fmt.Sprintf("%q is not an event type", typ)})
	}
	if _, err := s.st.GetSubscription(ctx, id); err != nil {
		return "", err
	}
	evID := "evt_" + store.NewID()
	now := s.now().UTC()
	body, err := json.Marshal(Envelope{ID: evID, Type: typ, Version: PayloadVersion, Timestamp: now, Test: true, Data: example})
	if err != nil {
		return "", fmt.Errorf("encoding test event: %w", err)
	}
	if _, err := s.st.RecordEvent(ctx, store.Event{ID: evID, Type: typ, Payload: body, CreatedAt: now, Only: id}); err != nil {
		return "", err
	}
	page, _, err := s.st.ListEventDeliveries(ctx, id, store.Page{Limit: 1})
	if err != nil || len(page) == 0 || page[0].EventID != evID {
		return "", fmt.Errorf("finding the test delivery: %w", errors.Join(err, store.ErrNotFound))
	}
	s.nudge()
	return page[0].ID, nil
}

// DeliveryView is a delivery as the API shows it.
type DeliveryView struct {
	ID             string          `json:"id"`
	EventID        string          `json:"event_id"`
	EventType      string          `json:"event_type"`
	SubscriptionID string          `json:"subscription_id"`
	State          string          `json:"state" enum:"pending,succeeded,failed"`
	Attempts       int             `json:"attempts"`
	NextAttemptAt  *time.Time      `json:"next_attempt_at,omitempty"`
	LastStatus     int             `json:"last_status"`
	LastError      string          `json:"last_error,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	Payload        json.RawMessage `json:"payload,omitempty"`
	AttemptList    []AttemptView   `json:"attempt_list,omitempty"`
}

// AttemptView is one recorded attempt.
type AttemptView struct {
	Attempt      int       `json:"attempt"`
	URL          string    `json:"url"`
	Status       int       `json:"status"`
	LatencyMS    int64     `json:"latency_ms"`
	ResponseBody string    `json:"response_body"`
	Error        string    `json:"error,omitempty"`
	Signatures   int       `json:"signatures"`
	At           time.Time `json:"at"`
}

func deliveryView(d *store.EventDelivery, typ string) *DeliveryView {
	v := &DeliveryView{ID: d.ID, EventID: d.EventID, EventType: typ, SubscriptionID: d.SubscriptionID, State: d.State,
		Attempts: d.Attempts, LastStatus: d.LastStatus, LastError: d.LastError, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	if d.State == store.DeliveryPending {
		next := d.NextAttemptAt
		v.NextAttemptAt = &next
	}
	return v
}

// Deliveries lists a subscription's deliveries, newest first.
func (s *Service) Deliveries(ctx context.Context, subID string, p store.Page) ([]*DeliveryView, string, error) {
	if _, err := s.st.GetSubscription(ctx, subID); err != nil {
		return nil, "", err
	}
	rows, next, err := s.st.ListEventDeliveries(ctx, subID, p)
	if err != nil {
		return nil, "", err
	}
	out := make([]*DeliveryView, len(rows))
	for i := range rows {
		out[i] = deliveryView(&rows[i].EventDelivery, rows[i].EventType)
	}
	return out, next, nil
}

// deliveryOf reads a delivery that belongs to the subscription; another
// subscription's is not found.
func (s *Service) deliveryOf(ctx context.Context, subID, id string) (*store.EventDelivery, error) {
	d, err := s.st.GetEventDelivery(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.SubscriptionID != subID {
		return nil, fmt.Errorf("delivery %s of subscription %s: %w", id, subID, store.ErrNotFound)
	}
	return d, nil
}

// Delivery returns one delivery of a subscription with its payload and
// every attempt.
func (s *Service) Delivery(ctx context.Context, subID, id string) (*DeliveryView, error) {
	d, err := s.deliveryOf(ctx, subID, id)
	if err != nil {
		return nil, err
	}
	ev, err := s.st.GetEvent(ctx, d.EventID)
	if err != nil {
		return nil, err
	}
	v := deliveryView(d, ev.Type)
	v.Payload = json.RawMessage(ev.Payload)
	attempts, err := s.st.ListEventAttempts(ctx, id)
	if err != nil {
		return nil, err
	}
	v.AttemptList = make([]AttemptView, len(attempts))
	for i, a := range attempts {
		v.AttemptList[i] = AttemptView{Attempt: a.Attempt, URL: a.URL, Status: a.Status, LatencyMS: a.LatencyMS,
			ResponseBody: a.ResponseBody, Error: a.Error, Signatures: a.Signatures, At: a.CreatedAt}
	}
	return v, nil
}

// Resend queues a delivery again for an attempt now (same event id, so a
// receiver that already has it can drop it).
func (s *Service) Resend(ctx context.Context, subID, id string) (*DeliveryView, error) {
	if _, err := s.deliveryOf(ctx, subID, id); err != nil {
		return nil, err
	}
	if err := s.st.ResendDelivery(ctx, id, s.now()); err != nil {
		return nil, err
	}
	s.nudge()
	return s.Delivery(ctx, subID, id)
}

// Reseal re-encrypts every subscription secret with the ring's primary key
// (after a key rotation), so old keys can be retired.
func (s *Service) Reseal(ctx context.Context) (int, error) {
	subs, err := s.st.ListSubscriptions(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range subs {
		sub := &subs[i]
		changed := false
		for _, field := range []*string{&sub.SecretSealed, &sub.PrevSecretSealed} {
			if *field == "" || secrets.KeyID(*field) == s.ring.Primary() {
				continue
			}
			plain, err := s.ring.Open(*field, aad(sub.ID))
			if err != nil {
				return n, fmt.Errorf("opening secret of subscription %s: %w", sub.ID, err)
			}
			if *field, err = s.ring.Seal(plain, aad(sub.ID)); err != nil {
				return n, fmt.Errorf("sealing secret of subscription %s: %w", sub.ID, err)
			}
			changed = true
		}
		if !changed {
			continue
		}
		if err := s.st.UpdateSubscription(ctx, sub); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
