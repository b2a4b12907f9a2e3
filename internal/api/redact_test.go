package api_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/flows"
	"github.com/switchboard-dev/switchboard/internal/secrets"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

const secretDoc = `{"schema":"switchboard/v1","name":"signed","trigger":{"type":"webhook","webhook":{"methods":["POST"],
 "verify":{"scheme":"token","header":"X-Api-Key","secrets":["tok-very-secret-1","tok-very-secret-2"]}}},
 "steps":[{"id":"m","type":"map","fields":{"x":"1"}}]}`

// Inline webhook secrets are never shown: not in the workflow, its export,
// its versions or their diff; a PUT that sends the placeholder back keeps
// the stored secret.
func TestInlineWebhookSecretsAreRedactedEverywhere(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		_, viewerKey, err := b.auth.NewAPIKey(t.Context(), "viewer", auth.RoleViewer, "test")
		storetest.Must(t, err, "viewer key")
		id, hook := b.createDoc(t, secretDoc)
		got := b.do(t, "GET", "/api/v1/workflows/"+id, "", "")
		etag := got.header.Get("ETag")
		// Save it back as the editor saw it, with a change elsewhere.
		doc := got.body["document"]
		raw := mustJSON(t, doc)
		raw = strings.Replace(raw, `"name":"signed"`, `"name":"signed v2"`, 1)
		req, _ := http.NewRequest("PUT", b.srv.URL+"/api/v1/workflows/"+id, strings.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+b.key)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("If-Match", etag)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("PUT with the placeholder: %d", resp.StatusCode)
		}
		for _, path := range []string{"/api/v1/workflows/" + id, "/api/v1/workflows/" + id + "/export",
			"/api/v1/workflows/" + id + "/versions/1", "/api/v1/workflows/" + id + "/versions/2",
			"/api/v1/workflows/" + id + "/versions/2/diff"} {
			for _, key := range []string{b.key, viewerKey} {
				r := b.doAs(t, key, "GET", path, "", "")
				if r.status != 200 || strings.Contains(r.raw, "tok-very-secret") {
					t.Errorf("GET %s: %d shows the secret: %s", path, r.status, r.raw)
				}
			}
		}
		// The stored secret still verifies.
		h := http.Header{"X-Api-Key": {"tok-very-secret-2"}}
		if r := b.send(t, hook, `{}`, h); r.status != 202 {
			t.Fatalf("the kept secret no longer verifies: %d %s", r.status, r.raw)
		}
		// The placeholder cannot create a workflow of its own.
		bad := strings.Replace(secretDoc, `"tok-very-secret-1"`, `"[redacted]"`, 1)
		if r := b.do(t, "POST", "/api/v1/workflows", "application/json", bad); r.status != 422 || !strings.Contains(r.raw, "trigger.webhook.verify.secrets[0]") {
			t.Fatalf("create with the placeholder: %d %s", r.status, r.raw)
		}
		if r := b.do(t, "POST", "/api/v1/workflows/"+id+"/duplicate", "", ""); r.status != 201 {
			t.Fatalf("duplicate: %d %s", r.status, r.raw)
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

const basicDoc = `{"schema":"switchboard/v1","name":"basic","trigger":{"type":"webhook","webhook":{"methods":["POST"],
 "verify":{"scheme":"basic","users":[{"username":"shop","password":"pw-very-secret-9"}]}}},
 "steps":[{"id":"m","type":"map","fields":{"x":"1"}}]}`

// Inline webhook secrets and Basic passwords are sealed in workflow_versions
// (the raw row holds neither), opened on load (the hook still verifies), and
// versions written before sealing existed are sealed by SealVersions.
func TestInlineWebhookSecretsAreSealedAtRest(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		ctx := t.Context()
		rows := func(id string) string {
			t.Helper()
			q := "SELECT document FROM workflow_versions WHERE workflow_id = ? ORDER BY version"
			if dialect == "postgres" {
				q = "SELECT document::text FROM workflow_versions WHERE workflow_id = $1 ORDER BY version"
			}
			rs, err := b.st.SQLDB().QueryContext(ctx, q, id)
			storetest.Must(t, err, "raw versions")
			defer rs.Close()
			var all strings.Builder
			for rs.Next() {
				var doc string
				storetest.Must(t, rs.Scan(&doc), "scan")
				all.WriteString(doc + "\n")
			}
			storetest.Must(t, rs.Err(), "rows")
			return all.String()
		}
		// Written before sealing existed: in clear.
		legacyID, legacyHook := b.createDoc(t, basicDoc)
		if !strings.Contains(rows(legacyID), "pw-very-secret-9") {
			t.Fatalf("setup: the unsealed row does not hold the password")
		}
		ring, err := secrets.NewKeyring("k1", map[string][]byte{"k1": []byte("0123456789abcdef0123456789abcdef")})
		storetest.Must(t, err, "keyring")
		b.st.SetDocumentSealer(flows.NewSealer(ring))
		n, err := b.st.SealVersions(ctx, false)
		storetest.Must(t, err, "seal versions")
		if n != 1 {
			t.Fatalf("sealed %d versions, want the 1 legacy one", n)
		}
		if raw := rows(legacyID); strings.Contains(raw, "pw-very-secret-9") || !strings.Contains(raw, "sealed:v1:k1:") {
			t.Fatalf("the legacy row is not sealed: %s", raw)
		}
		if n, err := b.st.SealVersions(ctx, false); err != nil || n != 0 {
			t.Fatalf("a second pass rewrote %d versions (%v)", n, err)
		}
		basic := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("shop:pw-very-secret-9"))}}
		if r := b.send(t, legacyHook, `{}`, basic); r.status != 202 {
			t.Fatalf("the sealed password no longer verifies: %d %s", r.status, r.raw)
		}
		// New versions are written sealed; editing through the placeholder
		// keeps them working.
		id, hook := b.createDoc(t, secretDoc)
		got := b.do(t, "GET", "/api/v1/workflows/"+id, "", "")
		raw := strings.Replace(mustJSON(t, got.body["document"]), `"name":"signed"`, `"name":"signed v2"`, 1)
		if r := b.do(t, "PUT", "/api/v1/workflows/"+id, "application/json", raw); r.status != 200 {
			t.Fatalf("PUT with the placeholder: %d %s", r.status, r.raw)
		}
		if raw := rows(id); strings.Contains(raw, "tok-very-secret") || strings.Count(raw, "sealed:v1:k1:") != 4 {
			t.Fatalf("the versions are not sealed: %s", raw)
		}
		if r := b.send(t, hook, `{}`, http.Header{"X-Api-Key": {"tok-very-secret-1"}}); r.status != 202 {
			t.Fatalf("the sealed secret no longer verifies: %d %s", r.status, r.raw)
		}
		if r := b.send(t, hook, `{}`, http.Header{"X-Api-Key": {"sealed:v1:k1:x"}}); r.status == 202 {
			t.Fatalf("a sealed-looking value verified")
		}
		// A key rotation re-seals every version under the new primary key.
		rotated, err := secrets.NewKeyring("k2", map[string][]byte{"k1": []byte("0123456789abcdef0123456789abcdef"),
			"k2": []byte("fedcba9876543210fedcba9876543210")})
		storetest.Must(t, err, "rotated keyring")
		b.st.SetDocumentSealer(flows.NewSealer(rotated))
		if n, err := b.st.SealVersions(ctx, true); err != nil || n != 3 {
			t.Fatalf("re-sealed %d versions (%v), want all 3", n, err)
		}
		if raw := rows(id) + rows(legacyID); strings.Contains(raw, "sealed:v1:k1:") || strings.Count(raw, "sealed:v1:k2:") != 5 {
			t.Fatalf("not re-sealed under k2: %s", raw)
		}
		if r := b.send(t, hook, `{}`, http.Header{"X-Api-Key": {"tok-very-secret-2"}}); r.status != 202 {
			t.Fatalf("after re-sealing the secret no longer verifies: %d %s", r.status, r.raw)
		}
		// A sealed value copied to another workflow does not open there.
		var sealedDoc string
		q := "SELECT document FROM workflow_versions WHERE workflow_id = ? AND version = 1"
		if dialect == "postgres" {
			q = "SELECT document::text FROM workflow_versions WHERE workflow_id = $1 AND version = 1"
		}
		storetest.Must(t, b.st.SQLDB().QueryRowContext(ctx, q, id).Scan(&sealedDoc), "sealed doc")
		if _, err := flows.NewSealer(rotated).OpenDocument(id, []byte(sealedDoc)); err != nil {
			t.Fatalf("the sealed document does not open under its own id: %v", err)
		}
		if _, err := flows.NewSealer(rotated).OpenDocument(legacyID, []byte(sealedDoc)); err == nil {
			t.Fatalf("a sealed value opened under another workflow's id")
		}
	})
}

