package connections

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/events"
	"github.com/switchboard-dev/switchboard/internal/secrets"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// An OAuth2 connection is one whose connector's auth kind is oauth2, or any
// connection given OAuth2 settings (Input.OAuth2). Its settings come from,
// in rising order: the connector's auth field defaults, the connection's
// fields with the same keys (client_id, client_secret, auth_url, token_url,
// scopes, grant, auth_style), and Input.OAuth2. The settings given with
// Input.OAuth2 and the tokens are sealed together in the row's oauth_sealed
// column; the tokens never leave through the API. internal/oauth runs the
// flows and keeps the access token fresh.

// ErrNotOAuth is returned for OAuth2 operations on other connections.
var ErrNotOAuth = errors.New("not an OAuth2 connection")

// OAuth2 grants.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantClientCredentials = "client_credentials"
)

// OAuth2 statuses, as the API shows them.
const (
	OAuthOK             = "ok"
	OAuthNeedsAttention = "needs_attention"
)

// OAuthConfig is how a connection reaches its OAuth2 provider.
type OAuthConfig struct {
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	AuthURL      string `json:"auth_url,omitempty"`
	TokenURL     string `json:"token_url,omitempty"`
	// Scopes are separated by spaces (or commas).
	Scopes string `json:"scopes,omitempty"`
	// Grant is authorization_code (the default: a user consents in the
	// browser, with PKCE) or client_credentials.
	Grant string `json:"grant,omitempty"`
	// AuthStyle says how the client authenticates at the token endpoint:
	// header (HTTP Basic, the default with a client secret) or params (in
	// the form body; the default without one).
	AuthStyle string `json:"auth_style,omitempty"`
}

var oauthKeys = []string{"client_id", "client_secret", "auth_url", "token_url", "scopes", "grant", "auth_style"}

func (o *OAuthConfig) field(key string) *string {
	switch key {
	case "client_id":
		return &o.ClientID
	case "client_secret":
		return &o.ClientSecret
	case "auth_url":
		return &o.AuthURL
	case "token_url":
		return &o.TokenURL
	case "scopes":
		return &o.Scopes
	case "grant":
		return &o.Grant
	case "auth_style":
		return &o.AuthStyle
	}
	return nil
}

// overlay copies the non-empty settings of from onto o.
func (o *OAuthConfig) overlay(from OAuthConfig) {
	for _, k := range oauthKeys {
		if v := *from.field(k); v != "" {
			*o.field(k) = v
		}
	}
}

// ScopeList splits Scopes.
func (o OAuthConfig) ScopeList() []string {
	return strings.FieldsFunc(o.Scopes, func(r rune) bool { return r == ' ' || r == ',' })
}

// identity is what makes tokens belong to a configuration: change any of it
// and the stored tokens are dropped.
func (o OAuthConfig) identity() string {
	return strings.Join([]string{o.ClientID, o.AuthURL, o.TokenURL, strings.Join(o.ScopeList(), " "), o.Grant}, "\x00")
}

// OAuthToken is what the provider issued.
type OAuthToken struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
}

// OAuthView is the OAuth2 part of a connection as the API shows it.
type OAuthView struct {
	Grant           string     `json:"grant"`
	ClientID        string     `json:"client_id"`
	AuthURL         string     `json:"auth_url,omitempty"`
	TokenURL        string     `json:"token_url"`
	Scopes          string     `json:"scopes,omitempty"`
	AuthStyle       string     `json:"auth_style,omitempty"`
	ClientSecretSet bool       `json:"client_secret_set"`
	Connected       bool       `json:"connected"`
	ExpiresAt       *time.Time `json:"expires_at"`
	Status          string     `json:"status"` // ok or needs_attention
	Error           string     `json:"error,omitempty"`
}

// OAuthRecord is an OAuth2 connection opened for internal/oauth.
type OAuthRecord struct {
	ID, Name string
	Config   OAuthConfig // merged and defaulted
	Token    *OAuthToken // nil before the first authorization
	// Status is "", OAuthOK or OAuthNeedsAttention; Error says why it needs
	// attention.
	Status, Error string
}

