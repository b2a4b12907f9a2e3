package oauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	_ "github.com/switchboard-dev/switchboard/connectors/http"
	"github.com/switchboard-dev/switchboard/internal/connections"
	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/flows"
	"github.com/switchboard-dev/switchboard/internal/netguard"
	"github.com/switchboard-dev/switchboard/internal/oauth"
	"github.com/switchboard-dev/switchboard/internal/oauth/oauthtest"
	"github.com/switchboard-dev/switchboard/internal/secrets"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/waitfor"
)

const publicURL = "http://sb.test"

// acme is a connector whose connections are OAuth2: its action calls the
// provider's protected resource with the connection's access token.
type acme struct{ after func(token string) }

func (acme) Spec() connectors.Spec {
	return connectors.Spec{ID: "acme", Name: "Acme",
		Auth: connectors.AuthSpec{Kind: connectors.AuthOAuth2, Fields: []connectors.Field{
			{Key: "base_url", Label: "Base URL", Type: connectors.TypeString, Required: true}}},
		Actions: []connectors.ActionSpec{{ID: "me", Name: "Who am I", Input: []connectors.Field{}}}}
}

func (a acme) Execute(ctx context.Context, req connectors.Request) (connectors.Result, error) {
	hreq, _ := http.NewRequestWithContext(ctx, "GET", req.Credentials["base_url"]+"/api/me", nil)
	hreq.Header.Set("Authorization", req.Credentials["token_type"]+" "+req.Credentials["access_token"])
	resp, err := req.HTTP.Do(hreq)
	if err != nil {
		return connectors.Result{}, connectors.Retryable(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return connectors.Result{}, connectors.Permanent(fmt.Errorf("status %d", resp.StatusCode))
	}
	if a.after != nil {
		a.after(req.Credentials["access_token"])
	}
	return connectors.Result{Output: map[string]any{"token_seen": true}}, nil
}

// clock runs with real time plus an offset the test moves.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.offset) }
func (c *clock) Set(d time.Duration) {
	c.mu.Lock()
	c.offset = d
	c.mu.Unlock()
}

// process is what one Switchboard process holds: its own database handle,
// connections service and OAuth2 manager.
type process struct {
	st    *store.Store
	conns *connections.Service
	mgr   *oauth.Manager
}

type env struct {
	process
	opts  store.Options
	reg   *connectors.Registry
	ring  *secrets.Keyring
	prov  *oauthtest.Provider
	clock *clock
}

func setup(t *testing.T, dialect string, connector connectors.Connector) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{opts: storetest.Options(t, dialect), reg: connectors.Default.Clone(), clock: &clock{},
		prov: oauthtest.New(t, "client-1", "s3cret-client")}
	if connector == nil {
		connector = acme{}
	}
	storetest.Must(t, e.reg.Replace(connector), "registering acme")
	ring, err := secrets.NewKeyring("k1", map[string][]byte{"k1": []byte("0123456789abcdef0123456789abcdef")})
	storetest.Must(t, err, "keyring")
	e.ring = ring
	e.process = e.newProcess(t)
	_, err = e.st.Migrate(ctx)
	storetest.Must(t, err, "migrate")
	return e
}

func (e *env) newProcess(t *testing.T) process {
	t.Helper()
	st, err := store.Open(context.Background(), e.opts)
	storetest.Must(t, err, "opening the store")
	t.Cleanup(func() { st.Close() })
	var mgr *oauth.Manager
	conns := connections.New(st, e.reg, e.ring, connections.WithOAuth(func(c *connections.Service) connections.OAuthTokens {
		mgr = oauth.New(st, c, oauth.Options{PublicURL: publicURL, Now: e.clock.Now, Logger: slog.New(slog.DiscardHandler)})
		return mgr
	}))
	return process{st: st, conns: conns, mgr: mgr}
}

func (e *env) settings(grant string) *connections.OAuthConfig {
	return &connections.OAuthConfig{ClientID: e.prov.ClientID, ClientSecret: e.prov.ClientSecret,
		AuthURL: e.prov.AuthURL(), TokenURL: e.prov.TokenURL(), Scopes: "contacts.read contacts.write", Grant: grant}
}

