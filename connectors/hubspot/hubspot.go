// Package hubspot writes to HubSpot's CRM v3 API with a private-app access
// token: upsert a contact by e-mail, add a note to a contact, create a deal.
package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
)

func init() { connectors.Register(Connector{}) }

// DefaultBaseURL is HubSpot's API host.
const DefaultBaseURL = "https://api.hubapi.com"

// HubSpot-defined association type ids (developers.hubspot.com, "Associations
// v4 › association type ids").
const (
	assocNoteToContact = 202
	assocDealToContact = 3
)

// dailyLimitWait is how long to wait after HubSpot's daily limit: it resets
// at midnight in the account's time zone, which the API does not tell us, so
// the step tries again every hour rather than spending its attempts quickly.
const dailyLimitWait = time.Hour

// Connector implements hubspot.*.
type Connector struct {
	// Now is the clock for a note's default timestamp (tests); nil means
	// time.Now.
	Now func() time.Time
}

// Spec describes the connector.
func (Connector) Spec() connectors.Spec {
	return connectors.Spec{
		ID: "hubspot", Name: "HubSpot", Icon: "hubspot", Version: "1.0.0",
		Description: "Create or update contacts, add notes and create deals in HubSpot CRM.",
		Auth: connectors.AuthSpec{Kind: connectors.AuthToken, Fields: []connectors.Field{
			{Key: "access_token", Label: "Private app access token", Type: connectors.TypeString, Required: true, Secret: true,
				Help: "pat-… from Settings › Integrations › Private apps, with the scopes crm.objects.contacts.read, crm.objects.contacts.write and crm.objects.deals.write"},
			{Key: "base_url", Label: "API base URL", Type: connectors.TypeString, Default: DefaultBaseURL,
				Help: "Change only for a HubSpot-compatible test server"},
		}, Test: "Reads one contact (GET /crm/v3/objects/contacts?limit=1); changes nothing."},
		Actions: []connectors.ActionSpec{
			{
				ID: "upsert_contact", Name: "Create or update a contact",
				Description: "Creates the contact with this e-mail address, or updates it if it exists.",
				Input: []connectors.Field{
					{Key: "email", Label: "E-mail", Type: connectors.TypeString, Required: true, Help: "Identifies the contact"},
					{Key: "firstname", Label: "First name", Type: connectors.TypeString},
					{Key: "lastname", Label: "Last name", Type: connectors.TypeString},
					{Key: "phone", Label: "Phone", Type: connectors.TypeString},
					{Key: "company", Label: "Company", Type: connectors.TypeString},
					{Key: "properties", Label: "Other properties", Type: connectors.TypeObject,
						Help: "Any other contact property by its internal name, e.g. {\"lifecyclestage\": \"lead\"}"},
				},
				SampleOutput: map[string]any{"id": "51", "created": true, "action": "created",
					"properties": map[string]any{"email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace"},
					"created_at": "2024-05-01T10:00:00Z", "updated_at": "2024-05-01T10:00:00Z"},
			},
			{
				ID: "add_note", Name: "Add a note to a contact",
				Description: "Logs a note on a contact's timeline.",
				Input: []connectors.Field{
					{Key: "contact_id", Label: "Contact ID", Type: connectors.TypeString, Help: "HubSpot record id; or give the e-mail instead"},
					{Key: "email", Label: "Contact e-mail", Type: connectors.TypeString, Help: "Used to find the contact when no id is given"},
					{Key: "body", Label: "Note", Type: connectors.TypeText, Required: true, Help: "Text or simple HTML, up to 65,536 characters"},
					{Key: "timestamp", Label: "Timestamp", Type: connectors.TypeString,
						Help: "Where the note sits on the timeline: RFC 3339 time or Unix milliseconds; default now"},
				},
				SampleOutput: map[string]any{"id": "9001", "contact_id": "51",
					"properties": map[string]any{"hs_note_body": "Called about the renewal", "hs_timestamp": "2024-05-01T10:00:00Z"},
					"created_at": "2024-05-01T10:00:00Z"},
			},
			{
				ID: "create_deal", Name: "Create a deal",
				Description: "Creates a deal, optionally associated with a contact.",
				Input: []connectors.Field{
					{Key: "dealname", Label: "Deal name", Type: connectors.TypeString, Required: true},
					{Key: "amount", Label: "Amount", Type: connectors.TypeNumber},
					{Key: "pipeline", Label: "Pipeline", Type: connectors.TypeString, Default: "default", Help: "Pipeline id"},
					{Key: "dealstage", Label: "Deal stage", Type: connectors.TypeString, Required: true,
						Help: "Stage id, e.g. appointmentscheduled in the default pipeline"},
					{Key: "closedate", Label: "Close date", Type: connectors.TypeString, Help: "RFC 3339 date or time"},
					{Key: "contact_id", Label: "Contact ID", Type: connectors.TypeString, Help: "Associate the deal with this contact"},
					{Key: "contact_email", Label: "Contact e-mail", Type: connectors.TypeString, Help: "Associate with the contact that has this e-mail"},
					{Key: "properties", Label: "Other properties", Type: connectors.TypeObject, Help: "Any other deal property by its internal name"},
				},
				SampleOutput: map[string]any{"id": "7301", "contact_id": "51",
					"properties": map[string]any{"dealname": "Acme renewal", "amount": "1500", "pipeline": "default", "dealstage": "appointmentscheduled"},
					"created_at": "2024-05-01T10:00:00Z"},
			},
		},
	}
}