// OAuthTokens gives OAuth2 connections a current access token;
// internal/oauth implements it, refreshing ahead of expiry.
type OAuthTokens interface {
	AccessToken(ctx context.Context, connectionID string) (token, tokenType string, err error)
}

type oauthBlob struct {
	Config *OAuthConfig `json:"config,omitempty"`
	Token  *OAuthToken  `json:"token,omitempty"`
}

func oauthAAD(id string) []byte { return []byte(id + "/oauth") }

func (s *Service) openOAuth(c *store.Connection) (oauthBlob, error) {
	var b oauthBlob
	if c.OAuthSealed == "" {
		return b, nil
	}
	raw, err := s.ring.Open(c.OAuthSealed, oauthAAD(c.ID))
	if err != nil {
		return b, fmt.Errorf("opening the OAuth2 part of connection %s: %w", c.Name, err)
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return b, fmt.Errorf("opening the OAuth2 part of connection %s: %w", c.Name, err)
	}
	return b, nil
}

func (s *Service) sealOAuth(c *store.Connection, b oauthBlob) error {
	raw, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("encoding OAuth2 settings: %w", err)
	}
	sealed, err := s.ring.Seal(raw, oauthAAD(c.ID))
	if err != nil {
		return err
	}
	c.OAuthSealed, c.OAuthExpiresAt = sealed, nil
	if b.Token != nil && !b.Token.Expiry.IsZero() {
		e := b.Token.Expiry.UTC()
		c.OAuthExpiresAt = &e
	}
	return nil
}

func isOAuth(spec connectors.Spec, c *store.Connection) bool {
	return spec.Auth.Kind == connectors.AuthOAuth2 || c.OAuthSealed != ""
}

// oauthConfig merges the settings; ok reports whether the connection is an
// OAuth2 one at all.
func oauthConfig(spec connectors.Spec, fields map[string]string, b oauthBlob) (cfg OAuthConfig, ok bool) {
	if spec.Auth.Kind != connectors.AuthOAuth2 && b.Config == nil {
		return cfg, false
	}
	for _, f := range spec.Auth.Fields {
		if p := cfg.field(f.Key); p != nil {
			if d, isString := f.Default.(string); isString {
				*p = d
			}
			if v := fields[f.Key]; v != "" {
				*p = v
			}
		}
	}
	if b.Config != nil {
		cfg.overlay(*b.Config)
	}
	if cfg.Grant == "" {
		cfg.Grant = GrantAuthorizationCode
	}
	return cfg, true
}

func checkOAuth(cfg OAuthConfig) map[string]string {
	problems := map[string]string{}
	checkURL := func(key, v string, required bool) {
		if v == "" {
			if required {
				problems["oauth2."+key] = "is required"
			}
			return
		}
		if u, err := parseHTTPURL(v); err != nil || u == "" {
			problems["oauth2."+key] = "must be an http(s) URL"
		}
	}
	switch cfg.Grant {
	case GrantAuthorizationCode:
		checkURL("auth_url", cfg.AuthURL, true)
	case GrantClientCredentials:
		checkURL("auth_url", cfg.AuthURL, false)
		if cfg.ClientSecret == "" {
			problems["oauth2.client_secret"] = "is required for the client_credentials grant"
		}
	default:
		problems["oauth2.grant"] = "must be authorization_code or client_credentials"
	}
	checkURL("token_url", cfg.TokenURL, true)
	if cfg.ClientID == "" {
		problems["oauth2.client_id"] = "is required"
	}
	switch cfg.AuthStyle {
	case "", "header", "params":
	default:
		problems["oauth2.auth_style"] = "must be header or params"
	}
	return problems
}

func parseHTTPURL(v string) (string, error) {
	u, err := url.Parse(v)
	if err != nil {
		return "", err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", nil
	}
	return u.String(), nil
}