func (e *env) create(t *testing.T, grant string) *connections.View {
	t.Helper()
	v, err := e.conns.Create(context.Background(), connections.Input{Name: "acme", Connector: "acme",
		Fields: map[string]string{"base_url": e.prov.URL}, OAuth2: e.settings(grant)})
	storetest.Must(t, err, "creating the connection")
	return v
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// consent plays the browser at the provider's consent page and returns where
// the provider sends it back.
func consent(t *testing.T, authorizeURL string) *url.URL {
	t.Helper()
	resp, err := noRedirects.Get(authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("consent page answered %d: %s", resp.StatusCode, body)
	}
	back, err := url.Parse(resp.Header.Get("Location"))
	storetest.Must(t, err, "redirect")
	return back
}

func (e *env) authorize(t *testing.T, id, user string) {
	t.Helper()
	ctx := context.Background()
	u, err := e.mgr.Start(ctx, id, user)
	storetest.Must(t, err, "start")
	back := consent(t, u)
	got, err := e.mgr.Callback(ctx, oauth.CallbackParams{State: back.Query().Get("state"), Code: back.Query().Get("code")}, user)
	storetest.Must(t, err, "callback")
	if got != id {
		t.Fatalf("callback completed connection %s, want %s", got, id)
	}
}

func TestAuthorizationCodeWithPKCEAndSingleUseState(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := setup(t, dialect, nil)
		v := e.create(t, connections.GrantAuthorizationCode)
		if v.OAuth == nil || v.OAuth.Connected || v.OAuth.Status != connections.OAuthNeedsAttention || !v.OAuth.ClientSecretSet {
			t.Fatalf("a new connection's oauth view: %+v", v.OAuth)
		}
		if _, err := e.conns.Credentials(ctx, "acme", "acme"); !errors.Is(err, oauth.ErrNeedsReconnect) {
			t.Fatalf("credentials before authorization: %v", err)
		}

		authorizeURL, err := e.mgr.Start(ctx, v.ID, "user-1")
		storetest.Must(t, err, "start")
		u, _ := url.Parse(authorizeURL)
		q := u.Query()
		want := map[string]string{"client_id": "client-1", "redirect_uri": publicURL + "/api/v1/oauth/callback",
			"response_type": "code", "code_challenge_method": "S256", "scope": "contacts.read contacts.write"}
		for k, w := range want {
			if q.Get(k) != w {
				t.Errorf("authorize URL %s = %q, want %q", k, q.Get(k), w)
			}
		}
		if !strings.HasPrefix(authorizeURL, e.prov.AuthURL()+"?") || len(q.Get("state")) < 32 || len(q.Get("code_challenge")) != 43 {
			t.Fatalf("authorize URL %s", authorizeURL)
		}
		back := consent(t, authorizeURL)
		if back.Query().Get("state") != q.Get("state") {
			t.Fatal("the provider did not return the state")
		}
		params := oauth.CallbackParams{State: back.Query().Get("state"), Code: back.Query().Get("code")}

		// Another user cannot complete it, and spends the state doing so.
		if _, err := e.mgr.Callback(ctx, params, "user-2"); !errors.Is(err, oauth.ErrState) || !strings.Contains(err.Error(), "another user") {
			t.Fatalf("callback by another user: %v", err)
		}
		if _, err := e.mgr.Callback(ctx, params, "user-1"); !errors.Is(err, oauth.ErrState) {
			t.Fatalf("reused state: %v", err)
		}

		// The right user, with a fresh state.
		authorizeURL, err = e.mgr.Start(ctx, v.ID, "user-1")
		storetest.Must(t, err, "start")
		back = consent(t, authorizeURL)
		params = oauth.CallbackParams{State: back.Query().Get("state"), Code: back.Query().Get("code")}
		_, err = e.mgr.Callback(ctx, params, "user-1")
		storetest.Must(t, err, "callback")
		// The exchange carried the verifier whose S256 is the challenge (the
		// provider refuses otherwise) and the same redirect_uri.
		tr := e.prov.LastTokenRequest()
		sum := sha256.Sum256([]byte(tr.Get("code_verifier")))
		if tr.Get("grant_type") != "authorization_code" || tr.Get("redirect_uri") != publicURL+"/api/v1/oauth/callback" ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != consentChallenge(t, authorizeURL) {
			t.Fatalf("token request %v", tr)
		}
		if _, err := e.mgr.Callback(ctx, params, "user-1"); !errors.Is(err, oauth.ErrState) || !strings.Contains(err.Error(), "already used") {
			t.Fatalf("state used twice: %v", err)
		}

		creds, err := e.conns.Credentials(ctx, "acme", "acme")
		storetest.Must(t, err, "credentials")
		if !e.prov.Valid(creds["access_token"]) || creds["token_type"] != "Bearer" || creds["base_url"] != e.prov.URL || creds["refresh_token"] != "" {
			t.Fatalf("credentials %v", creds)
		}
		got, _ := e.conns.Get(ctx, v.ID)
		if !got.OAuth.Connected || got.OAuth.Status != connections.OAuthOK || got.OAuth.ExpiresAt == nil {
			t.Fatalf("oauth view after the callback: %+v", got.OAuth)
		}
		// Sealed at rest: neither token nor the client secret is in the row.
		var row string
		storetest.Must(t, e.st.SQLDB().QueryRow(`SELECT fields_sealed || oauth_sealed || coalesce(CAST(public AS TEXT), '') || oauth_error FROM connections`).Scan(&row), "raw row")
		for _, secret := range []string{creds["access_token"], "rt-", "s3cret-client"} {
			if strings.Contains(row, secret) {
				t.Fatalf("%q stored in the clear", secret)
			}
		}
		blob, _ := json.Marshal(got)
		if strings.Contains(string(blob), creds["access_token"]) || strings.Contains(string(blob), "s3cret") || strings.Contains(string(blob), "rt-") {
			t.Fatalf("the view leaks a secret: %s", blob)
		}

		// An expired state is refused.
		authorizeURL, err = e.mgr.Start(ctx, v.ID, "user-1")
		storetest.Must(t, err, "start")
		back = consent(t, authorizeURL)
		e.clock.Set(11 * time.Minute)
		if _, err := e.mgr.Callback(ctx, oauth.CallbackParams{State: back.Query().Get("state"), Code: back.Query().Get("code")}, "user-1"); !errors.Is(err, oauth.ErrState) || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("expired state: %v", err)
		}
		if _, err := e.mgr.Callback(ctx, oauth.CallbackParams{State: "made-up", Code: "x"}, "user-1"); !errors.Is(err, oauth.ErrState) {
			t.Fatalf("unknown state: %v", err)
		}
		if err := e.mgr.Connect(ctx, v.ID); !errors.Is(err, oauth.ErrGrant) {
			t.Fatalf("client-credentials connect on an authorization-code connection: %v", err)
		}
	})
}

