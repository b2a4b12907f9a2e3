package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/api"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/connections"
	"github.com/switchboard-dev/switchboard/internal/oauth"
	"github.com/switchboard-dev/switchboard/internal/oauth/oauthtest"
	"github.com/switchboard-dev/switchboard/internal/secrets"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// setupOAuth is setup with connections and OAuth2 wired in.
func setupOAuth(t *testing.T, dialect string) (*bundle, *oauthtest.Provider) {
	t.Helper()
	st := storetest.Open(t, dialect)
	log := slog.New(slog.DiscardHandler)
	ring, err := secrets.NewKeyring("k1", map[string][]byte{"k1": []byte("0123456789abcdef0123456789abcdef")})
	storetest.Must(t, err, "keyring")
	var mgr *oauth.Manager
	conns := connections.New(st, connectors.Default, ring, connections.WithOAuth(func(c *connections.Service) connections.OAuthTokens {
		mgr = oauth.New(st, c, oauth.Options{PublicURL: "http://sb.test", Logger: log})
		return mgr
	}))
	authSvc := auth.New(st, auth.Options{})
	h := api.New(api.Deps{Store: st, Registry: connectors.Default, Connections: conns, OAuth: mgr,
		Auth: authSvc, PublicURL: "http://sb.test", Logger: log})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	_, key, err := authSvc.NewAPIKey(context.Background(), "tests", auth.RoleAdmin, "test")
	storetest.Must(t, err, "API key")
	return &bundle{st: st, srv: srv, key: key, auth: authSvc, handler: h}, oauthtest.New(t, "client-1", "s3cret-client")
}

// browser is a signed-in user's browser: cookies, CSRF header on changes,
// redirects not followed.
type browser struct {
	t      *testing.T
	client *http.Client
	csrf   string
}

func signIn(t *testing.T, b *bundle) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	br := &browser{t: t, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	r := br.send("POST", b.srv.URL+"/api/v1/auth/setup", `{"email":"ada@example.com","password":"a long enough password"}`)
	if r.status != 201 {
		t.Fatalf("setup: %d %s", r.status, r.raw)
	}
	u, _ := url.Parse(b.srv.URL)
	for _, c := range jar.Cookies(u) {
		if c.Name == "sb_csrf" {
			br.csrf = c.Value
		}
	}
	return br
}

func (br *browser) send(method, u, body string) response {
	br.t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != "GET" && br.csrf != "" {
		req.Header.Set("X-CSRF-Token", br.csrf)
	}
	resp, err := br.client.Do(req)
	if err != nil {
		br.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

// consentAt plays the browser at the provider and returns the callback path
// on our server the provider sends it to.
func (br *browser) consentAt(authorizeURL string) string {
	br.t.Helper()
	r := br.send("GET", authorizeURL, "")
	if r.status != http.StatusFound {
		br.t.Fatalf("consent page: %d %s", r.status, r.raw)
	}
	back := r.header.Get("Location")
	path, ok := strings.CutPrefix(back, "http://sb.test")
	if !ok || !strings.HasPrefix(path, "/api/v1/oauth/callback?") {
		br.t.Fatalf("the provider sends the browser to %s", back)
	}
	return path
}

func oauthSettings(p *oauthtest.Provider, grant, secret string) string {
	s, _ := json.Marshal(map[string]string{"client_id": p.ClientID, "client_secret": secret, "auth_url": p.AuthURL(),
		"token_url": p.TokenURL(), "scopes": "crm.read", "grant": grant})
	return string(s)
}

func TestOAuthBrowserFlowThroughTheAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b, prov := setupOAuth(t, dialect)
		br := signIn(t, b)
		var seen []string // every response body, checked for tokens at the end
		keep := func(r response) response { seen = append(seen, r.raw); return r }

		created := keep(b.do(t, "POST", "/api/v1/connections", "application/json",
			`{"name":"crm","connector":"http","oauth2":`+oauthSettings(prov, "authorization_code", "s3cret-client")+`}`))
		if created.status != 201 {
			t.Fatalf("create: %d %s", created.status, created.raw)
		}
		id := created.body["id"].(string)
		o := created.body["oauth"].(map[string]any)
		if o["connected"] != false || o["status"] != "needs_attention" || o["client_secret_set"] != true || o["client_id"] != "client-1" {
			t.Fatalf("oauth view of a new connection: %s", created.raw)
		}

		// The signed-in user starts; the consent URL carries what the provider needs.
		start := keep(br.send("POST", b.srv.URL+"/api/v1/connections/"+id+"/oauth/start", ""))
		if start.status != 200 {
			t.Fatalf("start: %d %s", start.status, start.raw)
		}
		au, _ := url.Parse(start.body["authorize_url"].(string))
		q := au.Query()
		if q.Get("client_id") != "client-1" || q.Get("redirect_uri") != "http://sb.test/api/v1/oauth/callback" ||
			q.Get("state") == "" || q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" || q.Get("scope") != "crm.read" {
			t.Fatalf("authorize URL %s", au)
		}
		callback := br.consentAt(au.String())

		// Without the session the callback is refused by the auth layer.
		if r := b.doAs(t, "", "GET", callback, "", ""); r.status != 401 {
			t.Fatalf("callback without a session: %d", r.status)
		}
		done := keep(br.send("GET", b.srv.URL+callback, ""))
		if done.status != http.StatusSeeOther || done.header.Get("Location") != "/connections?connection="+id+"&oauth=connected" {
			t.Fatalf("callback: %d %s %s", done.status, done.header.Get("Location"), done.raw)
		}
		if tr := prov.LastTokenRequest(); tr.Get("grant_type") != "authorization_code" || tr.Get("code_verifier") == "" {
			t.Fatalf("token request %v", tr)
		}
		again := keep(br.send("GET", b.srv.URL+callback, ""))
		if again.status != 400 || !strings.HasPrefix(again.header.Get("Content-Type"), "text/html") || !strings.Contains(again.raw, "already used") {
			t.Fatalf("reused state: %d %s %s", again.status, again.header.Get("Content-Type"), again.raw)
		}

		got := keep(b.do(t, "GET", "/api/v1/connections/"+id, "", ""))
		o = got.body["oauth"].(map[string]any)
		if o["connected"] != true || o["status"] != "ok" || o["expires_at"] == nil {
			t.Fatalf("after the callback: %s", got.raw)
		}

		// Started with an API key, it cannot be finished by the user's browser.
		byKey := keep(b.do(t, "POST", "/api/v1/connections/"+id+"/oauth/start", "application/json", ""))
		other := keep(br.send("GET", b.srv.URL+br.consentAt(byKey.body["authorize_url"].(string)), ""))
		if other.status != 400 || !strings.Contains(other.raw, "another user") {
			t.Fatalf("callback for someone else's state: %d %s", other.status, other.raw)
		}

		// The provider reports the user declined.
		start = keep(br.send("POST", b.srv.URL+"/api/v1/connections/"+id+"/oauth/start", ""))
		state := mustQuery(t, start.body["authorize_url"].(string)).Get("state")
		denied := keep(br.send("GET", b.srv.URL+"/api/v1/oauth/callback?error=access_denied&state="+url.QueryEscape(state), ""))
		if denied.status != 400 || !strings.Contains(denied.raw, "access_denied") {
			t.Fatalf("declined: %d %s", denied.status, denied.raw)
		}
		if r := b.do(t, "POST", "/api/v1/connections/"+id+"/oauth/connect", "application/json", ""); r.status != 409 {
			t.Fatalf("client-credentials connect on an authorization-code connection: %d %s", r.status, r.raw)
		}

		// Listing, the audit log: no token anywhere.
		keep(b.do(t, "GET", "/api/v1/connections", "", ""))
		audit := keep(b.do(t, "GET", "/api/v1/audit", "", ""))
		if !strings.Contains(audit.raw, `"connection.oauth_authorize"`) || !strings.Contains(audit.raw, id) {
			t.Fatalf("audit: %s", audit.raw)
		}
		issued := prov.Issued()
		if len(issued) == 0 {
			t.Fatal("no token was issued")
		}
		for _, raw := range seen {
			for _, secret := range append(issued, "s3cret-client") {
				if strings.Contains(raw, secret) {
					t.Fatalf("a response carries %q: %s", secret, raw)
				}
			}
		}
	})
}

func TestOAuthClientCredentialsThroughTheAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b, prov := setupOAuth(t, dialect)
		created := b.do(t, "POST", "/api/v1/connections", "application/json",
			`{"name":"svc","connector":"http","oauth2":`+oauthSettings(prov, "client_credentials", "wrong-secret")+`}`)
		if created.status != 201 {
			t.Fatalf("create: %d %s", created.status, created.raw)
		}
		id := created.body["id"].(string)
		refused := b.do(t, "POST", "/api/v1/connections/"+id+"/oauth/connect", "application/json", "")
		if refused.status != 502 || !strings.Contains(refused.raw, "invalid_client") {
			t.Fatalf("connect with a wrong secret: %d %s", refused.status, refused.raw)
		}
		got := b.do(t, "GET", "/api/v1/connections/"+id, "", "")
		if o := got.body["oauth"].(map[string]any); o["status"] != "needs_attention" || !strings.Contains(o["error"].(string), "invalid_client") {
			t.Fatalf("after a refused connect: %s", got.raw)
		}
		fixed := b.do(t, "PUT", "/api/v1/connections/"+id, "application/json",
			`{"oauth2":`+oauthSettings(prov, "client_credentials", "s3cret-client")+`}`)
		if fixed.status != 200 {
			t.Fatalf("update: %d %s", fixed.status, fixed.raw)
		}
		ok := b.do(t, "POST", "/api/v1/connections/"+id+"/oauth/connect", "application/json", "")
		if ok.status != 200 {
			t.Fatalf("connect: %d %s", ok.status, ok.raw)
		}
		o := ok.body["oauth"].(map[string]any)
		if o["connected"] != true || o["status"] != "ok" || o["grant"] != "client_credentials" {
			t.Fatalf("connected view: %s", ok.raw)
		}
		if r := b.do(t, "POST", "/api/v1/connections/"+id+"/oauth/start", "application/json", ""); r.status != 409 {
			t.Fatalf("browser flow on a client-credentials connection: %d %s", r.status, r.raw)
		}
		if r := b.do(t, "POST", "/api/v1/connections", "application/json",
			`{"name":"bad","connector":"http","oauth2":{"grant":"implicit"}}`); r.status != 422 || !strings.Contains(r.raw, "oauth2.grant") {
			t.Fatalf("bad settings: %d %s", r.status, r.raw)
		}
		for _, raw := range []string{created.raw, refused.raw, got.raw, fixed.raw, ok.raw} {
			for _, secret := range append(prov.Issued(), "s3cret-client", "wrong-secret") {
				if strings.Contains(raw, secret) {
					t.Fatalf("a response carries %q: %s", secret, raw)
				}
			}
		}
	})
}

func mustQuery(t *testing.T, u string) url.Values {
	t.Helper()
	parsed, err := url.Parse(u)
	storetest.Must(t, err, "URL")
	return parsed.Query()
}
