package builtin

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/connectors/connectortest"
)

func TestEmbeddedFilesPassTheirInlineTests(t *testing.T) {
	cs, err := Connectors()
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) == 0 {
		t.Fatal("no embedded connectors")
	}
	for _, c := range cs {
		connectortest.CheckSpec(t, c)
		results := c.RunTests(context.Background())
		if len(results) < 3 {
			t.Errorf("%s: only %d inline tests", c.File(), len(results))
		}
		for _, r := range results {
			if r.Err != nil {
				t.Errorf("%s:%d: %s: %v", c.File(), r.Line, r.Name, r.Err)
			}
		}
	}
}

// fakePipedrive answers like Pipedrive's API v1 and checks what Pipedrive
// documents: POST to /v1/persons or /v1/deals, the API token in the
// api_token query parameter (and nowhere else), a JSON body.
type fakePipedrive struct {
	t       *testing.T
	token   string
	limited bool
	bodies  []map[string]any
	paths   []string
}

func (f *fakePipedrive) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Ratelimit-Limit", "20")
	if r.Method != http.MethodPost {
		f.t.Errorf("method %s", r.Method)
	}
	if q := r.URL.Query(); len(q) != 1 || q.Get("api_token") == "" {
		f.t.Errorf("query %q: want only api_token", r.URL.RawQuery)
	}
	if r.Header.Get("Authorization") != "" {
		f.t.Error("the token leaked into an Authorization header")
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("Content-Type %q", ct)
	}
	if r.URL.Query().Get("api_token") != f.token {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"success":false,"error":"unauthorized access","errorCode":401,"error_info":"Please check developers.pipedrive.com"}`)
		return
	}
	if f.limited {
		w.Header().Set("X-Ratelimit-Remaining", "0")
		w.Header().Set("X-Ratelimit-Reset", "2")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"success":false,"error":"Request over limit","error_info":"Please check developers.pipedrive.com"}`)
		return
	}
	var body map[string]any
	raw, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(raw, &body); err != nil {
		f.t.Errorf("body is not JSON: %s", raw)
	}
	f.bodies, f.paths = append(f.bodies, body), append(f.paths, r.URL.Path)
	switch r.URL.Path {
	case "/v1/persons":
		if body["name"] == nil {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"success":false,"error":"Name must be given.","error_info":"Please check developers.pipedrive.com","data":null,"additional_data":null}`)
			return
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"success":true,"data":{"id":42,"name":"Ada Lovelace","primary_email":"ada@example.com",
			"email":[{"label":"work","value":"ada@example.com","primary":true}],"org_id":{"name":"Engines","value":7},
			"add_time":"2024-05-01 09:30:00"}}`)
	case "/v1/deals":
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"success":true,"data":{"id":101,"title":"Big order","value":5000,"currency":"EUR","status":"open","stage_id":1,
			"person_id":{"name":"Ada Lovelace","value":42},"org_id":{"name":"Engines","value":7}}}`)
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"success":false,"error":"Unknown method ."}`)
	}
}

func pipedrive(t *testing.T) connectors.Connector {
	c, ok := connectors.Default.Get("pipedrive")
	if !ok {
		t.Fatal("pipedrive is not registered")
	}
	return c
}

