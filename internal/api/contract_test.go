package api

import (
	"bytes"
	"net/http"
	"os"
	"testing"
)

// TestEveryRouteHasAContract keeps the OpenAPI document complete: every
// route of the table has its request and response types in contracts, a
// route answering a body declares its type, and no entry outlives its route.
func TestEveryRouteHasAContract(t *testing.T) {
	s := &server{}
	seen := map[string]bool{}
	for _, rt := range s.routes() {
		key := rt.method + " " + rt.path
		seen[key] = true
		ct, ok := contracts[key]
		if !ok {
			t.Errorf("%s has no entry in contracts (internal/api/contract.go): declare the Go types it reads and answers", key)
			continue
		}
		status := rt.status
		if status == 0 {
			status = http.StatusOK
		}
		bodyless := status == http.StatusNoContent || (status >= 300 && status < 400)
		if ct.out == nil && !bodyless {
			t.Errorf("%s answers %d with a body but its contract has no out type", key, status)
		}
		if ct.out != nil && bodyless {
			t.Errorf("%s answers %d (no body) but its contract has an out type", key, status)
		}
		if (rt.method == http.MethodGet || rt.method == http.MethodDelete) && (ct.body != nil || ct.bodyTypes != nil) {
			t.Errorf("%s declares a request body", key)
		}
	}
	for key := range contracts {
		if !seen[key] {
			t.Errorf("contracts has %s, which is not a route", key)
		}
	}
}

// committedDocument is the copy the frontend generates its types from.
const committedDocument = "../../frontend/src/api/openapi.json"

// TestCommittedOpenAPIDocumentIsCurrent fails when the Go types changed and
// the frontend's copy of the document (and so its generated types) did not.
func TestCommittedOpenAPIDocumentIsCurrent(t *testing.T) {
	doc, err := Document("http://127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(committedDocument)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(doc, '\n'), committed) {
		t.Fatalf("%s is stale: run `npm run gen:api` in frontend/ and commit both generated files", committedDocument)
	}
}
