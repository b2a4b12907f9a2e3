package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/connectors/connectortest"
)

const token = "pat-na1-11111111-2222-3333-4444-555555555555"

// call is one request the fake received.
type call struct {
	Method, Path string
	Query        url.Values
	Body         any
}

// fakeHubSpot answers like HubSpot's CRM v3 API, holding contacts in memory,
// and checks what HubSpot documents for every request: bearer token, JSON
// content type on bodies, JSON Accept.
type fakeHubSpot struct {
	t        *testing.T
	mu       sync.Mutex
	calls    []call
	contacts map[string]string // e-mail → id
	nextID   int
	// answer, when set, answers a request instead of the CRM (errors, rate
	// limits, conflicts); ok=false falls through to the CRM.
	answer func(c call) (status int, h http.Header, body string, ok bool)
}

func newFake(t *testing.T) (*fakeHubSpot, map[string]string, *http.Client) {
	f := &fakeHubSpot{t: t, contacts: map[string]string{}, nextID: 100}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, map[string]string{"access_token": token, "base_url": srv.URL + "/"}, srv.Client()
}

func hubspotError(status int, category, msg string) (int, http.Header, string, bool) {
	b, _ := json.Marshal(map[string]any{"status": "error", "message": msg, "correlationId": "aeb5f871-7f07-4993-9211-075dc63e7cbf", "category": category})
	return status, http.Header{"Content-Type": {"application/json;charset=utf-8"}}, string(b), true
}

func (f *fakeHubSpot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := call{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query()}
	raw, _ := io.ReadAll(r.Body)
	if len(raw) > 0 {
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			f.t.Errorf("%s %s: Content-Type %q", r.Method, r.URL.Path, ct)
		}
		if err := json.Unmarshal(raw, &c.Body); err != nil {
			f.t.Errorf("%s %s: body is not JSON: %s", r.Method, r.URL.Path, raw)
		}
	}
	if a := r.Header.Get("Accept"); a != "application/json" {
		f.t.Errorf("%s %s: Accept %q", r.Method, r.URL.Path, a)
	}
	f.calls = append(f.calls, c)
	status, h, body, ok := 0, http.Header(nil), "", false
	if r.Header.Get("Authorization") != "Bearer "+token {
		status, h, body, ok = hubspotError(401, "INVALID_AUTHENTICATION",
			"Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview")
	} else if f.answer != nil {
		status, h, body, ok = f.answer(c)
	}
	if !ok {
		status, h, body = f.crm(c)
	}
	for k, v := range h {
		w.Header()[k] = v
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
	}
	w.WriteHeader(status)
	io.WriteString(w, body)
}

const stamp = "2024-05-01T10:00:00.000Z"

func record(id string, props map[string]any, extra map[string]any) string {
	o := map[string]any{"id": id, "properties": props, "createdAt": stamp, "updatedAt": stamp, "archived": false}
	for k, v := range extra {
		o[k] = v
	}
	b, _ := json.Marshal(o)
	return string(b)
}

