// Package flows saves, versions and activates workflows: the one place that
// turns a submitted document into stored, validated versions, shared by the
// API and the command line.
package flows

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/events"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

// Service manages workflows.
type Service struct {
	st        *store.Store
	reg       *connectors.Registry
	publicURL string
}

// New returns a Service. publicURL is the base of webhook URLs.
func New(st *store.Store, reg *connectors.Registry, publicURL string) *Service {
	return &Service{st: st, reg: reg, publicURL: publicURL}
}

// Summary is a workflow as lists show it: without its document.
type Summary struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Active      bool      `json:"active"`
	Version     int       `json:"version"`
	TriggerType string    `json:"trigger_type"`
	WebhookURL  string    `json:"webhook_url,omitempty" description:"under the hooks URL (SWITCHBOARD_HOOKS_URL); absent for viewers: the token starts runs"`
	TestURL     string    `json:"test_url,omitempty" description:"absent for viewers"`
	FormURL     string    `json:"form_url,omitempty" description:"under the hooks URL; absent for viewers"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// View is one workflow as the API shows it: always with its current
// document (secrets redacted).
type View struct {
	Summary
	Document workflow.RawDocument `json:"document"`
}

func (s *Service) view(w *store.Workflow, doc store.JSON) *View {
	return &View{Summary: s.summary(w), Document: workflow.RawDocument(Redact(doc))}
}

func (s *Service) summary(w *store.Workflow) Summary {
	v := Summary{ID: w.ID, Name: w.Name, Active: w.Active, Version: w.CurrentVersion, TriggerType: w.TriggerType,
		CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
	if w.WebhookToken != nil {
		switch w.TriggerType {
		case "webhook":
			v.WebhookURL = s.publicURL + "/hooks/" + *w.WebhookToken
			v.TestURL = v.WebhookURL + "/test"
		case "form":
			v.FormURL = s.publicURL + "/forms/" + *w.WebhookToken
		}
	}
	return v
}

// Check parses and validates a document; the error is a
// *workflow.ValidationError listing every problem.
func (s *Service) Check(raw []byte) (*workflow.Document, error) {
	doc, err := workflow.Parse(raw)
	if err != nil {
		return nil, err
	}
	if err := workflow.Validate(doc, s.reg); err != nil {
		return nil, err
	}
	return doc, nil
}

// NewToken returns an unguessable webhook or form token (192 random bits).
func NewToken() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// needsToken reports whether a trigger type has a public URL (/hooks/{token}
// or /forms/{token}). The token lives in the webhook_token column whatever
// the trigger: it is unique per workflow.
func needsToken(triggerType string) bool { return triggerType == "webhook" || triggerType == "form" }

// Create validates and stores a new workflow, active when activate is set.
func (s *Service) Create(ctx context.Context, raw []byte, activate bool) (*View, error) {
	return s.CreateWithToken(ctx, raw, activate, "")
}

// tokenPattern is what NewToken makes: 24 random bytes, base64url.
var tokenPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{32}$`)

// NewWebhookURL is a webhook URL for a workflow not saved yet, so the editor
// can show it before the first save; CreateWithToken then keeps the token.
func (s *Service) NewWebhookURL() (token, url string, err error) {
	tok, err := NewToken()
	if err != nil {
		return "", "", err
	}
	return tok, s.publicURL + "/hooks/" + tok, nil
}

