package teams

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/connectors/connectortest"
)

// Paths and queries shaped like the real URLs. The Workflows signature and
// the classic webhook's ids are the secrets no error may contain.
const (
	classicPath    = "/webhookb2/0b9f-guid@72f9-tenant/IncomingWebhook/5c1fSECRETID/9a0e-owner"
	workflowsPath  = "/workflows/4f2cWORKFLOWID/triggers/manual/paths/invoke"
	workflowsQuery = "api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=SIGSECRETabc123"
)

// receiver answers like a Teams webhook and checks what Microsoft documents:
// POST, application/json, the URL exactly as given (query and signature
// untouched), and a JSON body.
type receiver struct {
	t      *testing.T
	path   string
	query  string
	bodies []any
	status int
	header http.Header
	answer string
}

func (f *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		f.t.Errorf("method %s, want POST", r.Method)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("Content-Type %q, want application/json", ct)
	}
	if r.URL.Path != f.path || r.URL.RawQuery != f.query {
		f.t.Errorf("URL %s?%s, want %s?%s", r.URL.Path, r.URL.RawQuery, f.path, f.query)
	}
	raw, _ := io.ReadAll(r.Body)
	var body any
	if err := json.Unmarshal(raw, &body); err != nil {
		f.t.Errorf("body is not JSON: %s", raw)
	}
	f.bodies = append(f.bodies, body)
	for k, v := range f.header {
		w.Header()[k] = v
	}
	w.WriteHeader(f.status)
	io.WriteString(w, f.answer)
}

func serve(t *testing.T, f *receiver) string {
	t.Helper()
	f.t = t
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	u := srv.URL + f.path
	if f.query != "" {
		u += "?" + f.query
	}
	return u
}

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON in test: %v", err)
	}
	return v
}

func TestPostMessageSendsTheBodyTeamsDocuments(t *testing.T) {
	connectortest.CheckSpec(t, Connector{})
	card := map[string]any{"type": "AdaptiveCard", "version": "1.5", "body": []any{map[string]any{"type": "TextBlock", "text": "Order 42"}}}
	cardJSON := `{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"Order 42"}]}`
	attach := func(content string) string {
		return `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","contentUrl":null,"content":` + content + `}]}`
	}
	cases := []struct {
		name       string
		path       string
		query      string
		kind       string
		input      map[string]any
		status     int
		answer     string
		wantBody   string
		wantKind   string
		wantStatus int
	}{
		{"classic webhook, text", classicPath, "", "", map[string]any{"text": "Deploy **finished**"},
			200, "1", `{"text":"Deploy **finished**"}`, KindIncomingWebhook, 200},
		{"classic webhook, adaptive card", classicPath, "", "", map[string]any{"format": "adaptive_card", "card": card},
			200, "1", attach(cardJSON), KindIncomingWebhook, 200},
		{"workflows, adaptive card, format inferred", workflowsPath, workflowsQuery, "", map[string]any{"card": card},
			202, "", attach(cardJSON), KindWorkflows, 202},
		{"workflows, text becomes a one-block card", workflowsPath, workflowsQuery, "", map[string]any{"format": "text", "text": "Deploy finished"},
			202, "", attach(`{"type":"AdaptiveCard","$schema":"http://adaptivecards.io/schemas/adaptive-card.json","version":"1.4","body":[{"type":"TextBlock","text":"Deploy finished","wrap":true}]}`),
			KindWorkflows, 202},
		{"card type and version filled in", workflowsPath, workflowsQuery, KindAuto, map[string]any{"card": map[string]any{"body": []any{}}},
			202, "", attach(`{"type":"AdaptiveCard","version":"1.4","body":[]}`), KindWorkflows, 202},
		{"webhook type set by hand overrides detection", "/hooks/teams", "", KindIncomingWebhook, map[string]any{"text": "hi"},
			200, "1", `{"text":"hi"}`, KindIncomingWebhook, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &receiver{path: c.path, query: c.query, status: c.status, answer: c.answer}
			creds := map[string]string{"webhook_url": serve(t, f)}
			if c.kind != "" {
				creds["webhook_type"] = c.kind
			}
			res, err := connectortest.Run(context.Background(), Connector{}, "post_message", c.input, creds, http.DefaultClient)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.bodies) != 1 || !reflect.DeepEqual(f.bodies[0], decode(t, c.wantBody)) {
				got, _ := json.Marshal(f.bodies)
				t.Fatalf("body %s\nwant %s", got, c.wantBody)
			}
			out := res.Output.(map[string]any)
			if out["ok"] != true || out["status"] != c.wantStatus || out["webhook_type"] != c.wantKind {
				t.Fatalf("output %v", out)
			}
		})
	}
}

