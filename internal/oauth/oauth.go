// Package oauth runs the OAuth2 flows of connections and keeps their access
// tokens fresh.
//
//   - Authorization code with PKCE (S256): Start stores a random state (only
//     its SHA-256), bound to the connection and the user, with the PKCE
//     verifier and a short expiry, and returns the provider's consent URL;
//     Callback takes the state (once), checks it, exchanges the code with the
//     verifier and stores the tokens.
//   - Client credentials: Connect fetches a token directly (AccessToken also
//     fetches one when there is none).
//   - AccessToken returns a token that has more than RefreshBefore left,
//     refreshing it otherwise. A refresh holds the connection's row lock, and
//     re-reads the token under it, so across every process sharing the
//     database one refresh happens at a time and the others use its result.
//     A refresh the provider refuses (invalid_grant, invalid_client…) marks
//     the connection needs_attention; steps then fail with "connection X
//     needs to be reconnected: …" until it is reconnected or its settings
//     change.
//
// Tokens are sealed with the connection (internal/connections) and never
// leave through the API.
package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"

	"github.com/switchboard-dev/switchboard/internal/connections"
	"github.com/switchboard-dev/switchboard/internal/store"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// CallbackPath is where providers send the browser back, under PublicURL.
const CallbackPath = "/api/v1/oauth/callback"

// Options configures a Manager.
type Options struct {
	// PublicURL is the instance's address; the redirect URI is PublicURL +
	// CallbackPath and must be registered with the provider.
	PublicURL string
	// HTTPClient calls token endpoints (the guarded outbound client);
	// nil uses http.DefaultClient.
	HTTPClient *http.Client
	// RefreshBefore is how long before expiry a token is refreshed
	// (default one minute).
	RefreshBefore time.Duration
	// StateTTL is how long a started authorization stays valid (default
	// ten minutes).
	StateTTL time.Duration
	// TokenTimeout bounds one call to a token endpoint, which may run while
	// the connection's row is locked (default 15 seconds).
	TokenTimeout time.Duration
	// Now is the clock; tests may replace it.
	Now    func() time.Time
	Logger *slog.Logger
}

// Manager runs OAuth2 flows for connections.
type Manager struct {
	st    *store.Store
	conns *connections.Service
	o     Options

	beforeLock func() // tests: called between the unlocked read and the lock
}

// New returns a Manager. Build it inside connections.WithOAuth so the
// connections service hands out fresh tokens.
func New(st *store.Store, conns *connections.Service, o Options) *Manager {
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if o.RefreshBefore <= 0 {
		o.RefreshBefore = time.Minute
	}
	if o.StateTTL <= 0 {
		o.StateTTL = 10 * time.Minute
	}
	if o.TokenTimeout <= 0 {
		o.TokenTimeout = 15 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Manager{st: st, conns: conns, o: o}
}

var _ connections.OAuthTokens = (*Manager)(nil)

// ErrGrant is returned when an operation does not fit the connection's grant.
var ErrGrant = errors.New("wrong OAuth2 grant")

// ErrState is returned (wrapped in *StateError) for a callback whose state
// is missing, unknown, used, expired or someone else's.
var ErrState = errors.New("invalid OAuth2 state")

// StateError says what was wrong with a callback's state.
type StateError struct{ Reason string }

func (e *StateError) Error() string { return "the authorization " + e.Reason + "; start it again" }
func (e *StateError) Unwrap() error { return ErrState }

// ErrNeedsReconnect is returned (wrapped in *ReconnectError) when a
// connection cannot give a token until someone connects it again.
var ErrNeedsReconnect = errors.New("connection needs to be reconnected")

// ReconnectError names the connection and the reason.
type ReconnectError struct {
	Connection string
	Reason     string
}

func (e *ReconnectError) Error() string {
	return fmt.Sprintf("connection %q needs to be reconnected: %s", e.Connection, e.Reason)
}

// Unwrap makes the error both ErrNeedsReconnect and, for the engine, a
// permanent connector error: retrying cannot help until someone reconnects.
func (e *ReconnectError) Unwrap() []error {
	return []error{ErrNeedsReconnect, &connectors.Error{Kind: connectors.KindPermanent, Err: ErrNeedsReconnect}}
}

// TokenError is a failed call to the provider's token endpoint.
type TokenError struct {
	Connection string
	// Code is the OAuth2 error code (invalid_grant…) or the HTTP status.
	Code string
	Err  error
}

func (e *TokenError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("the token endpoint of connection %q refused: %s", e.Connection, e.Code)
	}
	return fmt.Sprintf("calling the token endpoint of connection %q: %v", e.Connection, e.Err)
}
func (e *TokenError) Unwrap() error { return e.Err }