func TestPipedriveAgainstALocalReceiver(t *testing.T) {
	f := &fakePipedrive{t: t, token: "pd-123"}
	srv := httptest.NewServer(f)
	defer srv.Close()
	ctx := context.Background()
	creds := map[string]string{"api_token": "pd-123", "base_url": srv.URL + "/v1"}

	res, err := connectortest.Run(ctx, pipedrive(t), "add_person", map[string]any{"name": "Ada Lovelace", "email": "ada@example.com",
		"phone": "+44 20 7946 0000", "org_id": 7.0}, creds, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"email":[{"label":"work","primary":true,"value":"ada@example.com"}],"name":"Ada Lovelace","org_id":7,"phone":[{"label":"work","primary":true,"value":"+44 20 7946 0000"}]}`
	if b, _ := json.Marshal(f.bodies[0]); string(b) != want || f.paths[0] != "/v1/persons" {
		t.Fatalf("sent %s to %s\nwant %s", b, f.paths[0], want)
	}
	if b, _ := json.Marshal(res.Output); string(b) != `{"add_time":"2024-05-01 09:30:00","id":42,"name":"Ada Lovelace","org_id":7,"primary_email":"ada@example.com"}` {
		t.Fatalf("output %s", b)
	}

	res, err = connectortest.Run(ctx, pipedrive(t), "add_deal", map[string]any{"title": "Big order", "value": 5000.0, "currency": "EUR",
		"person_id": 42.0, "org_id": 7.0, "stage_id": 1.0}, creds, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(f.bodies[1]); string(b) != `{"currency":"EUR","org_id":7,"person_id":42,"stage_id":1,"title":"Big order","value":5000}` || f.paths[1] != "/v1/deals" {
		t.Fatalf("deal body %s to %s", b, f.paths[1])
	}
	if out := res.Output.(map[string]any); out["id"] != 101.0 || out["status"] != "open" {
		t.Fatalf("deal output %v", out)
	}

	_, err = connectortest.Run(ctx, pipedrive(t), "add_person", map[string]any{"name": "x"},
		map[string]string{"api_token": "wrong", "base_url": srv.URL + "/v1"}, srv.Client())
	if connectors.KindOf(err) != connectors.KindPermanent || !strings.Contains(err.Error(), "unauthorized access") {
		t.Fatalf("wrong token: %v", err)
	}
	f.limited = true
	_, err = connectortest.Run(ctx, pipedrive(t), "add_person", map[string]any{"name": "x"}, creds, srv.Client())
	if connectors.KindOf(err) != connectors.KindRateLimited || connectors.RetryAfterOf(err) != 2*time.Second {
		t.Fatalf("rate limit: %v", err)
	}
	if strings.Contains(err.Error(), "pd-123") {
		t.Fatalf("the token is in the error: %v", err)
	}
}

// Test connection reads the token's own user, as Pipedrive documents it:
// GET /v1/users/me with the api_token query parameter and no body.
func TestPipedriveConnectionTestReadsTheTokensUser(t *testing.T) {
	cs, err := Connectors()
	if err != nil {
		t.Fatal(err)
	}
	var tester connectors.ConnectionTester
	for _, c := range cs {
		if c.Spec().ID == "pipedrive" {
			tester = c
			if !strings.Contains(c.Spec().Auth.Test, "/users/me") {
				t.Errorf("spec says the test does %q", c.Spec().Auth.Test)
			}
		}
	}
	for _, c := range []struct {
		status int
		answer string
		ok     bool
	}{
		{200, `{"success":true,"data":{"id":1,"name":"Ada","email":"ada@example.com"}}`, true},
		{401, `{"success":false,"error":"unauthorized access","errorCode":401}`, false},
	} {
		calls := 0
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls++
			if r.Method != http.MethodGet || r.URL.Path != "/v1/users/me" || r.URL.Query().Get("api_token") != "tok-123" || r.ContentLength > 0 {
				t.Errorf("request %s %s?%s (%d bytes), want GET /v1/users/me?api_token=…", r.Method, r.URL.Path, r.URL.RawQuery, r.ContentLength)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(c.status)
			io.WriteString(w, c.answer)
		}))
		err := tester.TestConnection(context.Background(), connectors.Request{HTTP: srv.Client(),
			Credentials: map[string]string{"api_token": "tok-123", "base_url": srv.URL + "/v1"}})
		srv.Close()
		if calls != 1 || (err == nil) != c.ok {
			t.Errorf("%d: %d calls, err = %v, want ok=%v", c.status, calls, err, c.ok)
		}
		if err != nil && strings.Contains(err.Error(), "tok-123") {
			t.Errorf("error %q leaks the token", err)
		}
	}
}