func TestTeamsErrorsMapToKindsWithoutLeakingTheURL(t *testing.T) {
	cases := []struct {
		name    string
		path    string
		query   string
		status  int
		header  http.Header
		answer  string
		kind    connectors.ErrorKind
		after   time.Duration
		mention string
	}{
		{"classic bad payload", classicPath, "", 400, nil, "Summary or Text is required.",
			connectors.KindPermanent, 0, "Summary or Text is required."},
		{"classic throttled behind a 200", classicPath, "", 200, nil,
			"Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 429 with ContextId tcid=0,server=msgapi-production-eus-azsc2-4-170,cv=deadbeef.0",
			connectors.KindRateLimited, 0, "HTTP error 429"},
		{"classic too large behind a 200", classicPath, "", 200, nil,
			"Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 413 with ContextId tcid=0",
			connectors.KindPermanent, 0, "HTTP error 413"},
		{"classic server error behind a 200", classicPath, "", 200, nil,
			"Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 500 with ContextId tcid=0",
			connectors.KindRetryable, 0, "HTTP error 500"},
		{"classic connection failure behind a 200", classicPath, "", 200, nil,
			"System.Net.Http.HttpRequestException: Error while copying content to a stream.",
			connectors.KindRetryable, 0, "HttpRequestException"},
		{"classic 429", classicPath, "", 429, http.Header{"Retry-After": {"30"}}, "",
			connectors.KindRateLimited, 30 * time.Second, "429"},
		{"workflows throttled", workflowsPath, workflowsQuery, 429, http.Header{"Retry-After": {"12"}, "Content-Type": {"application/json"}},
			`{"error":{"code":"WorkflowRequestsThrottled","message":"Number of requests exceeded the limit of 100 over time window of 00:00:05."}}`,
			connectors.KindRateLimited, 12 * time.Second, "WorkflowRequestsThrottled"},
		{"workflows schema mismatch", workflowsPath, workflowsQuery, 400, http.Header{"Content-Type": {"application/json"}},
			`{"error":{"code":"TriggerInputSchemaMismatch","message":"The input body for trigger 'manual' of type 'Request' did not match its schema definition."}}`,
			connectors.KindPermanent, 0, "TriggerInputSchemaMismatch"},
		{"workflows bad signature echoes the URL", workflowsPath, workflowsQuery, 401, http.Header{"Content-Type": {"application/json"}},
			`{"error":{"code":"DirectApiInvalidAuthorizationSignature","message":"The provided request signature SIGSECRETabc123 for ` + workflowsPath + ` is not valid."}}`,
			connectors.KindPermanent, 0, "DirectApiInvalidAuthorizationSignature"},
		{"workflows gone", workflowsPath, workflowsQuery, 404, nil, `{"error":{"code":"WorkflowNotFound","message":"The workflow was not found."}}`,
			connectors.KindPermanent, 0, "WorkflowNotFound"},
		{"gateway down", workflowsPath, workflowsQuery, 502, http.Header{"Content-Type": {"text/html"}}, "<html>Bad Gateway</html>",
			connectors.KindRetryable, 0, "502"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &receiver{path: c.path, query: c.query, status: c.status, header: c.header, answer: c.answer}
			_, err := connectortest.Run(context.Background(), Connector{}, "post_message", map[string]any{"text": "x"},
				map[string]string{"webhook_url": serve(t, f)}, http.DefaultClient)
			if connectors.KindOf(err) != c.kind || connectors.RetryAfterOf(err) != c.after {
				t.Fatalf("err = %v (kind %s, after %s), want %s after %s", err, connectors.KindOf(err), connectors.RetryAfterOf(err), c.kind, c.after)
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Fatalf("error %q does not name Teams' error %q", err, c.mention)
			}
			for _, secret := range []string{"SIGSECRET", "SECRETID", "WORKFLOWID"} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error %q leaks the webhook URL", err)
				}
			}
		})
	}
}