// applyOAuth checks and seals the OAuth2 part of c after its fields changed
// from before to fields and in (may be nil) was given. Changing the client,
// URLs, scopes or grant drops the stored tokens; any change clears a
// needs-attention mark, so the next use tries again.
func (s *Service) applyOAuth(c *store.Connection, spec connectors.Spec, before, fields map[string]string, in *OAuthConfig) error {
	b, err := s.openOAuth(c)
	if err != nil {
		return err
	}
	oldCfg, wasOAuth := oauthConfig(spec, before, b)
	if in != nil {
		given := *in
		given.Grant = strings.TrimSpace(given.Grant)
		if b.Config == nil {
			b.Config = &OAuthConfig{}
		}
		secret, tokenURL := b.Config.ClientSecret, b.Config.TokenURL
		*b.Config = given
		if b.Config.ClientSecret == "" && secret != "" {
			// The client secret goes to the token URL: moving that needs the
			// secret again, like any connection secret.
			if strings.TrimSpace(given.TokenURL) != strings.TrimSpace(tokenURL) {
				return invalid(map[string]string{"oauth2.client_secret": "enter it again: token_url changed, and a stored secret is only sent where it was entered"})
			}
			b.Config.ClientSecret = secret
		}
	}
	cfg, ok := oauthConfig(spec, fields, b)
	if !ok {
		return nil
	}
	if problems := checkOAuth(cfg); len(problems) > 0 {
		return invalid(problems)
	}
	if wasOAuth && oldCfg != cfg {
		if oldCfg.identity() != cfg.identity() {
			b.Token = nil
		}
		c.OAuthStatus, c.OAuthError = "", ""
	}
	return s.sealOAuth(c, b)
}

// updateOAuth re-applies an update's OAuth2 change on the locked row, so it
// cannot interleave with a token refresh.
func (s *Service) updateOAuth(ctx context.Context, c *store.Connection, spec connectors.Spec, before, fields map[string]string, in *OAuthConfig) error {
	if !isOAuth(spec, c) && in == nil {
		return nil
	}
	return s.st.InTx(ctx, func(tx *store.Store, _ *sql.Tx) error {
		locked, err := tx.LockConnection(ctx, c.ID)
		if err != nil {
			return err
		}
		if err := s.applyOAuth(locked, spec, before, fields, in); err != nil {
			return err
		}
		if err := tx.UpdateConnectionOAuth(ctx, locked); err != nil {
			return err
		}
		c.ConnectionOAuth, c.UpdatedAt = locked.ConnectionOAuth, locked.UpdatedAt
		return nil
	})
}

func (s *Service) oauthView(c *store.Connection, spec connectors.Spec, fields map[string]string) *OAuthView {
	if !isOAuth(spec, c) {
		return nil
	}
	b, err := s.openOAuth(c)
	if err != nil {
		return &OAuthView{Status: OAuthNeedsAttention, Error: err.Error()}
	}
	cfg, _ := oauthConfig(spec, fields, b)
	v := &OAuthView{Grant: cfg.Grant, ClientID: cfg.ClientID, AuthURL: cfg.AuthURL, TokenURL: cfg.TokenURL,
		Scopes: cfg.Scopes, AuthStyle: cfg.AuthStyle, ClientSecretSet: cfg.ClientSecret != "",
		Connected: b.Token != nil && (b.Token.AccessToken != "" || b.Token.RefreshToken != ""),
		ExpiresAt: c.OAuthExpiresAt, Status: OAuthOK, Error: c.OAuthError}
	switch {
	case c.OAuthStatus == OAuthNeedsAttention:
		v.Status = OAuthNeedsAttention
	case !v.Connected:
		v.Status = OAuthNeedsAttention
		if cfg.Grant == GrantClientCredentials {
			v.Error = "not connected yet: connect to fetch a token"
		} else {
			v.Error = "not connected yet: authorize the connection"
		}
	}
	return v
}

