package flows

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/secrets"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

// sealedPrefix marks a sealed value inside a stored document. Every value is
// sealed on write (even one that happens to start with the prefix), so
// opening strips exactly one layer; a value without it is a legacy plain one.
const sealedPrefix = "sealed:"

// Sealer seals a document's inline webhook secrets and Basic passwords at
// rest with the instance keyring (store.DocumentSealer), bound to the
// workflow id so a sealed value copied to another workflow does not open.
type Sealer struct{ ring *secrets.Keyring }

// NewSealer returns a Sealer over ring.
func NewSealer(ring *secrets.Keyring) *Sealer { return &Sealer{ring: ring} }

var _ store.DocumentSealer = (*Sealer)(nil)

func sealAAD(workflowID string) []byte { return []byte("workflow-verify:" + workflowID) }

// SealDocument seals every secret and password of doc.
func (s *Sealer) SealDocument(workflowID string, doc []byte) ([]byte, error) {
	return mapSecrets(doc, func(v string) (string, error) {
		sealed, err := s.ring.Seal([]byte(v), sealAAD(workflowID))
		if err != nil {
			return "", err
		}
		return sealedPrefix + sealed, nil
	})
}

// OpenDocument opens what SealDocument sealed; plain values pass unchanged.
func (s *Sealer) OpenDocument(workflowID string, doc []byte) ([]byte, error) {
	return mapSecrets(doc, func(v string) (string, error) {
		rest, ok := strings.CutPrefix(v, sealedPrefix)
		if !ok {
			return v, nil
		}
		plain, err := s.ring.Open(rest, sealAAD(workflowID))
		if err != nil {
			return "", err
		}
		return string(plain), nil
	})
}

// mapSecrets rewrites the secret values of doc through fn. A document
// without them (or that does not parse: Check reports that) is returned as
// it is, so most reads cost one bytes.Contains.
func mapSecrets(doc []byte, fn func(string) (string, error)) ([]byte, error) {
	if !bytes.Contains(doc, []byte(`"verify"`)) {
		return doc, nil
	}
	d, err := workflow.Parse(doc)
	if err != nil || d.Trigger.Webhook == nil || d.Trigger.Webhook.Verify == nil {
		return doc, nil
	}
	v := d.Trigger.Webhook.Verify
	if len(v.Secrets) == 0 && len(v.Users) == 0 {
		return doc, nil
	}
	for i := range v.Secrets {
		if v.Secrets[i], err = fn(v.Secrets[i]); err != nil {
			return nil, fmt.Errorf("trigger.webhook.verify.secrets[%d]: %w", i, err)
		}
	}
	for i := range v.Users {
		if v.Users[i].Password, err = fn(v.Users[i].Password); err != nil {
			return nil, fmt.Errorf("trigger.webhook.verify.users[%d].password: %w", i, err)
		}
	}
	return store.MustJSON(d), nil
}
