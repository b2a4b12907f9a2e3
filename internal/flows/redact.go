package flows

import (
	"fmt"

	"github.com/switchboard-dev/switchboard/internal/store"
	verify "github.com/switchboard-dev/switchboard/internal/webhooksig"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

// Redact returns a stored document with its inline webhook secrets and
// Basic passwords replaced by verify.Redacted: what every API view, export,
// version and diff shows, to viewers and editors alike.
func Redact(raw []byte) []byte {
	d, err := workflow.Parse(raw)
	if err != nil || d.Trigger.Webhook == nil || d.Trigger.Webhook.Verify == nil {
		return raw
	}
	r := d.Trigger.Webhook.Verify.Redact()
	d.Trigger.Webhook.Verify = &r
	return store.MustJSON(d)
}

// restoreSecrets puts the stored secrets back where a submitted document
// carries the placeholder (an editor saving what they were shown): secrets
// by position, Basic passwords by username. A placeholder with nothing to
// restore is an error naming the field, never a stored secret.
func restoreSecrets(raw, previous []byte) ([]byte, error) {
	d, err := workflow.Parse(raw)
	if err != nil || d.Trigger.Webhook == nil || d.Trigger.Webhook.Verify == nil {
		return raw, nil // Check reports what is wrong with it
	}
	v := d.Trigger.Webhook.Verify
	var old *verify.Config
	if previous != nil {
		if p, err := workflow.Parse(previous); err == nil && p.Trigger.Webhook != nil {
			old = p.Trigger.Webhook.Verify
		}
	}
	var bad []*workflow.FieldError
	changed := false
	for i, s := range v.Secrets {
		if s != verify.Redacted {
			continue
		}
		if old != nil && i < len(old.Secrets) {
			v.Secrets[i], changed = old.Secrets[i], true
			continue
		}
		bad = append(bad, &workflow.FieldError{Path: fmt.Sprintf("trigger.webhook.verify.secrets[%d]", i),
			Message: "is the placeholder of a hidden secret with no stored secret behind it; enter the secret"})
	}
	for i, u := range v.Users {
		if u.Password != verify.Redacted {
			continue
		}
		found := false
		if old != nil {
			for _, ou := range old.Users {
				if ou.Username == u.Username {
					v.Users[i].Password, found, changed = ou.Password, true, true
					break
				}
			}
		}
		if !found {
			bad = append(bad, &workflow.FieldError{Path: fmt.Sprintf("trigger.webhook.verify.users[%d].password", i),
				Message: "is the placeholder of a hidden password with no stored password for this username; enter the password"})
		}
	}
	if len(bad) > 0 {
		return nil, &workflow.ValidationError{Errors: bad}
	}
	if !changed {
		return raw, nil
	}
	return store.MustJSON(d), nil
}