// crm is the happy path of each documented endpoint.
func (f *fakeHubSpot) crm(c call) (int, http.Header, string) {
	body, _ := c.Body.(map[string]any)
	switch {
	case c.Method == "POST" && c.Path == "/crm/v3/objects/contacts/batch/upsert":
		var results []string
		for _, in := range body["inputs"].([]any) {
			in := in.(map[string]any)
			email := in["id"].(string)
			id, exists := f.contacts[email]
			if !exists {
				f.nextID++
				id = fmt.Sprint(f.nextID)
				f.contacts[email] = id
			}
			props := map[string]any{"email": email}
			for k, v := range in["properties"].(map[string]any) {
				props[k] = v
			}
			results = append(results, record(id, props, map[string]any{"new": !exists}))
		}
		return 200, nil, `{"status":"COMPLETE","results":[` + strings.Join(results, ",") + `],"startedAt":"` + stamp + `","completedAt":"` + stamp + `"}`
	case c.Method == "PATCH" && strings.HasPrefix(c.Path, "/crm/v3/objects/contacts/"):
		key := strings.TrimPrefix(c.Path, "/crm/v3/objects/contacts/")
		id := key
		if c.Query.Get("idProperty") == "email" {
			id = f.contacts[key]
		}
		if id == "" {
			s, h, b, _ := hubspotError(404, "OBJECT_NOT_FOUND", "Object not found.  objectId are usually numeric.")
			return s, h, b
		}
		return 200, nil, record(id, body["properties"].(map[string]any), nil)
	case c.Method == "GET" && strings.HasPrefix(c.Path, "/crm/v3/objects/contacts/"):
		email := strings.TrimPrefix(c.Path, "/crm/v3/objects/contacts/")
		id, ok := f.contacts[email]
		if c.Query.Get("idProperty") != "email" || !ok {
			s, h, b, _ := hubspotError(404, "OBJECT_NOT_FOUND", "Object not found.  objectId are usually numeric.")
			return s, h, b
		}
		return 200, nil, record(id, map[string]any{"email": email, "hs_object_id": id}, nil)
	case c.Method == "GET" && c.Path == "/crm/v3/objects/contacts":
		return 200, nil, `{"results":[` + record("1", map[string]any{"email": "x@example.com"}, nil) + `],"paging":{"next":{"after":"2","link":"?after=2"}}}`
	case c.Method == "POST" && (c.Path == "/crm/v3/objects/notes" || c.Path == "/crm/v3/objects/deals"):
		f.nextID++
		return 201, nil, record(fmt.Sprint(f.nextID), body["properties"].(map[string]any), nil)
	}
	s, h, b, _ := hubspotError(404, "OBJECT_NOT_FOUND", "not found: "+c.Method+" "+c.Path)
	return s, h, b
}

func jsonOf(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad expectation %s: %v", s, err)
	}
	return v
}

func wantCall(t *testing.T, got call, method, path, query, body string) {
	t.Helper()
	if got.Method != method || got.Path != path || got.Query.Encode() != query {
		t.Fatalf("request %s %s?%s, want %s %s?%s", got.Method, got.Path, got.Query.Encode(), method, path, query)
	}
	if body == "" {
		if got.Body != nil {
			t.Fatalf("%s %s: unexpected body %v", method, path, got.Body)
		}
		return
	}
	if want := jsonOf(t, body); !reflect.DeepEqual(got.Body, want) {
		g, _ := json.Marshal(got.Body)
		t.Fatalf("%s %s body\n got %s\nwant %s", method, path, g, body)
	}
}

func run(t *testing.T, c Connector, action string, input map[string]any, creds map[string]string, client *http.Client) (map[string]any, error) {
	t.Helper()
	res, err := connectortest.Run(context.Background(), c, action, input, creds, client)
	if err != nil {
		return nil, err
	}
	return res.Output.(map[string]any), nil
}

func TestSpecIsComplete(t *testing.T) {
	connectortest.CheckSpec(t, Connector{})
	if f := (Connector{}).Spec().Auth.Fields[0]; f.Key != "access_token" || !f.Secret {
		t.Fatalf("access_token must be a secret credential: %+v", f)
	}
}

func TestUpsertContactCreatesThenUpdatesByEmail(t *testing.T) {
	f, creds, client := newFake(t)
	in := map[string]any{"email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace", "phone": "+44 20 7946 0000",
		"company": "Analytical Engines", "properties": map[string]any{"lifecyclestage": "lead", "score": 42.0, "vip": true}}
	out, err := run(t, Connector{}, "upsert_contact", in, creds, client)
	if err != nil {
		t.Fatal(err)
	}
	wantCall(t, f.calls[0], "POST", "/crm/v3/objects/contacts/batch/upsert", "", `{"inputs":[{"idProperty":"email","id":"ada@example.com",
		"properties":{"firstname":"Ada","lastname":"Lovelace","phone":"+44 20 7946 0000","company":"Analytical Engines",
		"lifecyclestage":"lead","score":"42","vip":"true"}}]}`)
	if out["id"] != "101" || out["created"] != true || out["action"] != "created" || out["properties"].(map[string]any)["firstname"] != "Ada" {
		t.Fatalf("output %v", out)
	}
	out, err = run(t, Connector{}, "upsert_contact", map[string]any{"email": "ada@example.com", "phone": "+44 1"}, creds, client)
	if err != nil {
		t.Fatal(err)
	}
	wantCall(t, f.calls[1], "POST", "/crm/v3/objects/contacts/batch/upsert", "",
		`{"inputs":[{"idProperty":"email","id":"ada@example.com","properties":{"phone":"+44 1"}}]}`)
	if out["id"] != "101" || out["created"] != false || out["action"] != "updated" {
		t.Fatalf("output %v", out)
	}
}