func consentChallenge(t *testing.T, authorizeURL string) string {
	u, err := url.Parse(authorizeURL)
	storetest.Must(t, err, "authorize URL")
	return u.Query().Get("code_challenge")
}

func TestRefreshAheadOfExpiryHappensOnceAcrossProcesses(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := setup(t, dialect, nil)
		other := e.newProcess(t) // a second process on the same database
		v := e.create(t, connections.GrantAuthorizationCode)
		e.authorize(t, v.ID, "user-1")
		first, err := e.conns.Credentials(ctx, "acme", "acme")
		storetest.Must(t, err, "credentials")

		// With most of the hour left, no refresh.
		e.clock.Set(30 * time.Minute)
		again, err := other.conns.Credentials(ctx, "acme", "acme")
		storetest.Must(t, err, "credentials")
		if again["access_token"] != first["access_token"] || e.prov.Count("refresh_token") != 0 {
			t.Fatalf("refreshed with 30 minutes left (%d refreshes)", e.prov.Count("refresh_token"))
		}

		// 30 s before expiry, inside the one-minute margin: both processes
		// find the token stale at once; exactly one refreshes.
		e.clock.Set(time.Hour - 30*time.Second)
		e.prov.SetDelay(100 * time.Millisecond)
		e.prov.SetExpiresIn(7200) // fresh by the moved clock
		var arrived sync.WaitGroup
		arrived.Add(2)
		barrier := func() { arrived.Done(); arrived.Wait() }
		oauth.SetBeforeLock(e.mgr, barrier)
		oauth.SetBeforeLock(other.mgr, barrier)
		tokens := make([]string, 2)
		errs := make([]error, 2)
		var done sync.WaitGroup
		for i, p := range []process{e.process, other} {
			done.Add(1)
			go func() {
				defer done.Done()
				creds, err := p.conns.Credentials(ctx, "acme", "acme")
				tokens[i], errs[i] = creds["access_token"], err
			}()
		}
		done.Wait()
		for _, err := range errs {
			storetest.Must(t, err, "concurrent credentials")
		}
		if n := e.prov.Count("refresh_token"); n != 1 {
			t.Fatalf("%d refresh requests, want exactly 1", n)
		}
		if tokens[0] != tokens[1] || tokens[0] == first["access_token"] || !e.prov.Valid(tokens[0]) {
			t.Fatalf("tokens after the refresh: %v (first %s)", tokens, first["access_token"])
		}
		oauth.SetBeforeLock(e.mgr, nil)
		got, _ := e.conns.Get(ctx, v.ID)
		if got.OAuth.ExpiresAt == nil || time.Until(*got.OAuth.ExpiresAt) < 59*time.Minute {
			t.Fatalf("expires_at %v after the refresh", got.OAuth.ExpiresAt)
		}
		// The rotated refresh token was stored: the next refresh works.
		e.clock.Set(2*time.Hour - 10*time.Second)
		third, err := e.conns.Credentials(ctx, "acme", "acme")
		storetest.Must(t, err, "credentials after a second expiry")
		if third["access_token"] == tokens[0] || e.prov.Count("refresh_token") != 2 {
			t.Fatalf("second refresh: %s, %d requests", third["access_token"], e.prov.Count("refresh_token"))
		}
	})
}