// ProviderError is an error the provider sent back to the callback (the
// user declined, the client is not allowed…).
type ProviderError struct {
	ConnectionID string
	Code         string
	Description  string
}

func (e *ProviderError) Error() string {
	if e.Description != "" {
		return "the provider refused the authorization: " + e.Code + ": " + e.Description
	}
	return "the provider refused the authorization: " + e.Code
}

// RedirectURL is the callback address registered with providers.
func (m *Manager) RedirectURL() string {
	return strings.TrimRight(m.o.PublicURL, "/") + CallbackPath
}

func (m *Manager) now() time.Time { return m.o.Now() }

func (m *Manager) httpCtx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, m.o.HTTPClient)
}

func authStyle(cfg connections.OAuthConfig) oauth2.AuthStyle {
	if cfg.AuthStyle == "params" || cfg.ClientSecret == "" {
		// A public client (PKCE, no secret) sends its client_id in the body.
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleInHeader
}

func (m *Manager) codeConfig(cfg connections.OAuthConfig) *oauth2.Config {
	return &oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: m.RedirectURL(),
		Scopes:   cfg.ScopeList(),
		Endpoint: oauth2.Endpoint{AuthURL: cfg.AuthURL, TokenURL: cfg.TokenURL, AuthStyle: authStyle(cfg)}}
}

func hashState(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:])
}

// Start begins the browser flow for an authorization-code connection and
// returns the provider's consent URL. userID is who must complete it.
func (m *Manager) Start(ctx context.Context, connectionID, userID string) (string, error) {
	rec, err := m.conns.OAuth(ctx, connectionID)
	if err != nil {
		return "", err
	}
	if rec.Config.Grant != connections.GrantAuthorizationCode {
		return "", fmt.Errorf("connection %q uses the %s grant; connect it instead: %w", rec.Name, rec.Config.Grant, ErrGrant)
	}
	if m.o.PublicURL == "" {
		return "", errors.New("the instance has no public URL to receive the provider's redirect")
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("making a state: %w", err)
	}
	state := base64.RawURLEncoding.EncodeToString(b[:])
	verifier := oauth2.GenerateVerifier()
	now := m.now().UTC()
	if err := m.st.CreateOAuthState(ctx, &store.OAuthState{StateHash: hashState(state), ConnectionID: rec.ID,
		UserID: userID, Verifier: verifier, CreatedAt: now, ExpiresAt: now.Add(m.o.StateTTL)}, now); err != nil {
		return "", err
	}
	return m.codeConfig(rec.Config).AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), nil
}

// CallbackParams are the query parameters the provider sent back.
type CallbackParams struct {
	State, Code, Error, ErrorDescription string
}