func TestUpsertContactResolvesAConflictToAnUpdate(t *testing.T) {
	f, creds, client := newFake(t)
	f.contacts["grace@example.com"] = "512"
	f.answer = func(c call) (int, http.Header, string, bool) {
		if c.Path == "/crm/v3/objects/contacts/batch/upsert" {
			return hubspotError(409, "CONFLICT", "Contact already exists. Existing ID: 512")
		}
		return 0, nil, "", false
	}
	out, err := run(t, Connector{}, "upsert_contact", map[string]any{"email": "grace@example.com", "firstname": "Grace"}, creds, client)
	if err != nil {
		t.Fatalf("a conflict failed the step: %v", err)
	}
	if len(f.calls) != 2 {
		t.Fatalf("%d calls, want upsert then update", len(f.calls))
	}
	wantCall(t, f.calls[1], "PATCH", "/crm/v3/objects/contacts/512", "", `{"properties":{"firstname":"Grace"}}`)
	if out["id"] != "512" || out["action"] != "updated" || out["created"] != false {
		t.Fatalf("output %v", out)
	}

	// A conflict reported inside a 207 multi-status answer, without an id in
	// the message, updates by e-mail.
	f.calls = nil
	f.answer = func(c call) (int, http.Header, string, bool) {
		if c.Path == "/crm/v3/objects/contacts/batch/upsert" {
			return 207, nil, `{"status":"COMPLETE","results":[],"numErrors":1,"errors":[{"status":"error","category":"CONFLICT","message":"Contact already exists","context":{}}]}`, true
		}
		return 0, nil, "", false
	}
	out, err = run(t, Connector{}, "upsert_contact", map[string]any{"email": "grace@example.com", "lastname": "Hopper"}, creds, client)
	if err != nil {
		t.Fatal(err)
	}
	wantCall(t, f.calls[1], "PATCH", "/crm/v3/objects/contacts/grace@example.com", "idProperty=email", `{"properties":{"lastname":"Hopper"}}`)
	if out["id"] != "512" || out["action"] != "updated" {
		t.Fatalf("output %v", out)
	}
}

func TestAddNoteToAContactByIDOrEmail(t *testing.T) {
	f, creds, client := newFake(t)
	f.contacts["ada@example.com"] = "51"
	c := Connector{Now: func() time.Time { return time.Date(2024, 5, 1, 12, 30, 0, 0, time.FixedZone("CEST", 2*3600)) }}
	out, err := run(t, c, "add_note", map[string]any{"contact_id": "51", "body": "Called about the <b>renewal</b>"}, creds, client)
	if err != nil {
		t.Fatal(err)
	}
	wantCall(t, f.calls[0], "POST", "/crm/v3/objects/notes", "", `{
		"properties":{"hs_note_body":"Called about the <b>renewal</b>","hs_timestamp":"2024-05-01T10:30:00.000Z"},
		"associations":[{"to":{"id":"51"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":202}]}]}`)
	if out["id"] != "101" || out["contact_id"] != "51" {
		t.Fatalf("output %v", out)
	}

	f.calls = nil
	out, err = run(t, c, "add_note", map[string]any{"email": "ada@example.com", "body": "Sent the quote", "timestamp": "1714557600000"}, creds, client)
	if err != nil {
		t.Fatal(err)
	}
	wantCall(t, f.calls[0], "GET", "/crm/v3/objects/contacts/ada@example.com", "idProperty=email&properties=email", "")
	wantCall(t, f.calls[1], "POST", "/crm/v3/objects/notes", "", `{
		"properties":{"hs_note_body":"Sent the quote","hs_timestamp":"1714557600000"},
		"associations":[{"to":{"id":"51"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":202}]}]}`)
	if out["contact_id"] != "51" {
		t.Fatalf("output %v", out)
	}

	f.calls = nil
	_, err = run(t, c, "add_note", map[string]any{"email": "nobody@example.com", "body": "x"}, creds, client)
	if connectors.KindOf(err) != connectors.KindPermanent || !strings.Contains(err.Error(), "nobody@example.com") || len(f.calls) != 1 {
		t.Fatalf("unknown e-mail: %v after %d calls", err, len(f.calls))
	}
	for _, in := range []map[string]any{{"body": "no contact"}, {"contact_id": "51", "body": "x", "timestamp": "yesterday"}} {
		if _, err := run(t, c, "add_note", in, creds, client); connectors.KindOf(err) != connectors.KindBadInput {
			t.Fatalf("%v: %v", in, err)
		}
	}
}

