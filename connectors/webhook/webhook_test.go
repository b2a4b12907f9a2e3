package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/webhooksig"
)

type vector struct {
	Scheme    string            `json:"scheme"`
	Secret    string            `json:"secret"`
	Headers   map[string]string `json:"headers"`
	Body      string            `json:"body"`
	Timestamp int64             `json:"timestamp"`
	Valid     bool              `json:"valid"`
}

func TestSendReproducesTheStandardWebhooksVector(t *testing.T) {
	raw, err := os.ReadFile("testdata/signature-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Vectors []vector }
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	var vec *vector
	for i, v := range file.Vectors {
		if v.Scheme == "standard-webhooks" && v.Valid {
			vec = &file.Vectors[i]
			break
		}
	}
	if vec == nil {
		t.Fatal("no valid standard-webhooks vector")
	}
	var got http.Header
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		gotBody, _ = io.ReadAll(r.Body)
	}))
	defer srv.Close()
	c := Connector{Now: func() time.Time { return time.Unix(vec.Timestamp, 0) }}
	id := vec.Headers["webhook-id"]
	res, err := c.Execute(context.Background(), connectors.Request{
		Action: "send", HTTP: srv.Client(), IdempotencyKey: id[len("msg_"):],
		Input:       map[string]any{"url": srv.URL, "raw_body": vec.Body},
		Credentials: map[string]string{"secret": vec.Secret},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
		if got.Get(h) != vec.Headers[h] {
			t.Errorf("%s = %q, want the vector's %q", h, got.Get(h), vec.Headers[h])
		}
	}
	if string(gotBody) != vec.Body || res.Output.(map[string]any)["webhook_id"] != id {
		t.Fatalf("body %q, output %v", gotBody, res.Output)
	}
}

func TestSendIsVerifiableAndKeepsItsIDAcrossRetries(t *testing.T) {
	secret := "whsec_c2VjcmV0LWtleS1mb3Itc3dpdGNoYm9hcmQ="
	var ids []string
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhooksig.Verify(webhooksig.Config{Scheme: webhooksig.SchemeStandardWebhooks, Secrets: []string{secret}},
			webhooksig.Request{Body: body, Header: r.Header}, time.Now()); err != nil {
			t.Errorf("receiver could not verify: %v", err)
		}
		ids = append(ids, r.Header.Get("webhook-id"))
		calls++
		if calls == 1 {
			w.WriteHeader(503)
		}
	}))
	defer srv.Close()
	req := connectors.Request{Action: "send", HTTP: srv.Client(), IdempotencyKey: "sb_run1step1",
		Input: map[string]any{"url": srv.URL, "payload": map[string]any{"order": 7}}, Credentials: map[string]string{"secret": secret}}
	_, err := Connector{}.Execute(context.Background(), req)
	if connectors.KindOf(err) != connectors.KindRateLimited {
		t.Fatalf("503: err = %v, want rate_limited (retry later)", err)
	}
	if _, err := (Connector{}).Execute(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || ids[0] != ids[1] || ids[0] != "msg_sb_run1step1" {
		t.Fatalf("webhook-ids %v: a retry must reuse the id", ids)
	}
	req.Input = map[string]any{"url": srv.URL}
	if _, err := (Connector{}).Execute(context.Background(), req); connectors.KindOf(err) != connectors.KindBadInput {
		t.Fatalf("missing payload: %v", err)
	}
}