func TestFailedRefreshMarksTheConnectionNeedsAttention(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := setup(t, dialect, nil)
		v := e.create(t, connections.GrantAuthorizationCode)
		e.authorize(t, v.ID, "user-1")
		e.prov.RevokeRefreshTokens()
		e.clock.Set(time.Hour - 20*time.Second)
		_, err := e.conns.Credentials(ctx, "acme", "acme")
		if !errors.Is(err, oauth.ErrNeedsReconnect) || !strings.Contains(err.Error(), `connection "acme" needs to be reconnected: invalid_grant`) {
			t.Fatalf("credentials after a refused refresh: %v", err)
		}
		got, _ := e.conns.Get(ctx, v.ID)
		if got.OAuth.Status != connections.OAuthNeedsAttention || !strings.HasPrefix(got.OAuth.Error, "invalid_grant") {
			t.Fatalf("oauth view: %+v", got.OAuth)
		}
		// Later uses fail at once, without asking the provider again.
		if _, err := e.conns.Credentials(ctx, "acme", "acme"); !errors.Is(err, oauth.ErrNeedsReconnect) || e.prov.Count("refresh_token") != 1 {
			t.Fatalf("second use: %v after %d refreshes", err, e.prov.Count("refresh_token"))
		}
		// Reconnecting clears it.
		e.authorize(t, v.ID, "user-1")
		got, _ = e.conns.Get(ctx, v.ID)
		if got.OAuth.Status != connections.OAuthOK || got.OAuth.Error != "" {
			t.Fatalf("after reconnecting: %+v", got.OAuth)
		}
		if _, err := e.conns.Credentials(ctx, "acme", "acme"); err != nil {
			t.Fatalf("credentials after reconnecting: %v", err)
		}
	})
}