func TestBadInputIsRefusedBeforeCallingTeams(t *testing.T) {
	f := &receiver{path: classicPath, status: 200, answer: "1"}
	hook := serve(t, f)
	cases := []struct {
		name   string
		action string
		creds  map[string]string
		input  map[string]any
	}{
		{"no webhook URL", "post_message", map[string]string{}, map[string]any{"text": "x"}},
		{"not an http URL", "post_message", map[string]string{"webhook_url": "ftp://host/SIGSECRET"}, map[string]any{"text": "x"}},
		{"unparsable URL", "post_message", map[string]string{"webhook_url": "https://ho st/%zzSIGSECRET"}, map[string]any{"text": "x"}},
		{"unknown webhook type", "post_message", map[string]string{"webhook_url": hook, "webhook_type": "o365"}, map[string]any{"text": "x"}},
		{"text format without text", "post_message", map[string]string{"webhook_url": hook}, map[string]any{"format": "text"}},
		{"card format without card", "post_message", map[string]string{"webhook_url": hook}, map[string]any{"format": "adaptive_card", "text": "x"}},
		{"a message instead of a card", "post_message", map[string]string{"webhook_url": hook}, map[string]any{"card": map[string]any{"type": "message"}}},
		{"unknown format", "post_message", map[string]string{"webhook_url": hook}, map[string]any{"format": "markdown", "text": "x"}},
		{"card is not an object", "post_message", map[string]string{"webhook_url": hook}, map[string]any{"card": "{}"}},
		{"over 28 KB", "post_message", map[string]string{"webhook_url": hook}, map[string]any{"text": strings.Repeat("x", MaxMessageBytes)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := connectortest.Run(context.Background(), Connector{}, c.action, c.input, c.creds, http.DefaultClient)
			if connectors.KindOf(err) != connectors.KindBadInput {
				t.Fatalf("err = %v, want bad input", err)
			}
			if strings.Contains(err.Error(), "SIGSECRET") {
				t.Fatalf("error %q leaks the webhook URL", err)
			}
		})
	}
	if _, err := (Connector{}).Execute(context.Background(), connectors.Request{Action: "send", Input: map[string]any{},
		Credentials: map[string]string{"webhook_url": hook}, HTTP: http.DefaultClient}); connectors.KindOf(err) != connectors.KindBadInput {
		t.Fatalf("unknown action: %v", err)
	}
	if len(f.bodies) != 0 {
		t.Fatalf("Teams was called %d times", len(f.bodies))
	}
}

func TestUnreachableWebhookIsRetryableAndHidesTheURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	hook := srv.URL + workflowsPath + "?" + workflowsQuery
	srv.Close()
	_, err := connectortest.Run(context.Background(), Connector{}, "post_message", map[string]any{"text": "x"},
		map[string]string{"webhook_url": hook}, http.DefaultClient)
	if connectors.KindOf(err) != connectors.KindRetryable {
		t.Fatalf("err = %v, want retryable", err)
	}
	if strings.Contains(err.Error(), "SIGSECRET") || strings.Contains(err.Error(), "WORKFLOWID") {
		t.Fatalf("error %q leaks the webhook URL", err)
	}
}

func TestConnectionChecksTheURLShape(t *testing.T) {
	cases := []struct {
		creds map[string]string
		ok    bool
	}{
		{map[string]string{"webhook_url": "https://contoso.webhook.office.com" + classicPath}, true},
		{map[string]string{"webhook_url": "https://prod-12.westus.logic.azure.com:443" + workflowsPath + "?" + workflowsQuery, "webhook_type": KindWorkflows}, true},
		{map[string]string{"webhook_url": "contoso.webhook.office.com/x"}, false},
		{map[string]string{"webhook_url": "https://x.example/hook", "webhook_type": "nope"}, false},
		{map[string]string{}, false},
	}
	// A good URL cannot be tested without posting: it says so plainly
	// (ErrCannotTest, never success); a bad one is refused as bad input.
	for _, c := range cases {
		err := Connector{}.TestConnection(context.Background(), connectors.Request{Credentials: c.creds})
		if errors.Is(err, connectors.ErrCannotTest) != c.ok {
			t.Errorf("%v: err = %v, want cannot-test=%v", c.creds, err, c.ok)
		}
	}
	for host, want := range map[string]string{
		"https://contoso.webhook.office.com/webhookb2/a@b/IncomingWebhook/c/d":                       KindIncomingWebhook,
		"https://outlook.office.com/webhook/a@b/IncomingWebhook/c/d":                                 KindIncomingWebhook,
		"https://prod-12.westus.logic.azure.com:443/workflows/a/triggers/manual/paths/invoke":        KindWorkflows,
		"https://default1a.environment.api.powerplatform.com:443/powerautomate/automations/direct/x": KindWorkflows,
	} {
		u, _ := webhookURL(host)
		if got, _ := webhookKind(KindAuto, u); got != want {
			t.Errorf("%s detected as %s, want %s", host, got, want)
		}
	}
}