func TestCreateDealAssociatedWithAContact(t *testing.T) {
	f, creds, client := newFake(t)
	f.contacts["ada@example.com"] = "51"
	out, err := run(t, Connector{}, "create_deal", map[string]any{"dealname": "Acme renewal", "amount": 1500.5,
		"dealstage": "appointmentscheduled", "closedate": "2024-06-30T00:00:00Z", "contact_email": "ada@example.com",
		"properties": map[string]any{"hubspot_owner_id": "910901"}}, creds, client)
	if err != nil {
		t.Fatal(err)
	}
	wantCall(t, f.calls[0], "GET", "/crm/v3/objects/contacts/ada@example.com", "idProperty=email&properties=email", "")
	wantCall(t, f.calls[1], "POST", "/crm/v3/objects/deals", "", `{
		"properties":{"dealname":"Acme renewal","amount":"1500.5","pipeline":"default","dealstage":"appointmentscheduled",
			"closedate":"2024-06-30T00:00:00Z","hubspot_owner_id":"910901"},
		"associations":[{"to":{"id":"51"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":3}]}]}`)
	if out["id"] != "101" || out["contact_id"] != "51" || out["properties"].(map[string]any)["amount"] != "1500.5" {
		t.Fatalf("output %v", out)
	}

	f.calls = nil
	if _, err := run(t, Connector{}, "create_deal", map[string]any{"dealname": "Solo", "pipeline": "75e28846", "dealstage": "closedwon"}, creds, client); err != nil {
		t.Fatal(err)
	}
	wantCall(t, f.calls[0], "POST", "/crm/v3/objects/deals", "", `{"properties":{"dealname":"Solo","pipeline":"75e28846","dealstage":"closedwon"}}`)
}