func TestTransientRefreshFailureKeepsUsingAnUnexpiredToken(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := setup(t, dialect, nil)
		v := e.create(t, connections.GrantAuthorizationCode)
		e.authorize(t, v.ID, "user-1")
		first, err := e.conns.Credentials(ctx, "acme", "acme")
		storetest.Must(t, err, "credentials")
		e.prov.Close() // the provider is down
		e.clock.Set(time.Hour - 30*time.Second)
		creds, err := e.conns.Credentials(ctx, "acme", "acme")
		if err != nil || creds["access_token"] != first["access_token"] {
			t.Fatalf("with 30 s left and the provider down: %v %v", creds, err)
		}
		e.clock.Set(time.Hour + time.Minute)
		_, err = e.conns.Credentials(ctx, "acme", "acme")
		var te *oauth.TokenError
		if !errors.As(err, &te) || errors.Is(err, oauth.ErrNeedsReconnect) {
			t.Fatalf("expired with the provider down: %v", err)
		}
		got, _ := e.conns.Get(ctx, v.ID)
		if got.OAuth.Status != connections.OAuthOK {
			t.Fatalf("a transient failure marked the connection: %+v", got.OAuth)
		}
	})
}

func TestClientCredentialsConnectAndRenew(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := setup(t, dialect, nil)
		v := e.create(t, connections.GrantClientCredentials)
		if _, err := e.mgr.Start(ctx, v.ID, "user-1"); !errors.Is(err, oauth.ErrGrant) {
			t.Fatalf("browser flow on a client-credentials connection: %v", err)
		}
		storetest.Must(t, e.mgr.Connect(ctx, v.ID), "connect")
		tr := e.prov.LastTokenRequest()
		if tr.Get("grant_type") != "client_credentials" || tr.Get("scope") != "contacts.read contacts.write" {
			t.Fatalf("token request %v", tr)
		}
		got, _ := e.conns.Get(ctx, v.ID)
		if !got.OAuth.Connected || got.OAuth.Status != connections.OAuthOK || got.OAuth.Grant != connections.GrantClientCredentials {
			t.Fatalf("oauth view: %+v", got.OAuth)
		}
		creds, err := e.conns.Credentials(ctx, "acme", "acme")
		storetest.Must(t, err, "credentials")
		if !e.prov.Valid(creds["access_token"]) || e.prov.Count("client_credentials") != 1 {
			t.Fatalf("credentials %v after %d token requests", creds, e.prov.Count("client_credentials"))
		}
		// Near expiry, a new token is fetched with the client's credentials.
		e.clock.Set(time.Hour - 10*time.Second)
		renewed, err := e.conns.Credentials(ctx, "acme", "acme")
		storetest.Must(t, err, "credentials near expiry")
		if renewed["access_token"] == creds["access_token"] || e.prov.Count("client_credentials") != 2 {
			t.Fatalf("not renewed: %v", renewed)
		}

		// A wrong secret: the provider refuses, the connection needs attention;
		// fixing the secret clears it.
		_, err = e.conns.Update(ctx, v.ID, connections.Input{OAuth2: &connections.OAuthConfig{ClientID: "client-1",
			ClientSecret: "wrong", TokenURL: e.prov.TokenURL(), Scopes: "contacts.read contacts.write", Grant: connections.GrantClientCredentials}})
		storetest.Must(t, err, "update")
		e.clock.Set(2*time.Hour - 10*time.Second)
		if _, err := e.conns.Credentials(ctx, "acme", "acme"); !errors.Is(err, oauth.ErrNeedsReconnect) || !strings.Contains(err.Error(), "invalid_client") {
			t.Fatalf("wrong secret: %v", err)
		}
		if err := e.mgr.Connect(ctx, v.ID); err == nil || !strings.Contains(err.Error(), "invalid_client") {
			t.Fatalf("connect with a wrong secret: %v", err)
		}
		got, _ = e.conns.Get(ctx, v.ID)
		if got.OAuth.Status != connections.OAuthNeedsAttention {
			t.Fatalf("oauth view: %+v", got.OAuth)
		}
		_, err = e.conns.Update(ctx, v.ID, connections.Input{OAuth2: &connections.OAuthConfig{ClientID: "client-1",
			ClientSecret: "s3cret-client", TokenURL: e.prov.TokenURL(), Scopes: "contacts.read contacts.write", Grant: connections.GrantClientCredentials}})
		storetest.Must(t, err, "update")
		if _, err := e.conns.Credentials(ctx, "acme", "acme"); err != nil {
			t.Fatalf("after fixing the secret: %v", err)
		}
	})
}

