package api_test

import (
	"context"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// An API key acts for the user who made it: it never outranks them, stops
// while they are disabled and is revoked when they are deleted; the key list
// shows the role it really has.
func TestAPIKeysFollowTheirCreatorsRole(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		br := signIn(t, b) // ada, the first admin
		r := br.send("POST", b.srv.URL+"/api/v1/api-keys", `{"name":"ci","role":"admin"}`)
		if r.status != 201 {
			t.Fatalf("create key: %d %s", r.status, r.raw)
		}
		key := r.body["key"].(string)
		keyID := r.body["api_key"].(map[string]any)["id"].(string)
		ada, err := b.st.GetUserByEmail(context.Background(), "ada@example.com")
		storetest.Must(t, err, "ada")
		if r := b.do(t, "POST", "/api/v1/users", "application/json", `{"email":"bob@example.com","password":"a long enough password","role":"admin"}`); r.status != 201 {
			t.Fatalf("second admin: %d %s", r.status, r.raw)
		}
		if r := b.doAs(t, key, "GET", "/api/v1/users", "", ""); r.status != 200 {
			t.Fatalf("admin key before the demotion: %d %s", r.status, r.raw)
		}
		keyRow := func() map[string]any {
			t.Helper()
			for _, it := range b.do(t, "GET", "/api/v1/api-keys", "", "").body["items"].([]any) {
				if m := it.(map[string]any); m["id"] == keyID {
					return m
				}
			}
			t.Fatalf("key %s not listed", keyID)
			return nil
		}
		owner := func(m map[string]any) map[string]any {
			t.Helper()
			o, ok := m["owner"].(map[string]any)
			if !ok {
				t.Fatalf("key without owner: %v", m)
			}
			return o
		}
		if m := keyRow(); m["effective_role"] != "admin" || owner(m)["email"] != "ada@example.com" || owner(m)["id"] != ada.ID {
			t.Fatalf("key list before the demotion: %v", m)
		}
		if r := b.do(t, "PATCH", "/api/v1/users/"+ada.ID, "application/json", `{"role":"editor"}`); r.status != 200 {
			t.Fatalf("demote: %d %s", r.status, r.raw)
		}
		if m := keyRow(); m["role"] != "admin" || m["effective_role"] != "editor" || owner(m)["role"] != "editor" {
			t.Fatalf("the key list does not show the capped role: %v", m)
		}
		if r := b.doAs(t, key, "GET", "/api/v1/users", "", ""); r.status != 403 {
			t.Fatalf("the demoted creator's key still reaches admin routes: %d %s", r.status, r.raw)
		}
		if r := b.doAs(t, key, "POST", "/api/v1/workflows/validate", "application/json", validDoc); r.status != 200 {
			t.Fatalf("the key lost the editor role its creator has: %d %s", r.status, r.raw)
		}
		if r := b.do(t, "PATCH", "/api/v1/users/"+ada.ID, "application/json", `{"disabled":true}`); r.status != 200 {
			t.Fatalf("disable: %d %s", r.status, r.raw)
		}
		if r := b.doAs(t, key, "GET", "/api/v1/workflows", "", ""); r.status != 401 {
			t.Fatalf("a disabled creator's key still works: %d %s", r.status, r.raw)
		}
		if m := keyRow(); m["effective_role"] != "" || owner(m)["disabled"] != true {
			t.Fatalf("the key list does not show the disabled owner's key as not working: %v", m)
		}
		if r := b.do(t, "DELETE", "/api/v1/users/"+ada.ID, "", ""); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.raw)
		}
		for _, it := range b.do(t, "GET", "/api/v1/api-keys", "", "").body["items"].([]any) {
			if m := it.(map[string]any); m["id"] == keyID && (m["revoked_at"] == nil || m["effective_role"] != "" || m["owner"].(map[string]any)["deleted"] != true) {
				t.Fatalf("the deleted creator's key is not revoked: %v", m)
			}
		}
	})
}