// Execute runs one action.
func (c Connector) Execute(ctx context.Context, req connectors.Request) (connectors.Result, error) {
	api, err := newAPI(req)
	if err != nil {
		return connectors.Result{}, err
	}
	switch req.Action {
	case "upsert_contact":
		return upsertContact(ctx, api, req.Input)
	case "add_note":
		return c.addNote(ctx, api, req.Input)
	case "create_deal":
		return createDeal(ctx, api, req.Input)
	default:
		return connectors.Result{}, connectors.BadInput(fmt.Errorf("unknown action %q", req.Action))
	}
}

// TestConnection reads one contact: the cheapest call that needs both a valid
// token and the contacts read scope.
func (Connector) TestConnection(ctx context.Context, req connectors.Request) error {
	api, err := newAPI(req)
	if err != nil {
		return err
	}
	_, err = api.call(ctx, http.MethodGet, "/crm/v3/objects/contacts", url.Values{"limit": {"1"}}, nil)
	return err
}

// object is a CRM record as HubSpot returns it.
type object struct {
	ID         string         `json:"id"`
	Properties map[string]any `json:"properties"`
	CreatedAt  string         `json:"createdAt"`
	UpdatedAt  string         `json:"updatedAt"`
	Archived   bool           `json:"archived"`
	New        *bool          `json:"new,omitempty"`
}