// CreateWithToken is Create keeping a token NewWebhookURL gave (empty: a new
// one), so the URL shown before the first save is the one that works.
func (s *Service) CreateWithToken(ctx context.Context, raw []byte, activate bool, token string) (*View, error) {
	if token != "" {
		if !tokenPattern.MatchString(token) {
			return nil, &workflow.FieldError{Path: "webhook_token", Message: "must be a token from GET /workflows/webhook-url (32 characters of A-Z, a-z, 0-9, - and _)"}
		}
		if _, err := s.st.GetWorkflowByToken(ctx, token); err == nil {
			return nil, fmt.Errorf("webhook token already belongs to a workflow: %w", store.ErrConflict)
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	raw, err := restoreSecrets(raw, nil)
	if err != nil {
		return nil, err
	}
	doc, err := s.Check(raw)
	if err != nil {
		return nil, err
	}
	if activate {
		if err := s.CheckConnections(ctx, doc); err != nil {
			return nil, err
		}
	}
	w := &store.Workflow{Name: doc.Name, Active: activate, TriggerType: doc.Trigger.Type}
	if needsToken(doc.Trigger.Type) {
		tok := token
		if tok == "" {
			if tok, err = NewToken(); err != nil {
				return nil, err
			}
		}
		w.WebhookToken = &tok
	}
	canonical := store.MustJSON(doc)
	err = s.st.InTx(ctx, func(tx *store.Store, _ *sql.Tx) error {
		if _, err := tx.CreateWorkflow(ctx, w, canonical); err != nil {
			return err
		}
		return events.WorkflowChanged(ctx, tx, events.WorkflowSaved, w, true)
	})
	if err != nil {
		return nil, err
	}
	return s.view(w, canonical), nil
}

// Update stores raw as the next version of workflow id. With expected > 0
// the current version must be expected (store.ErrPrecondition otherwise).
func (s *Service) Update(ctx context.Context, id string, raw []byte, expected int) (*View, error) {
	w, current, err := s.st.GetWorkflowWithCurrent(ctx, id)
	if err != nil {
		return nil, err
	}
	if raw, err = restoreSecrets(raw, current.Document); err != nil {
		return nil, err
	}
	doc, err := s.Check(raw)
	if err != nil {
		return nil, err
	}
	if needsToken(doc.Trigger.Type) && w.WebhookToken == nil {
		// Switching to a webhook or form trigger later still needs a token;
		// the store keeps the one it has otherwise.
		return nil, fmt.Errorf("changing the trigger type to %s is not supported yet: %w", doc.Trigger.Type, store.ErrConflict)
	}
	canonical := store.MustJSON(doc)
	err = s.st.InTx(ctx, func(tx *store.Store, _ *sql.Tx) error {
		if _, err := tx.AddWorkflowVersionIf(ctx, id, doc.Name, doc.Trigger.Type, canonical, expected); err != nil {
			return err
		}
		saved, err := tx.GetWorkflow(ctx, id)
		if err != nil {
			return err
		}
		return events.WorkflowChanged(ctx, tx, events.WorkflowSaved, saved, false)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// Duplicate saves a switched-off copy of workflow id, secrets included,
// named "<name> (copy)".
func (s *Service) Duplicate(ctx context.Context, id string) (*View, error) {
	w, v, err := s.st.GetWorkflowWithCurrent(ctx, id)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(v.Document, &doc); err != nil {
		return nil, fmt.Errorf("reading workflow %s: %w", id, err)
	}
	doc["name"] = w.Name + " (copy)"
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("copying workflow %s: %w", id, err)
	}
	return s.Create(ctx, raw, false)
}

// Document returns a workflow's current document as stored, secrets
// included: for copying it (duplicate), never for showing it.
func (s *Service) Document(ctx context.Context, id string) ([]byte, error) {
	_, v, err := s.st.GetWorkflowWithCurrent(ctx, id)
	if err != nil {
		return nil, err
	}
	return v.Document, nil
}

// Get returns a workflow with its current document (secrets redacted).
func (s *Service) Get(ctx context.Context, id string) (*View, error) {
	w, v, err := s.st.GetWorkflowWithCurrent(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.view(w, v.Document), nil
}

// List returns a page of workflows without documents.
func (s *Service) List(ctx context.Context, p store.Page) ([]*Summary, string, error) {
	ws, next, err := s.st.ListWorkflows(ctx, p)
	if err != nil {
		return nil, "", err
	}
	out := make([]*Summary, len(ws))
	for i := range ws {
		sum := s.summary(&ws[i])
		out[i] = &sum
	}
	return out, next, nil
}

// SetActive activates or deactivates a workflow.
func (s *Service) SetActive(ctx context.Context, id string, active bool) (*View, error) {
	if active {
		// A step without its connection fails every run: refuse, naming it.
		raw, err := s.Document(ctx, id)
		if err != nil {
			return nil, err
		}
		doc, err := workflow.Parse(raw)
		if err != nil {
			return nil, err
		}
		if err := s.CheckConnections(ctx, doc); err != nil {
			return nil, err
		}
	}
	err := s.st.InTx(ctx, func(tx *store.Store, _ *sql.Tx) error {
		before, err := tx.GetWorkflow(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.SetWorkflowActive(ctx, id, active); err != nil {
			return err
		}
		if before.Active == active {
			return nil // no change, no event
		}
		before.Active = active
		typ := events.WorkflowDeactivated
		if active {
			typ = events.WorkflowActivated
		}
		return events.WorkflowChanged(ctx, tx, typ, before, false)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}