func TestSettingsAreCheckedAndChangingThemDropsTokens(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := setup(t, dialect, nil)
		_, err := e.conns.Create(ctx, connections.Input{Name: "bad", Connector: "acme", Fields: map[string]string{"base_url": "x"},
			OAuth2: &connections.OAuthConfig{AuthURL: "ftp://x", Grant: "password"}})
		var inv *connections.InvalidError
		if !errors.As(err, &inv) || inv.Problems["oauth2.client_id"] == "" || inv.Problems["oauth2.token_url"] == "" || inv.Problems["oauth2.grant"] == "" {
			t.Fatalf("bad settings: %v", err)
		}
		// An oauth2 connector's connection needs settings.
		if _, err := e.conns.Create(ctx, connections.Input{Name: "none", Connector: "acme", Fields: map[string]string{"base_url": "x"}}); !errors.As(err, &inv) {
			t.Fatalf("no settings: %v", err)
		}
		// Any connection may carry OAuth2 settings.
		hv, err := e.conns.Create(ctx, connections.Input{Name: "generic", Connector: "http", OAuth2: e.settings("")})
		storetest.Must(t, err, "generic OAuth2 on the http connector")
		if hv.OAuth == nil || hv.OAuth.Grant != connections.GrantAuthorizationCode {
			t.Fatalf("generic view %+v", hv.OAuth)
		}
		e.authorize(t, hv.ID, "u")
		creds, err := e.conns.Credentials(ctx, "generic", "http")
		storetest.Must(t, err, "generic credentials")
		if !e.prov.Valid(creds["access_token"]) {
			t.Fatalf("generic credentials %v", creds)
		}
		// Renaming keeps the tokens; another client drops them.
		_, err = e.conns.Update(ctx, hv.ID, connections.Input{Name: "generic2"})
		storetest.Must(t, err, "rename")
		if got, _ := e.conns.Get(ctx, hv.ID); !got.OAuth.Connected {
			t.Fatal("renaming dropped the tokens")
		}
		changed := e.settings("")
		changed.ClientID, changed.ClientSecret = "client-2", ""
		up, err := e.conns.Update(ctx, hv.ID, connections.Input{OAuth2: changed})
		storetest.Must(t, err, "change client")
		if up.OAuth.Connected || !up.OAuth.ClientSecretSet {
			t.Fatalf("after changing the client: %+v", up.OAuth)
		}
	})
}

// TestRunUsesTheRefreshedTokenForItsRemainingSteps runs a workflow whose
// first step moves the clock to 30 s before expiry: the second step's
// credentials are refreshed, once, and its request carries the new token.
func TestRunUsesTheRefreshedTokenForItsRemainingSteps(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		var mu sync.Mutex
		var seen []string
		var e *env
		e = setup(t, dialect, acme{after: func(token string) {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, token)
			e.clock.Set(time.Hour - 30*time.Second)
		}})
		v := e.create(t, connections.GrantAuthorizationCode)
		e.authorize(t, v.ID, "user-1")
		_, err := engine.MigrateQueue(ctx, e.st)
		storetest.Must(t, err, "queue")
		policy, _ := netguard.ParseAllowList("127.0.0.1")
		eng, err := engine.New(e.st, engine.Options{Queue: engine.QueueOptions{Workers: 1}, Registry: e.reg,
			Outbound: netguard.Options{Policy: policy}, Credentials: e.conns, Logger: slog.New(slog.DiscardHandler)})
		storetest.Must(t, err, "engine")
		storetest.Must(t, eng.Start(ctx), "start")
		defer eng.Stop(ctx)
		wf, err := flows.New(e.st, e.reg, publicURL).Create(ctx, []byte(`{"schema":"switchboard/v1","name":"two calls","trigger":{"type":"webhook"},
		 "steps":[{"id":"one","type":"action","action":"acme.me","connection":"acme","input":{}},
		          {"id":"two","type":"action","action":"acme.me","connection":"acme","input":{}}]}`), true)
		storetest.Must(t, err, "workflow")
		w, _ := e.st.GetWorkflow(ctx, wf.ID)
		ver, _ := e.st.GetCurrentVersion(ctx, w)
		run := &store.Run{ID: store.NewID(), WorkflowID: w.ID, VersionID: ver.ID, Version: 1, TriggerType: "webhook", Trigger: store.MustJSON(map[string]any{})}
		storetest.Must(t, eng.StartRuns(ctx, func(tx *engine.StartTx) error { return tx.Run(ctx, run) }), "enqueue")
		r := waitRun(t, e.st, run.ID)
		if r.State != store.RunSucceeded {
			steps, _ := e.st.ListStepRuns(ctx, run.ID)
			for _, s := range steps {
				t.Logf("step %s: %s %s", s.StepID, s.State, s.Error)
			}
			t.Fatalf("run ended %s", r.State)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(seen) != 2 || seen[0] == seen[1] || e.prov.Count("refresh_token") != 1 {
			t.Fatalf("tokens seen %v with %d refreshes; want the second step to use a refreshed token", seen, e.prov.Count("refresh_token"))
		}
	})
}