func (s *Service) record(c *store.Connection) (*OAuthRecord, error) {
	spec, err := s.spec(c.Connector)
	if err != nil {
		return nil, err
	}
	if !isOAuth(spec, c) {
		return nil, fmt.Errorf("connection %q: %w", c.Name, ErrNotOAuth)
	}
	fields, err := s.open(c)
	if err != nil {
		return nil, err
	}
	b, err := s.openOAuth(c)
	if err != nil {
		return nil, err
	}
	cfg, _ := oauthConfig(spec, fields, b)
	if problems := checkOAuth(cfg); len(problems) > 0 {
		return nil, invalid(problems)
	}
	return &OAuthRecord{ID: c.ID, Name: c.Name, Config: cfg, Token: b.Token, Status: c.OAuthStatus, Error: c.OAuthError}, nil
}

// OAuth opens an OAuth2 connection's settings and tokens (without a lock:
// use LockOAuth to change them).
func (s *Service) OAuth(ctx context.Context, id string) (*OAuthRecord, error) {
	c, err := s.st.GetConnection(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.record(c)
}

// LockOAuth opens an OAuth2 connection with its row locked (one holder at a
// time across processes) and calls fn, which may change the record's Token,
// Status and Error. When fn returns save, they are sealed and stored before
// the lock is released — also when fn returns an error, which LockOAuth
// then returns.
func (s *Service) LockOAuth(ctx context.Context, id string, fn func(rec *OAuthRecord) (save bool, err error)) error {
	var fnErr error
	err := s.st.InTx(ctx, func(tx *store.Store, _ *sql.Tx) error {
		c, err := tx.LockConnection(ctx, id)
		if err != nil {
			return err
		}
		rec, err := s.record(c)
		if err != nil {
			return err
		}
		save, ferr := fn(rec)
		fnErr = ferr
		if !save {
			return nil
		}
		b, err := s.openOAuth(c)
		if err != nil {
			return err
		}
		b.Token = rec.Token
		if err := s.sealOAuth(c, b); err != nil {
			return err
		}
		wasAttention := c.OAuthStatus == OAuthNeedsAttention
		c.OAuthStatus, c.OAuthError = rec.Status, rec.Error
		if err := tx.UpdateConnectionOAuth(ctx, c); err != nil {
			return err
		}
		if c.OAuthStatus != OAuthNeedsAttention || wasAttention {
			return nil
		}
		// The mark and its event commit together, once per breakage.
		return events.Record(ctx, tx, events.ConnectionNeedsAttention, "", events.ConnectionData{
			ConnectionID: c.ID, ConnectionName: c.Name, Connector: c.Connector, Reason: c.OAuthError})
	})
	if err != nil {
		return err
	}
	return fnErr
}

// credentials opens a connection's fields and, for an OAuth2 connection,
// adds a current access_token and its token_type.
func (s *Service) credentials(ctx context.Context, c *store.Connection) (map[string]string, error) {
	fields, err := s.open(c)
	if err != nil {
		return nil, err
	}
	spec, _ := s.spec(c.Connector)
	if !isOAuth(spec, c) {
		return fields, nil
	}
	if s.oauth == nil {
		return nil, fmt.Errorf("connection %q uses OAuth2, which this process was not set up for", c.Name)
	}
	token, typ, err := s.oauth.AccessToken(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	fields["access_token"], fields["token_type"] = token, typ
	return fields, nil
}

func (s *Service) oauthNeedsReseal(c *store.Connection) bool {
	return c.OAuthSealed != "" && secrets.KeyID(c.OAuthSealed) != s.ring.Primary()
}

// resealOAuth re-encrypts the OAuth2 part with the primary key, under the
// row lock so a concurrent refresh is not lost.
func (s *Service) resealOAuth(ctx context.Context, c *store.Connection) error {
	if !s.oauthNeedsReseal(c) {
		return nil
	}
	return s.st.InTx(ctx, func(tx *store.Store, _ *sql.Tx) error {
		locked, err := tx.LockConnection(ctx, c.ID)
		if err != nil {
			return err
		}
		if !s.oauthNeedsReseal(locked) {
			return nil
		}
		b, err := s.openOAuth(locked)
		if err != nil {
			return err
		}
		if err := s.sealOAuth(locked, b); err != nil {
			return err
		}
		return tx.UpdateConnectionOAuth(ctx, locked)
	})
}