// Viewers read a workflow but not its public URLs: the token starts runs.
func TestViewersDoNotSeeHookTokens(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		_, viewerKey, err := b.auth.NewAPIKey(t.Context(), "viewer", auth.RoleViewer, "test")
		storetest.Must(t, err, "viewer key")
		_, editorKey, err := b.auth.NewAPIKey(t.Context(), "editor", auth.RoleEditor, "test")
		storetest.Must(t, err, "editor key")
		id, hook := b.createDoc(t, secretDoc)
		token := strings.TrimPrefix(hook, "/hooks/")
		for _, path := range []string{"/api/v1/workflows/" + id, "/api/v1/workflows", "/api/v1/workflows/" + id + "/export",
			"/api/v1/workflows/" + id + "/versions", "/api/v1/workflows/" + id + "/versions/1"} {
			r := b.doAs(t, viewerKey, "GET", path, "", "")
			if r.status != 200 || strings.Contains(r.raw, token) {
				t.Errorf("viewer GET %s: %d shows the hook token: %s", path, r.status, r.raw)
			}
		}
		if r := b.doAs(t, editorKey, "GET", "/api/v1/workflows/"+id, "", ""); !strings.Contains(r.raw, token) {
			t.Errorf("the editor lost the webhook URL: %s", r.raw)
		}
	})
}
