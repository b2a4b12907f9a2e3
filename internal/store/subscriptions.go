package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
)

// Subscription is an endpoint that receives Switchboard's own events.
type Subscription struct {
	ID               string `gorm:"primaryKey"`
	URL              string `gorm:"column:url"`
	Description      string
	Events           JSON // array of event types
	WorkflowID       *string
	Headers          JSON // object of custom headers
	SecretSealed     string
	PrevSecretSealed string
	PrevSecretUntil  *time.Time
	Enabled          bool
	DisabledReason   string
	FailingSince     *time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// EventTypes decodes Events.
func (s *Subscription) EventTypes() []string {
	var out []string
	_ = json.Unmarshal(s.Events, &out)
	return out
}

// HeaderMap decodes Headers.
func (s *Subscription) HeaderMap() map[string]string {
	out := map[string]string{}
	_ = json.Unmarshal(s.Headers, &out)
	return out
}

// Wants reports whether the subscription takes an event of type typ about
// workflowID ("" when the event concerns no workflow).
func (s *Subscription) Wants(typ, workflowID string) bool {
	if !s.Enabled {
		return false
	}
	if s.WorkflowID != nil && *s.WorkflowID != "" && *s.WorkflowID != workflowID {
		return false
	}
	types := s.EventTypes()
	return slices.Contains(types, typ) || slices.Contains(types, "*")
}

// OutboxEvent is one recorded event; its payload is the exact body sent.
type OutboxEvent struct {
	ID         string `gorm:"primaryKey"`
	Type       string
	WorkflowID *string
	Payload    string
	CreatedAt  time.Time
}

// TableName is events.
func (OutboxEvent) TableName() string { return "events" }

// Event delivery states.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
)