func upsertContact(ctx context.Context, api *api, in map[string]any) (connectors.Result, error) {
	email := strings.TrimSpace(str(in["email"]))
	if email == "" {
		return connectors.Result{}, connectors.BadInput(errors.New("email is required"))
	}
	props, err := properties(in, "firstname", "lastname", "phone", "company")
	if err != nil {
		return connectors.Result{}, err
	}
	if _, ok := props["email"]; ok {
		return connectors.Result{}, connectors.BadInput(errors.New("properties.email: set the e-mail with the email input"))
	}
	// The documented batch upsert with email as the unique property: one
	// call creates the contact or updates the one that has this address.
	body := map[string]any{"inputs": []any{map[string]any{"idProperty": "email", "id": email, "properties": props}}}
	raw, err := api.call(ctx, http.MethodPost, "/crm/v3/objects/contacts/batch/upsert", nil, body)
	var conflict *apiError
	if errors.As(err, &conflict) && conflict.Category == "CONFLICT" {
		// Another writer created the contact between HubSpot's lookup and its
		// insert (or the address is another contact's secondary e-mail):
		// the contact exists, so update it instead of failing the step.
		return updateContact(ctx, api, email, conflict.Message, props)
	}
	if err != nil {
		return connectors.Result{}, err
	}
	var answer struct {
		Status  string     `json:"status"`
		Results []object   `json:"results"`
		Errors  []apiError `json:"errors"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		return connectors.Result{}, connectors.Retryable(errors.New("HubSpot answered the upsert with an unreadable body"))
	}
	if len(answer.Results) == 0 {
		if len(answer.Errors) > 0 {
			e := answer.Errors[0]
			if e.Category == "CONFLICT" {
				return updateContact(ctx, api, email, e.Message, props)
			}
			return connectors.Result{}, e.classify(0, nil)
		}
		return connectors.Result{}, connectors.Retryable(fmt.Errorf("HubSpot answered the upsert with no result (status %s)", answer.Status))
	}
	r := answer.Results[0]
	created := r.New != nil && *r.New
	return connectors.Result{Output: contactOutput(r, created)}, nil
}

var existingID = regexp.MustCompile(`Existing ID: ?(\d+)`)

// updateContact patches the contact a conflict named, or the one with this
// e-mail when the message names none.
func updateContact(ctx context.Context, api *api, email, conflictMsg string, props map[string]any) (connectors.Result, error) {
	path, query := "/crm/v3/objects/contacts/"+url.PathEscape(email), url.Values{"idProperty": {"email"}}
	if m := existingID.FindStringSubmatch(conflictMsg); m != nil {
		path, query = "/crm/v3/objects/contacts/"+m[1], nil
	}
	raw, err := api.call(ctx, http.MethodPatch, path, query, map[string]any{"properties": props})
	if err != nil {
		return connectors.Result{}, err
	}
	var o object
	if err := json.Unmarshal(raw, &o); err != nil || o.ID == "" {
		return connectors.Result{}, connectors.Retryable(errors.New("HubSpot answered the contact update with an unreadable body"))
	}
	return connectors.Result{Output: contactOutput(o, false)}, nil
}

func contactOutput(o object, created bool) map[string]any {
	action := "updated"
	if created {
		action = "created"
	}
	return map[string]any{"id": o.ID, "created": created, "action": action, "properties": o.Properties,
		"created_at": o.CreatedAt, "updated_at": o.UpdatedAt}
}

// findContact returns the id of the contact with this e-mail. A read by
// unique property is consistent right after a write, unlike the search API
// whose index lags, so a note can follow an upsert in the same workflow.
func findContact(ctx context.Context, api *api, email string) (string, error) {
	raw, err := api.call(ctx, http.MethodGet, "/crm/v3/objects/contacts/"+url.PathEscape(email),
		url.Values{"idProperty": {"email"}, "properties": {"email"}}, nil)
	var ae *apiError
	if errors.As(err, &ae) && ae.HTTPStatus == http.StatusNotFound {
		return "", connectors.Permanent(fmt.Errorf("no HubSpot contact has the e-mail %s", email))
	}
	if err != nil {
		return "", err
	}
	var o object
	if err := json.Unmarshal(raw, &o); err != nil || o.ID == "" {
		return "", connectors.Retryable(errors.New("HubSpot answered the contact lookup with an unreadable body"))
	}
	return o.ID, nil
}

func contactID(ctx context.Context, api *api, in map[string]any, idKey, emailKey string) (string, error) {
	if id := strings.TrimSpace(str(in[idKey])); id != "" {
		return id, nil
	}
	if email := strings.TrimSpace(str(in[emailKey])); email != "" {
		return findContact(ctx, api, email)
	}
	return "", nil
}

func association(contactID string, typeID int) []any {
	return []any{map[string]any{
		"to":    map[string]any{"id": contactID},
		"types": []any{map[string]any{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": typeID}},
	}}
}

func (c Connector) addNote(ctx context.Context, api *api, in map[string]any) (connectors.Result, error) {
	body := str(in["body"])
	if body == "" {
		return connectors.Result{}, connectors.BadInput(errors.New("body is required"))
	}
	ts, err := c.timestamp(in["timestamp"])
	if err != nil {
		return connectors.Result{}, err
	}
	id, err := contactID(ctx, api, in, "contact_id", "email")
	if err != nil {
		return connectors.Result{}, err
	}
	if id == "" {
		return connectors.Result{}, connectors.BadInput(errors.New("contact_id or email is required"))
	}
	req := map[string]any{
		"properties":   map[string]any{"hs_note_body": body, "hs_timestamp": ts},
		"associations": association(id, assocNoteToContact),
	}
	o, err := create(ctx, api, "/crm/v3/objects/notes", req)
	if err != nil {
		return connectors.Result{}, err
	}
	return connectors.Result{Output: map[string]any{"id": o.ID, "contact_id": id, "properties": o.Properties, "created_at": o.CreatedAt}}, nil
}

// timestamp reads hs_timestamp: RFC 3339 or Unix milliseconds, default now.
func (c Connector) timestamp(v any) (string, error) {
	s := strings.TrimSpace(connectors.Stringify(v))
	if s == "" {
		now := time.Now
		if c.Now != nil {
			now = c.Now
		}
		return now().UTC().Format("2006-01-02T15:04:05.000Z"), nil
	}
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return s, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return "", connectors.BadInput(fmt.Errorf("timestamp %q: want an RFC 3339 time or Unix milliseconds", s))
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z"), nil
}

func createDeal(ctx context.Context, api *api, in map[string]any) (connectors.Result, error) {
	props, err := properties(in, "dealname", "amount", "pipeline", "dealstage", "closedate")
	if err != nil {
		return connectors.Result{}, err
	}
	if props["dealname"] == nil || props["dealname"] == "" {
		return connectors.Result{}, connectors.BadInput(errors.New("dealname is required"))
	}
	if props["pipeline"] == nil {
		props["pipeline"] = "default"
	}
	id, err := contactID(ctx, api, in, "contact_id", "contact_email")
	if err != nil {
		return connectors.Result{}, err
	}
	req := map[string]any{"properties": props}
	if id != "" {
		req["associations"] = association(id, assocDealToContact)
	}
	o, err := create(ctx, api, "/crm/v3/objects/deals", req)
	if err != nil {
		return connectors.Result{}, err
	}
	out := map[string]any{"id": o.ID, "properties": o.Properties, "created_at": o.CreatedAt}
	if id != "" {
		out["contact_id"] = id
	}
	return connectors.Result{Output: out}, nil
}

func create(ctx context.Context, api *api, path string, body map[string]any) (object, error) {
	raw, err := api.call(ctx, http.MethodPost, path, nil, body)
	if err != nil {
		return object{}, err
	}
	var o object
	if err := json.Unmarshal(raw, &o); err != nil || o.ID == "" {
		return object{}, connectors.Retryable(fmt.Errorf("HubSpot answered POST %s with an unreadable body", path))
	}
	return o, nil
}

// properties gathers the named inputs and the free-form "properties" object
// into HubSpot's string-valued property map; named inputs win.
func properties(in map[string]any, named ...string) (map[string]any, error) {
	props := map[string]any{}
	if extra, ok := in["properties"].(map[string]any); ok {
		for k, v := range extra {
			switch v.(type) {
			case map[string]any, []any:
				return nil, connectors.BadInput(fmt.Errorf("properties.%s: want a text, number or boolean value", k))
			}
			props[k] = connectors.Stringify(v)
		}
	}
	for _, k := range named {
		if v, ok := in[k]; ok && v != nil && v != "" {
			props[k] = connectors.Stringify(v)
		}
	}
	return props, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// api calls HubSpot with the connection's token.
type api struct {
	client *http.Client
	base   string
	token  string
}

func newAPI(req connectors.Request) (*api, error) {
	token := strings.TrimSpace(req.Credentials["access_token"])
	if token == "" {
		return nil, connectors.BadInput(errors.New("the HubSpot connection needs a private app access token"))
	}
	base, ok := connectors.BaseURL(req.Credentials["base_url"], DefaultBaseURL)
	if !ok {
		return nil, connectors.BadInput(fmt.Errorf("base_url %q: want an https:// address", req.Credentials["base_url"]))
	}
	return &api{client: req.HTTP, base: base.String(), token: token}, nil
}

// call sends one request and returns the body of a 2xx answer; any other
// answer becomes an error of the right kind.
func (a *api) call(ctx context.Context, method, path string, query url.Values, body any) ([]byte, error) {
	u := a.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return nil, connectors.BadInput(err)
		}
	}
	hreq, err := connectors.NewRequest(ctx, method, u, raw, "application/json")
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Authorization", "Bearer "+a.token)
	hreq.Header.Set("Accept", "application/json")
	resp, raw, err := connectors.Exchange(a.client, hreq, "HubSpot ("+method+" "+path+")")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return raw, nil
	}
	var e apiError
	_ = json.Unmarshal(raw, &e)
	return nil, e.classify(resp.StatusCode, resp.Header)
}

// apiError is HubSpot's error body: {"status":"error","message":…,
// "category":"VALIDATION_ERROR","correlationId":…}; rate limits carry
// errorType RATE_LIMIT and policyName instead of a category.
type apiError struct {
	HTTPStatus    int    `json:"-"`
	Status        string `json:"status"`
	Message       string `json:"message"`
	Category      string `json:"category"`
	SubCategory   any    `json:"subCategory"`
	CorrelationID string `json:"correlationId"`
	ErrorType     string `json:"errorType"`
	PolicyName    string `json:"policyName"`
	Errors        []struct {
		Message string `json:"message"`
	} `json:"errors"`
}

func (e *apiError) Error() string {
	name := e.Category
	if name == "" {
		name = e.ErrorType
	}
	var b strings.Builder
	b.WriteString("HubSpot")
	if name != "" {
		b.WriteString(" " + name)
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, " (%d)", e.HTTPStatus)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	for i, d := range e.Errors {
		if i == 3 {
			break
		}
		if d.Message != "" && d.Message != e.Message {
			b.WriteString("; " + d.Message)
		}
	}
	if e.CorrelationID != "" {
		b.WriteString(" (correlationId " + e.CorrelationID + ")")
	}
	return b.String()
}

// classify gives the error its kind from the HTTP status and category.
func (e apiError) classify(status int, h http.Header) error {
	if status != 0 {
		e.HTTPStatus = status
	}
	err := &e
	switch {
	case status == http.StatusTooManyRequests || e.Category == "RATE_LIMITS" || e.ErrorType == "RATE_LIMIT":
		return connectors.RateLimited(retryAfter(h, e.PolicyName, time.Now()), err)
	case status == http.StatusUnauthorized:
		return connectors.Permanent(fmt.Errorf("token invalid or lacks scopes: %w", err))
	case status == http.StatusForbidden:
		return connectors.Permanent(fmt.Errorf("the private app lacks a scope this action needs: %w", err))
	case status >= 500:
		return connectors.Retryable(err)
	case e.Category == "VALIDATION_ERROR" || e.Category == "INVALID_EMAIL" || e.Category == "PROPERTY_DOESNT_EXIST":
		return connectors.BadInput(err)
	default:
		return connectors.Permanent(err)
	}
}

// retryAfter reads how long to wait: Retry-After when sent; the daily
// policy (or no daily requests left) waits dailyLimitWait; the rolling window
// (X-HubSpot-RateLimit-Interval-Milliseconds) when no requests are left in it;
// one second for the secondly policy; 0 when unknown.
func retryAfter(h http.Header, policy string, now time.Time) time.Duration {
	if h == nil {
		h = http.Header{}
	}
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
			return time.Duration(secs) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil && t.After(now) {
			return t.Sub(now)
		}
	}
	if policy == "DAILY" || h.Get("X-HubSpot-RateLimit-Daily-Remaining") == "0" {
		return dailyLimitWait
	}
	if ms, err := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Interval-Milliseconds")); err == nil && ms > 0 {
		if rem := h.Get("X-HubSpot-RateLimit-Remaining"); rem == "" || rem == "0" {
			return time.Duration(ms) * time.Millisecond
		}
	}
	switch policy {
	case "SECONDLY":
		return time.Second
	case "TEN_SECONDLY_ROLLING":
		return 10 * time.Second
	}
	return 0
}