// Callback completes the browser flow: the state must be known, unused,
// unexpired and started by userID. It returns the connection's id; the
// state is spent whatever happens next.
func (m *Manager) Callback(ctx context.Context, p CallbackParams, userID string) (string, error) {
	if p.State == "" {
		return "", &StateError{Reason: "has no state parameter"}
	}
	st, err := m.st.TakeOAuthState(ctx, hashState(p.State))
	if errors.Is(err, store.ErrNotFound) {
		return "", &StateError{Reason: "state is unknown or was already used"}
	}
	if err != nil {
		return "", err
	}
	if !m.now().Before(st.ExpiresAt) {
		return "", &StateError{Reason: "has expired"}
	}
	if st.UserID != userID {
		return "", &StateError{Reason: "was started by another user"}
	}
	if p.Error != "" {
		return st.ConnectionID, &ProviderError{ConnectionID: st.ConnectionID, Code: p.Error, Description: p.ErrorDescription}
	}
	if p.Code == "" {
		return st.ConnectionID, &ProviderError{ConnectionID: st.ConnectionID, Code: "the callback has no code"}
	}
	rec, err := m.conns.OAuth(ctx, st.ConnectionID)
	if err != nil {
		return st.ConnectionID, err
	}
	tctx, cancel := context.WithTimeout(m.httpCtx(ctx), m.o.TokenTimeout)
	defer cancel()
	tok, err := m.codeConfig(rec.Config).Exchange(tctx, p.Code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		code, _ := refusal(err)
		return st.ConnectionID, &TokenError{Connection: rec.Name, Code: code, Err: err}
	}
	err = m.conns.LockOAuth(ctx, rec.ID, func(r *connections.OAuthRecord) (bool, error) {
		r.Token = fromOAuth2(tok, nil)
		r.Status, r.Error = connections.OAuthOK, ""
		return true, nil
	})
	return st.ConnectionID, err
}

// Connect fetches a token for a client-credentials connection now.
func (m *Manager) Connect(ctx context.Context, connectionID string) error {
	rec, err := m.conns.OAuth(ctx, connectionID)
	if err != nil {
		return err
	}
	if rec.Config.Grant != connections.GrantClientCredentials {
		return fmt.Errorf("connection %q uses the %s grant; authorize it in the browser instead: %w", rec.Name, rec.Config.Grant, ErrGrant)
	}
	return m.conns.LockOAuth(ctx, connectionID, func(r *connections.OAuthRecord) (bool, error) {
		tok, err := m.fetch(ctx, r)
		if err != nil {
			if code, definite := refusal(err); definite {
				r.Status, r.Error = connections.OAuthNeedsAttention, code
				return true, &TokenError{Connection: r.Name, Code: code, Err: err}
			}
			return false, &TokenError{Connection: r.Name, Err: err}
		}
		r.Token = fromOAuth2(tok, r.Token)
		r.Status, r.Error = connections.OAuthOK, ""
		return true, nil
	})
}

// AccessToken returns a token with more than RefreshBefore left, refreshing
// (or, for client credentials, fetching) one under the connection's row
// lock when needed.
func (m *Manager) AccessToken(ctx context.Context, connectionID string) (string, string, error) {
	rec, err := m.conns.OAuth(ctx, connectionID)
	if err != nil {
		return "", "", err
	}
	if tok, typ, done, err := m.usable(rec); done {
		return tok, typ, err
	}
	if m.beforeLock != nil {
		m.beforeLock()
	}
	var tok, typ string
	err = m.conns.LockOAuth(ctx, connectionID, func(r *connections.OAuthRecord) (bool, error) {
		// Another process may have refreshed it while we waited.
		if t, ty, done, err := m.usable(r); done {
			tok, typ = t, ty
			return false, err
		}
		fresh, err := m.fetch(ctx, r)
		if err != nil {
			if code, definite := refusal(err); definite {
				r.Status, r.Error = connections.OAuthNeedsAttention, code
				m.o.Logger.Warn("OAuth2 refresh refused; the connection needs attention", "connection", r.Name, "error", code)
				return true, &ReconnectError{Connection: r.Name, Reason: code}
			}
			if t := r.Token; t != nil && t.AccessToken != "" && m.now().Before(t.Expiry) {
				// Not expired yet: use it, and try again next time.
				m.o.Logger.Warn("OAuth2 refresh failed; using the current token until it expires",
					"connection", r.Name, "expires_at", t.Expiry, "error", err)
				tok, typ = t.AccessToken, tokenType(t)
				return false, nil
			}
			return false, &TokenError{Connection: r.Name, Err: err}
		}
		r.Token = fromOAuth2(fresh, r.Token)
		r.Status, r.Error = connections.OAuthOK, ""
		tok, typ = r.Token.AccessToken, tokenType(r.Token)
		return true, nil
	})
	if err != nil {
		return "", "", err
	}
	return tok, typ, nil
}

