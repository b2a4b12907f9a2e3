package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/auth"
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