// EventDelivery is one event on its way to one subscription.
type EventDelivery struct {
	ID             string `gorm:"primaryKey"`
	EventID        string
	SubscriptionID string
	State          string
	Attempts       int
	NextAttemptAt  time.Time
	LeaseUntil     *time.Time
	LastStatus     int
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// EventAttempt records one HTTP attempt of a delivery.
type EventAttempt struct {
	ID           string `gorm:"primaryKey"`
	DeliveryID   string
	Attempt      int
	URL          string `gorm:"column:url"`
	Status       int
	LatencyMS    int64 `gorm:"column:latency_ms"`
	ResponseBody string
	Error        string
	Signatures   int
	CreatedAt    time.Time
}

// Event is what an emitter hands to RecordEvent.
type Event struct {
	ID         string
	Type       string
	WorkflowID string // "" when the event concerns no workflow
	Payload    []byte // the JSON body subscribers get
	CreatedAt  time.Time
	// Only, when set, delivers to that subscription alone, whatever it
	// picks (test events).
	Only string
}

// RecordEvent writes an event and one pending delivery per enabled
// subscription that wants it, in the store's transaction when it has one:
// the outbox commits with the change it describes. With no subscriber
// nothing is written. It returns how many deliveries it created.
func (s *Store) RecordEvent(ctx context.Context, ev Event) (int, error) {
	subs, err := s.subscribersOf(ctx, ev)
	if err != nil || len(subs) == 0 {
		return 0, err
	}
	if ev.CreatedAt.IsZero() {
		ev.CreatedAt = time.Now().UTC()
	}
	row := &OutboxEvent{ID: ev.ID, Type: ev.Type, Payload: string(ev.Payload), CreatedAt: ev.CreatedAt.UTC()}
	if ev.WorkflowID != "" {
		row.WorkflowID = &ev.WorkflowID
	}
	deliveries := make([]EventDelivery, len(subs))
	for i, sub := range subs {
		deliveries[i] = EventDelivery{ID: NewID(), EventID: ev.ID, SubscriptionID: sub.ID, State: DeliveryPending,
			NextAttemptAt: row.CreatedAt, CreatedAt: row.CreatedAt, UpdatedAt: row.CreatedAt}
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(row).Error; err != nil {
			return fmt.Errorf("recording event %s: %w", ev.Type, err)
		}
		if err := tx.Create(&deliveries).Error; err != nil {
			return fmt.Errorf("queueing deliveries of event %s: %w", ev.Type, err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(deliveries), nil
}

func (s *Store) subscribersOf(ctx context.Context, ev Event) ([]Subscription, error) {
	if ev.Only != "" {
		sub, err := s.GetSubscription(ctx, ev.Only)
		if err != nil {
			return nil, err
		}
		return []Subscription{*sub}, nil
	}
	return s.SubscribersOf(ctx, ev.Type, ev.WorkflowID)
}

// SubscribersOf returns the enabled subscriptions that want an event type
// about a workflow. The table is small; picks are matched here.
func (s *Store) SubscribersOf(ctx context.Context, typ, workflowID string) ([]Subscription, error) {
	var all []Subscription
	if err := s.db.WithContext(ctx).Select("id", "events", "workflow_id", "enabled").
		Where("enabled = ?", true).Find(&all).Error; err != nil {
		return nil, fmt.Errorf("finding subscribers of %s: %w", typ, err)
	}
	out := all[:0]
	for _, sub := range all {
		if sub.Wants(typ, workflowID) {
			out = append(out, sub)
		}
	}
	return out, nil
}

// AnySubscriber reports whether an enabled subscription picks typ, for
// any workflow.
// The answer is remembered for a second (see lookups), so a subscription
// made through another process applies to this one's runs within it.
func (s *Store) AnySubscriber(ctx context.Context, typ string) (bool, error) {
	// Also inside a transaction (a run's final write asks): one that
	// changes subscriptions has them forgotten again when it ends.
	if wanted, ok := s.lookups.subscriber(typ); ok {
		return wanted, nil
	}
	gen, now := s.lookups.generation(), s.lookups.now()
	var all []Subscription
	if err := s.db.WithContext(ctx).Select("id", "events", "enabled").Where("enabled = ?", true).Find(&all).Error; err != nil {
		return false, fmt.Errorf("finding subscribers of %s: %w", typ, err)
	}
	wanted := slices.ContainsFunc(all, func(sub Subscription) bool { return sub.Wants(typ, "") })
	s.lookups.keepSubscriber(gen, typ, wanted, now)
	return wanted, nil
}

// CreateSubscription stores a subscription.
func (s *Store) CreateSubscription(ctx context.Context, sub *Subscription) error {
	defer s.forgetLookups()
	if sub.ID == "" {
		sub.ID = NewID()
	}
	now := time.Now().UTC()
	sub.CreatedAt, sub.UpdatedAt = now, now
	if err := s.db.WithContext(ctx).Create(sub).Error; err != nil {
		return fmt.Errorf("creating subscription: %w", err)
	}
	return nil
}

// GetSubscription returns a subscription by id.
func (s *Store) GetSubscription(ctx context.Context, id string) (*Subscription, error) {
	return first[Subscription](ctx, s.db, "subscription "+id, "id = ?", id)
}

// ListSubscriptions lists every subscription, newest first.
func (s *Store) ListSubscriptions(ctx context.Context) ([]Subscription, error) {
	return findAll[Subscription](s.db.WithContext(ctx).Order("id DESC"), "listing subscriptions")
}

// UpdateSubscription saves every field of sub.
func (s *Store) UpdateSubscription(ctx context.Context, sub *Subscription) error {
	defer s.forgetLookups()
	sub.UpdatedAt = time.Now().UTC()
	res := s.db.WithContext(ctx).Model(&Subscription{}).Where("id = ?", sub.ID).Updates(map[string]any{
		"url": sub.URL, "description": sub.Description, "events": sub.Events, "workflow_id": sub.WorkflowID,
		"headers": sub.Headers, "secret_sealed": sub.SecretSealed, "prev_secret_sealed": sub.PrevSecretSealed,
		"prev_secret_until": sub.PrevSecretUntil, "enabled": sub.Enabled, "disabled_reason": sub.DisabledReason,
		"failing_since": sub.FailingSince, "updated_at": sub.UpdatedAt})
	return oneRow(res, "updating", "subscription "+sub.ID)
}

// DeleteSubscription removes a subscription and its deliveries.
func (s *Store) DeleteSubscription(ctx context.Context, id string) error {
	defer s.forgetLookups()
	res := s.db.WithContext(ctx).Where("id = ?", id).Delete(&Subscription{})
	return oneRow(res, "deleting", "subscription "+id)
}

// SubscriptionFailing marks a subscription as failing since at, unless it
// already is; it returns when the failures began.
func (s *Store) SubscriptionFailing(ctx context.Context, id string, at time.Time) (time.Time, error) {
	if err := s.db.WithContext(ctx).Model(&Subscription{}).Where("id = ? AND failing_since IS NULL", id).
		Update("failing_since", at.UTC()).Error; err != nil {
		return time.Time{}, fmt.Errorf("marking subscription %s failing: %w", id, err)
	}
	sub, err := s.GetSubscription(ctx, id)
	if err != nil {
		return time.Time{}, err
	}
	if sub.FailingSince == nil {
		return at, nil
	}
	return *sub.FailingSince, nil
}

// SubscriptionHealthy clears the failing mark after a success.
func (s *Store) SubscriptionHealthy(ctx context.Context, id string) error {
	if err := s.db.WithContext(ctx).Model(&Subscription{}).Where("id = ? AND failing_since IS NOT NULL", id).
		Update("failing_since", nil).Error; err != nil {
		return fmt.Errorf("marking subscription %s healthy: %w", id, err)
	}
	return nil
}

// DisableSubscription switches a subscription off with a reason; it
// reports whether it was enabled before.
func (s *Store) DisableSubscription(ctx context.Context, id, reason string) (bool, error) {
	defer s.forgetLookups()
	res := s.db.WithContext(ctx).Model(&Subscription{}).Where("id = ? AND enabled = ?", id, true).
		Updates(map[string]any{"enabled": false, "disabled_reason": reason, "updated_at": time.Now().UTC()})
	if res.Error != nil {
		return false, fmt.Errorf("disabling subscription %s: %w", id, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// DueDeliveries returns up to limit pending deliveries due at now whose
// lease (if any) has run out.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]EventDelivery, error) {
	var out []EventDelivery
	err := s.db.WithContext(ctx).
		Where("state = ? AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)", DeliveryPending, now.UTC(), now.UTC()).
		Order("next_attempt_at").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("finding due deliveries: %w", err)
	}
	return out, nil
}

// ClaimDelivery takes a due delivery's lease until until; false means
// another process took it first.
func (s *Store) ClaimDelivery(ctx context.Context, id string, now, until time.Time) (bool, error) {
	res := s.db.WithContext(ctx).Model(&EventDelivery{}).
		Where("id = ? AND state = ? AND (lease_until IS NULL OR lease_until <= ?)", id, DeliveryPending, now.UTC()).
		Update("lease_until", until.UTC())
	if res.Error != nil {
		return false, fmt.Errorf("claiming delivery %s: %w", id, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// GetEvent returns a recorded event.
func (s *Store) GetEvent(ctx context.Context, id string) (*OutboxEvent, error) {
	return first[OutboxEvent](ctx, s.db, "event "+id, "id = ?", id)
}

// GetEventDelivery returns a delivery.
func (s *Store) GetEventDelivery(ctx context.Context, id string) (*EventDelivery, error) {
	return first[EventDelivery](ctx, s.db, "delivery "+id, "id = ?", id)
}

// DeliveryOutcome is how one attempt ended.
type DeliveryOutcome struct {
	Attempt EventAttempt
	State   string     // pending (retry), succeeded or failed
	Next    *time.Time // the next attempt when pending
}

// FinishAttempt records an attempt and moves its delivery on, releasing the
// lease, in one transaction.
func (s *Store) FinishAttempt(ctx context.Context, d *EventDelivery, o DeliveryOutcome) error {
	now := time.Now().UTC()
	o.Attempt.ID = NewID()
	o.Attempt.DeliveryID = d.ID
	o.Attempt.CreatedAt = now
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Numbered across resends, which restart the schedule.
		var n int64
		if err := tx.Model(&EventAttempt{}).Where("delivery_id = ?", d.ID).Count(&n).Error; err != nil {
			return fmt.Errorf("counting attempts of delivery %s: %w", d.ID, err)
		}
		o.Attempt.Attempt = int(n) + 1
		if err := tx.Create(&o.Attempt).Error; err != nil {
			return fmt.Errorf("recording attempt of delivery %s: %w", d.ID, err)
		}
		updates := map[string]any{"state": o.State, "attempts": gorm.Expr("attempts + 1"), "lease_until": nil,
			"last_status": o.Attempt.Status, "last_error": o.Attempt.Error, "updated_at": now}
		if o.Next != nil {
			updates["next_attempt_at"] = o.Next.UTC()
		}
		if err := tx.Model(&EventDelivery{}).Where("id = ?", d.ID).Updates(updates).Error; err != nil {
			return fmt.Errorf("updating delivery %s: %w", d.ID, err)
		}
		return nil
	})
}

// AbandonDelivery ends a pending delivery without an attempt (its
// subscription is disabled or gone).
func (s *Store) AbandonDelivery(ctx context.Context, id, reason string) error {
	if err := s.db.WithContext(ctx).Model(&EventDelivery{}).Where("id = ?", id).
		Updates(map[string]any{"state": DeliveryFailed, "lease_until": nil, "last_error": reason, "updated_at": time.Now().UTC()}).Error; err != nil {
		return fmt.Errorf("abandoning delivery %s: %w", id, err)
	}
	return nil
}

// ResendDelivery puts a delivery back in the queue for an attempt now; its
// earlier attempts stay recorded and the retry schedule starts over.
func (s *Store) ResendDelivery(ctx context.Context, id string, now time.Time) error {
	res := s.db.WithContext(ctx).Model(&EventDelivery{}).Where("id = ?", id).
		Updates(map[string]any{"state": DeliveryPending, "attempts": 0, "next_attempt_at": now.UTC(), "lease_until": nil, "updated_at": now.UTC()})
	return oneRow(res, "resending", "delivery "+id)
}

// DeliveryView is a delivery with its event's type for lists.
type DeliveryView struct {
	EventDelivery
	EventType string
}

// ListEventDeliveries lists a subscription's deliveries, newest first.
func (s *Store) ListEventDeliveries(ctx context.Context, subscriptionID string, p Page) ([]DeliveryView, string, error) {
	q := s.db.WithContext(ctx).Table("event_deliveries").
		Select("event_deliveries.*, events.type AS event_type").
		Joins("JOIN events ON events.id = event_deliveries.event_id").
		Where("event_deliveries.subscription_id = ?", subscriptionID).
		Order("event_deliveries.id DESC").Limit(p.limit() + 1)
	if p.Cursor != "" {
		q = q.Where("event_deliveries.id < ?", p.Cursor)
	}
	out, err := scanAll[DeliveryView](q, "listing deliveries of subscription "+subscriptionID)
	if err != nil {
		return nil, "", err
	}
	return pageOf(out, p.limit(), func(d DeliveryView) string { return d.ID })
}

// ListEventAttempts returns a delivery's attempts in order.
func (s *Store) ListEventAttempts(ctx context.Context, deliveryID string) ([]EventAttempt, error) {
	return findAll[EventAttempt](s.db.WithContext(ctx).Where("delivery_id = ?", deliveryID).Order("created_at, id"), "listing attempts of delivery "+deliveryID)
}

// PruneEventsBefore deletes events (with their deliveries and attempts)
// recorded before t that are no longer pending.
func (s *Store) PruneEventsBefore(ctx context.Context, t time.Time) (int64, error) {
	pending := s.db.Model(&EventDelivery{}).Select("event_id").Where("state = ?", DeliveryPending)
	old := s.db.Model(&OutboxEvent{}).Select("id").Where("created_at < ? AND id NOT IN (?)", t.UTC(), pending)
	// Attempts and deliveries first: SQLite's foreign keys may be off on
	// some connections, and the cascade must not be relied on for size.
	if err := s.db.WithContext(ctx).Where("delivery_id IN (?)", s.db.Model(&EventDelivery{}).Select("id").Where("event_id IN (?)", old)).
		Delete(&EventAttempt{}).Error; err != nil {
		return 0, fmt.Errorf("pruning event attempts: %w", err)
	}
	if err := s.db.WithContext(ctx).Where("event_id IN (?)", old).Delete(&EventDelivery{}).Error; err != nil {
		return 0, fmt.Errorf("pruning event deliveries: %w", err)
	}
	res := s.db.WithContext(ctx).Where("created_at < ? AND id NOT IN (?)", t.UTC(), pending).Delete(&OutboxEvent{})
	if res.Error != nil {
		return 0, fmt.Errorf("pruning events: %w", res.Error)
	}
	return res.RowsAffected, nil
}