// TestRunStepFailsWhenTheConnectionNeedsReconnecting: the step's error names
// the connection and the provider's reason.
func TestRunStepFailsWhenTheConnectionNeedsReconnecting(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := setup(t, dialect, nil)
		v := e.create(t, connections.GrantAuthorizationCode)
		e.authorize(t, v.ID, "user-1")
		e.prov.RevokeRefreshTokens()
		e.clock.Set(time.Hour)
		_, err := engine.MigrateQueue(ctx, e.st)
		storetest.Must(t, err, "queue")
		policy, _ := netguard.ParseAllowList("127.0.0.1")
		eng, err := engine.New(e.st, engine.Options{Queue: engine.QueueOptions{Workers: 1}, Registry: e.reg,
			Outbound: netguard.Options{Policy: policy}, Credentials: e.conns, Logger: slog.New(slog.DiscardHandler)})
		storetest.Must(t, err, "engine")
		storetest.Must(t, eng.Start(ctx), "start")
		defer eng.Stop(ctx)
		wf, err := flows.New(e.st, e.reg, publicURL).Create(ctx, []byte(`{"schema":"switchboard/v1","name":"one call","trigger":{"type":"webhook"},
		 "steps":[{"id":"one","type":"action","action":"acme.me","connection":"acme","input":{},
		           "retry":{"max_attempts":5,"initial":"1s"}}]}`), true)
		storetest.Must(t, err, "workflow")
		w, _ := e.st.GetWorkflow(ctx, wf.ID)
		ver, _ := e.st.GetCurrentVersion(ctx, w)
		run := &store.Run{ID: store.NewID(), WorkflowID: w.ID, VersionID: ver.ID, Version: 1, TriggerType: "webhook", Trigger: store.MustJSON(map[string]any{})}
		storetest.Must(t, eng.StartRuns(ctx, func(tx *engine.StartTx) error { return tx.Run(ctx, run) }), "enqueue")
		if r := waitRun(t, e.st, run.ID); r.State != store.RunFailed {
			t.Fatalf("run ended %s", r.State)
		}
		steps, _ := e.st.ListStepRuns(ctx, run.ID)
		if len(steps) != 1 || !strings.Contains(steps[0].Error, `connection "acme" needs to be reconnected: invalid_grant`) || steps[0].Attempts != 1 {
			t.Fatalf("steps %+v", steps)
		}
	})
}

// waitRun waits for the run to succeed or fail and returns it.
func waitRun(t *testing.T, st *store.Store, id string) *store.Run {
	t.Helper()
	var r *store.Run
	waitfor.Until(t, 20*time.Second, "run "+id+" to finish", func() bool {
		r, _ = st.GetRun(context.Background(), id)
		return r != nil && (r.State == store.RunSucceeded || r.State == store.RunFailed)
	})
	return r
}
