package store

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"
)

// JSON is a JSON document column (jsonb on PostgreSQL, text on SQLite).
type JSON []byte

// Value stores the JSON as text, which both dialects accept for their
// column, without NUL escapes or invalid UTF-8 (which jsonb refuses).
func (j JSON) Value() (driver.Value, error) {
	if len(j) == 0 {
		return nil, nil
	}
	return string(cleanJSON(j)), nil
}

// Scan reads text or bytes.
func (j *JSON) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*j = nil
	case []byte:
		*j = append((*j)[:0], v...)
	case string:
		*j = JSON(v)
	default:
		return fmt.Errorf("scanning JSON from %T", src)
	}
	return nil
}

// MarshalJSON embeds the document as is.
func (j JSON) MarshalJSON() ([]byte, error) {
	if len(j) == 0 {
		return []byte("null"), nil
	}
	return j, nil
}

// Decoded is the document as a value; empty or unreadable JSON is nil.
func (j JSON) Decoded() any {
	if len(j) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(j, &v); err != nil {
		return nil
	}
	return v
}

// MustJSON marshals v; values here are built from decoded JSON, so a failure
// is a programming error and is recorded as a JSON string instead.
func MustJSON(v any) JSON {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(fmt.Sprintf("unencodable value: %v", err))
	}
	return b
}

// Workflow is the mutable head of a workflow; its documents are versions.
type Workflow struct {
	ID             string    `gorm:"primaryKey"`
	Name           string    `gorm:"not null"`
	Active         bool      `gorm:"not null"`
	CurrentVersion int       `gorm:"not null"`
	TriggerType    string    `gorm:"not null"`
	WebhookToken   *string   `gorm:"uniqueIndex"`
	CreatedAt      time.Time `gorm:"not null"`
	UpdatedAt      time.Time `gorm:"not null"`
}

// WorkflowVersion is one immutable document.
type WorkflowVersion struct {
	ID         string `gorm:"primaryKey"`
	WorkflowID string
	Version    int
	Document   JSON
	CreatedAt  time.Time
	// SecretsSealed reports a document written through the DocumentSealer;
	// false rows (older ones, or written without a sealer) are sealed at the
	// next start (SealVersions).
	SecretsSealed bool
}

// Run states.
const (
	RunQueued    = "queued"
	RunRunning   = "running"
	RunWaiting   = "waiting"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
	RunFiltered  = "filtered"
	RunCanceled  = "canceled"
)

// RunFinal reports whether a run state is final.
func RunFinal(state string) bool {
	switch state {
	case RunSucceeded, RunFailed, RunFiltered, RunCanceled:
		return true
	}
	return false
}

// Run is one execution of a workflow version.
type Run struct {
	ID          string `gorm:"primaryKey"`
	WorkflowID  string
	VersionID   string
	Version     int
	State       string
	TriggerType string
	Trigger     JSON
	Error       string
	Attempt     int
	ReplayOf    *string
	CreatedAt   time.Time
	StartedAt   *time.Time
	FinishedAt  *time.Time
	// LeaseOwner is the process executing the run until LeaseUntil (its
	// heartbeat renews it); JobID is the run's queue job.
	LeaseOwner *string
	LeaseUntil *time.Time
	JobID      *int64
}

// Step-run states.
const (
	StepSucceeded = "succeeded"
	StepFailed    = "failed"
	StepSkipped   = "skipped"
	StepFiltered  = "filtered"
	StepWaiting   = "waiting"
)

// StepRun records one step of a run (one item of a for_each).
type StepRun struct {
	ID         string `gorm:"primaryKey"`
	RunID      string
	StepID     string
	ItemKey    string
	Seq        int
	State      string
	Input      JSON
	Output     JSON
	Error      string
	Attempts   int
	StartedAt  time.Time
	FinishedAt *time.Time
}

// Delivery states: a delivery is written "sending" before the call and
// "completed" after it; one left "sending" is an attempt whose outcome is
// unknown (the process died during the call).
const (
	DeliverySending   = "sending"
	DeliveryCompleted = "completed"
)

// Delivery records one outbound HTTP attempt.
type Delivery struct {
	ID              string `gorm:"primaryKey"`
	State           string
	RunID           string
	StepID          string
	ItemKey         string
	Attempt         int
	Method          string
	URL             string `gorm:"column:url"`
	RequestHeaders  JSON
	RequestBody     string
	Status          int
	ResponseHeaders JSON
	ResponseBody    string
	LatencyMS       int64 `gorm:"column:latency_ms"`
	Error           string
	// ErrorKind is the failure's kind by the SDK's retry rules
	// (connectors.ErrorKind: retryable, rate_limited, permanent); "" for a
	// success.
	ErrorKind string
	CreatedAt time.Time
}

// Inbound-request verdicts.
const (
	VerdictAccepted  = "accepted"
	VerdictRejected  = "rejected"
	VerdictIgnored   = "ignored"
	VerdictCaptured  = "captured" // a test request kept as sample data
	VerdictDuplicate = "duplicate"
)

// InboundRequest records a request a webhook endpoint received.
type InboundRequest struct {
	ID         string `gorm:"primaryKey"`
	WorkflowID string
	ReceivedAt time.Time
	Method     string
	Path       string
	Headers    JSON
	Query      JSON
	Body       string // the body as text (NUL and invalid UTF-8 as U+FFFD), capped
	BodyRaw    []byte `gorm:"column:body_raw"` // the body byte for byte, capped
	BodySize   int
	SourceIP   string `gorm:"column:source_ip"`
	Verdict    string
	Reason     string
	RunID      *string
}
