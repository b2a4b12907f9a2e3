// Package events is Switchboard's own events: the catalog of event types
// and their versioned payloads, subscriptions, the outbox written in the
// same transaction as the change an event describes, and the dispatcher
// that delivers it as a Standard Webhook with retries.
package events

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
)

// Event types.
const (
	RunSucceeded             = "run.succeeded"
	RunFailed                = "run.failed"
	RunCanceled              = "run.canceled"
	WorkflowActivated        = "workflow.activated"
	WorkflowDeactivated      = "workflow.deactivated"
	WorkflowSaved            = "workflow.saved"
	ConnectionNeedsAttention = "connection.needs_attention"
	WebhookRejected          = "webhook.rejected"
	ConnectorUploaded        = "connector.uploaded"
)

// PayloadVersion is the version of every payload shape below; a change that
// removes or renames a field gets a new version, announced in the catalog.
const PayloadVersion = 1

// Envelope is the JSON body of every delivery.
type Envelope struct {
	ID        string    `json:"id"`        // stable event id, also the webhook-id header
	Type      string    `json:"type"`      // one of the catalog's types
	Version   int       `json:"version"`   // payload version of data
	Timestamp time.Time `json:"timestamp"` // when the event happened
	Test      bool      `json:"test,omitempty"`
	Data      any       `json:"data"`
}

// RunData is the data of run.succeeded, run.failed and run.canceled.
type RunData struct {
	RunID        string     `json:"run_id"`
	WorkflowID   string     `json:"workflow_id"`
	WorkflowName string     `json:"workflow_name"`
	Version      int        `json:"version"`
	State        string     `json:"state"`
	Error        string     `json:"error,omitempty"`
	TriggerType  string     `json:"trigger_type"`
	Attempt      int        `json:"attempt"`
	ReplayOf     *string    `json:"replay_of,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	StartedAt    *time.Time `json:"started_at,omitempty"`
	FinishedAt   *time.Time `json:"finished_at,omitempty"`
}

// WorkflowData is the data of workflow.activated, workflow.deactivated and
// workflow.saved.
type WorkflowData struct {
	WorkflowID   string `json:"workflow_id"`
	WorkflowName string `json:"workflow_name"`
	Version      int    `json:"version"`
	Active       bool   `json:"active"`
	TriggerType  string `json:"trigger_type"`
	Created      bool   `json:"created,omitempty"` // saved: the first version
}

// ConnectionData is the data of connection.needs_attention.
type ConnectionData struct {
	ConnectionID   string `json:"connection_id"`
	ConnectionName string `json:"connection_name"`
	Connector      string `json:"connector"`
	Reason         string `json:"reason"`
}

// WebhookRejectedData is the data of webhook.rejected.
type WebhookRejectedData struct {
	WorkflowID string    `json:"workflow_id"`
	RequestID  string    `json:"request_id"` // the inbox entry
	Method     string    `json:"method"`
	SourceIP   string    `json:"source_ip"`
	Reason     string    `json:"reason"`
	ReceivedAt time.Time `json:"received_at"`
}

// ConnectorData is the data of connector.uploaded.
type ConnectorData struct {
	ConnectorID string   `json:"connector_id"`
	Name        string   `json:"name"`
	Version     string   `json:"version,omitempty"`
	Hash        string   `json:"hash"` // content hash of the uploaded file
	Actions     []string `json:"actions"`
}

// Type describes one event type for the catalog page and the API.
type Type struct {
	Type        string `json:"type"`
	Version     int    `json:"version"`
	Description string `json:"description"`
	Example     any    `json:"example"` // the data of an example event
}

var exampleTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Catalog lists every event type with an example of its data.
func Catalog() []Type {
	run := func(state, errMsg string) RunData {
		started, finished := exampleTime.Add(-2*time.Second), exampleTime
		return RunData{RunID: "0194f1c2-7a6b-7c3d-8e9f-0a1b2c3d4e5f", WorkflowID: "0194f1c0-1111-7222-8333-444455556666",
			WorkflowName: "Big orders to sales", Version: 3, State: state, Error: errMsg, TriggerType: "webhook", Attempt: 1,
			CreatedAt: started.Add(-50 * time.Millisecond), StartedAt: &started, FinishedAt: &finished}
	}
	wf := func(active bool) WorkflowData {
		return WorkflowData{WorkflowID: "0194f1c0-1111-7222-8333-444455556666", WorkflowName: "Big orders to sales",
			Version: 3, Active: active, TriggerType: "webhook"}
	}
	return []Type{
		{RunSucceeded, PayloadVersion, "A run ended successfully.", run(store.RunSucceeded, "")},
		{RunFailed, PayloadVersion, "A run ended in failure; error says why.", run(store.RunFailed, `step "ping": slack: HTTP 500`)},
		{RunCanceled, PayloadVersion, "A run was canceled before it ended.", run(store.RunCanceled, "canceled")},
		{WorkflowActivated, PayloadVersion, "A workflow was switched on.", wf(true)},
		{WorkflowDeactivated, PayloadVersion, "A workflow was switched off.", wf(false)},
		{WorkflowSaved, PayloadVersion, "A workflow got a new version (created, edited, imported or restored); created is true for the first.", wf(true)},
		{ConnectionNeedsAttention, PayloadVersion, "A connection's credentials stopped working (e.g. an OAuth2 refresh was refused) and someone must reconnect it.",
			ConnectionData{ConnectionID: "0194f1c0-aaaa-7bbb-8ccc-dddddddddddd", ConnectionName: "sales-slack", Connector: "slack", Reason: "invalid_grant"}},
		{WebhookRejected, PayloadVersion, "A webhook endpoint refused a request; reason says why (signature, method, size, rate, IP, client certificate…).",
			WebhookRejectedData{WorkflowID: "0194f1c0-1111-7222-8333-444455556666", RequestID: "0194f1c3-0000-7000-8000-000000000001",
				Method: "POST", SourceIP: "203.0.113.7", Reason: "signature does not match", ReceivedAt: exampleTime}},
		{ConnectorUploaded, PayloadVersion, "An admin added or replaced a declarative connector or uploaded a WebAssembly plugin.",
			ConnectorData{ConnectorID: "acme", Name: "Acme CRM", Version: "1.2.0", Hash: "sha256:9f86d081884c7d65", Actions: []string{"acme.create_lead"}}},
	}
}

// Known reports whether typ is in the catalog.
func Known(typ string) bool {
	for _, t := range Catalog() {
		if t.Type == typ {
			return true
		}
	}
	return false
}

// NewEvent builds the outbox row of an event: a fresh stable id and the
// exact body every subscriber will get.
func NewEvent(typ, workflowID string, at time.Time, data any) (store.Event, error) {
	id := "evt_" + store.NewID()
	body, err := json.Marshal(Envelope{ID: id, Type: typ, Version: PayloadVersion, Timestamp: at.UTC(), Data: data})
	if err != nil {
		return store.Event{}, fmt.Errorf("encoding %s event: %w", typ, err)
	}
	return store.Event{ID: id, Type: typ, WorkflowID: workflowID, Payload: body, CreatedAt: at.UTC()}, nil
}

// Record builds an event and writes it to the outbox through st (bind st to
// the transaction of the change, so both commit together).
func Record(ctx context.Context, st *store.Store, typ, workflowID string, data any) error {
	ev, err := NewEvent(typ, workflowID, time.Now(), data)
	if err != nil {
		return err
	}
	_, err = st.RecordEvent(ctx, ev)
	return err
}