// usable decides from a record alone: done with a token, done with an
// error, or not done (a token must be fetched).
func (m *Manager) usable(r *connections.OAuthRecord) (tok, typ string, done bool, err error) {
	if r.Status == connections.OAuthNeedsAttention {
		reason := r.Error
		if reason == "" {
			reason = "its last token request failed"
		}
		return "", "", true, &ReconnectError{Connection: r.Name, Reason: reason}
	}
	t := r.Token
	clientCreds := r.Config.Grant == connections.GrantClientCredentials
	if t == nil || t.AccessToken == "" {
		if clientCreds {
			return "", "", false, nil
		}
		if t == nil || t.RefreshToken == "" {
			return "", "", true, &ReconnectError{Connection: r.Name, Reason: "it was never authorized"}
		}
		return "", "", false, nil
	}
	now := m.now()
	if t.Expiry.IsZero() || t.Expiry.Sub(now) > m.o.RefreshBefore {
		return t.AccessToken, tokenType(t), true, nil
	}
	if !clientCreds && t.RefreshToken == "" {
		if now.Before(t.Expiry) {
			return t.AccessToken, tokenType(t), true, nil
		}
		return "", "", true, &ReconnectError{Connection: r.Name, Reason: "its token expired and the provider gave no refresh token"}
	}
	return "", "", false, nil
}

// fetch asks the token endpoint for a new token: a refresh, or a client
// credentials grant.
func (m *Manager) fetch(ctx context.Context, r *connections.OAuthRecord) (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(m.httpCtx(ctx), m.o.TokenTimeout)
	defer cancel()
	if r.Config.Grant == connections.GrantClientCredentials {
		cc := &clientcredentials.Config{ClientID: r.Config.ClientID, ClientSecret: r.Config.ClientSecret,
			TokenURL: r.Config.TokenURL, Scopes: r.Config.ScopeList(), AuthStyle: authStyle(r.Config)}
		return cc.Token(ctx)
	}
	// A token without an access token is invalid, so the source refreshes.
	return m.codeConfig(r.Config).TokenSource(ctx, &oauth2.Token{RefreshToken: r.Token.RefreshToken}).Token()
}

// refusal reports whether err is the provider refusing (a 4xx answer other
// than 408 and 429: retrying the same request will not help) and its code.
func refusal(err error) (code string, definite bool) {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil {
		return "", false
	}
	code = re.ErrorCode
	if code == "" {
		code = re.Response.Status
	}
	if re.ErrorDescription != "" {
		code += ": " + re.ErrorDescription
	}
	s := re.Response.StatusCode
	return code, s >= 400 && s < 500 && s != http.StatusRequestTimeout && s != http.StatusTooManyRequests
}

func fromOAuth2(t *oauth2.Token, prev *connections.OAuthToken) *connections.OAuthToken {
	out := &connections.OAuthToken{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: t.Type(), Expiry: t.Expiry.UTC()}
	if t.Expiry.IsZero() {
		out.Expiry = time.Time{}
	}
	if out.RefreshToken == "" && prev != nil {
		out.RefreshToken = prev.RefreshToken // providers may keep the old one valid
	}
	return out
}

func tokenType(t *connections.OAuthToken) string {
	if t.TokenType == "" {
		return "Bearer"
	}
	return t.TokenType
}