func TestHubSpotErrorsMapToKinds(t *testing.T) {
	rate := func(h http.Header, body string) func(call) (int, http.Header, string, bool) {
		return func(call) (int, http.Header, string, bool) {
			h.Set("Content-Type", "application/json;charset=utf-8")
			return 429, h, body, true
		}
	}
	secondly := `{"status":"error","message":"You have reached your secondly limit.","errorType":"RATE_LIMIT","correlationId":"c033cdaa","policyName":"SECONDLY"}`
	cases := []struct {
		name     string
		creds    map[string]string
		answer   func(call) (int, http.Header, string, bool)
		kind     connectors.ErrorKind
		after    time.Duration
		mentions string
	}{
		{"wrong token", map[string]string{"access_token": "pat-wrong"}, nil, connectors.KindPermanent, 0, "token invalid or lacks scopes"},
		{"missing scope", nil, func(call) (int, http.Header, string, bool) {
			return hubspotError(403, "MISSING_SCOPES", "This app hasn't been granted all required scopes to make this call.")
		}, connectors.KindPermanent, 0, "MISSING_SCOPES"},
		{"Retry-After", nil, rate(http.Header{"Retry-After": {"7"}}, secondly), connectors.KindRateLimited, 7 * time.Second, "secondly limit"},
		{"rolling window used up", nil, rate(http.Header{"X-Hubspot-Ratelimit-Interval-Milliseconds": {"10000"}, "X-Hubspot-Ratelimit-Max": {"100"},
			"X-Hubspot-Ratelimit-Remaining": {"0"}}, `{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"x","policyName":"TEN_SECONDLY_ROLLING"}`),
			connectors.KindRateLimited, 10 * time.Second, "RATE_LIMIT"},
		{"secondly policy", nil, rate(http.Header{}, secondly), connectors.KindRateLimited, time.Second, "secondly"},
		{"daily limit", nil, rate(http.Header{"X-Hubspot-Ratelimit-Daily": {"250000"}, "X-Hubspot-Ratelimit-Daily-Remaining": {"0"}},
			`{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","correlationId":"x","policyName":"DAILY"}`),
			connectors.KindRateLimited, time.Hour, "daily limit"},
		{"validation", nil, func(call) (int, http.Header, string, bool) {
			return 400, nil, `{"status":"error","message":"Invalid input JSON on line 1","correlationId":"x","category":"VALIDATION_ERROR",
				"errors":[{"message":"Property \"favorite_color\" does not exist","code":"PROPERTY_DOESNT_EXIST"}]}`, true
		}, connectors.KindBadInput, 0, "favorite_color"},
		{"server error", nil, func(call) (int, http.Header, string, bool) {
			return hubspotError(502, "", "Bad gateway")
		}, connectors.KindRetryable, 0, "502"},
		{"unreadable 503", nil, func(call) (int, http.Header, string, bool) {
			return 503, http.Header{"Content-Type": {"text/html"}}, "<html>down</html>", true
		}, connectors.KindRetryable, 0, "503"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, creds, client := newFake(t)
			for k, v := range c.creds {
				creds[k] = v
			}
			f.answer = c.answer
			_, err := run(t, Connector{}, "upsert_contact", map[string]any{"email": "ada@example.com"}, creds, client)
			if connectors.KindOf(err) != c.kind || connectors.RetryAfterOf(err) != c.after {
				t.Fatalf("err = %v (kind %s, after %s), want %s after %s", err, connectors.KindOf(err), connectors.RetryAfterOf(err), c.kind, c.after)
			}
			if !strings.Contains(err.Error(), c.mentions) {
				t.Fatalf("error %q does not mention %q", err, c.mentions)
			}
			t.Log(err)
			if strings.Contains(err.Error(), creds["access_token"]) {
				t.Fatalf("error %q leaks the token", err)
			}
		})
	}
}

func TestCreateConflictIsPermanentOutsideUpsert(t *testing.T) {
	f, creds, client := newFake(t)
	f.answer = func(call) (int, http.Header, string, bool) {
		return hubspotError(409, "CONFLICT", "A deal with this dealname already exists")
	}
	_, err := run(t, Connector{}, "create_deal", map[string]any{"dealname": "x", "dealstage": "y"}, creds, client)
	if connectors.KindOf(err) != connectors.KindPermanent || !strings.Contains(err.Error(), "CONFLICT") {
		t.Fatalf("err %v", err)
	}
}

func TestConnectionTestReadsOneContact(t *testing.T) {
	f, creds, client := newFake(t)
	if err := (Connector{}).TestConnection(context.Background(), connectors.Request{Credentials: creds, HTTP: client}); err != nil {
		t.Fatal(err)
	}
	wantCall(t, f.calls[0], "GET", "/crm/v3/objects/contacts", "limit=1", "")
	creds["access_token"] = "pat-revoked"
	err := (Connector{}).TestConnection(context.Background(), connectors.Request{Credentials: creds, HTTP: client})
	if connectors.KindOf(err) != connectors.KindPermanent || !strings.Contains(err.Error(), "token invalid") {
		t.Fatalf("bad token: %v", err)
	}
	err = (Connector{}).TestConnection(context.Background(), connectors.Request{Credentials: map[string]string{}, HTTP: client})
	if connectors.KindOf(err) != connectors.KindBadInput {
		t.Fatalf("no token: %v", err)
	}
}

func TestUpsertRefusesBadInputWithoutCalling(t *testing.T) {
	f, creds, client := newFake(t)
	for _, in := range []map[string]any{
		{"email": "a@example.com", "properties": map[string]any{"email": "b@example.com"}},
		{"email": "a@example.com", "properties": map[string]any{"tags": []any{"x"}}},
		{"firstname": "No e-mail"},
	} {
		if _, err := run(t, Connector{}, "upsert_contact", in, creds, client); connectors.KindOf(err) != connectors.KindBadInput {
			t.Fatalf("%v: %v", in, err)
		}
	}
	if len(f.calls) != 0 {
		t.Fatalf("%d calls made for bad input", len(f.calls))
	}
}
