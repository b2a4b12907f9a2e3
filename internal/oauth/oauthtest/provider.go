// Package oauthtest is a local OAuth2 authorization server for tests. It
// checks requests the way RFC 6749 and RFC 7636 describe them (client
// authentication, redirect_uri, PKCE S256 verifier, single-use codes) and
// counts what it was asked, so tests can assert exactly one refresh.
package oauthtest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Provider is the fake authorization server.
type Provider struct {
	*httptest.Server
	ClientID, ClientSecret string

	mu        sync.Mutex
	expiresIn int
	delay     time.Duration
	seq       int
	codes     map[string]grant
	refresh   map[string]bool // valid refresh tokens
	access    map[string]bool // valid access tokens
	counts    map[string]int  // by grant_type
	issued    []string        // every token handed out
	lastAuth  url.Values
	lastToken url.Values
}

type grant struct {
	challenge, redirectURI, scope string
}

// New starts a provider for one client; it is closed with the test.
func New(t testing.TB, clientID, clientSecret string) *Provider {
	p := &Provider{ClientID: clientID, ClientSecret: clientSecret, expiresIn: 3600,
		codes: map[string]grant{}, refresh: map[string]bool{}, access: map[string]bool{}, counts: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /api/me", p.me)
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Close)
	return p
}

// AuthURL and TokenURL are the endpoints.
func (p *Provider) AuthURL() string  { return p.URL + "/authorize" }
func (p *Provider) TokenURL() string { return p.URL + "/token" }

// SetExpiresIn sets expires_in of the tokens issued from now on.
func (p *Provider) SetExpiresIn(seconds int) { p.mu.Lock(); p.expiresIn = seconds; p.mu.Unlock() }

// SetDelay makes the token endpoint wait before answering.
func (p *Provider) SetDelay(d time.Duration) { p.mu.Lock(); p.delay = d; p.mu.Unlock() }

// RevokeRefreshTokens makes every refresh token issued so far invalid.
func (p *Provider) RevokeRefreshTokens() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refresh = map[string]bool{}
}

// Count is how many token requests of a grant_type succeeded or failed.
func (p *Provider) Count(grantType string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[grantType]
}

// LastAuthorize is the query of the last consent request.
func (p *Provider) LastAuthorize() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastAuth
}

// LastTokenRequest is the form of the last token request.
func (p *Provider) LastTokenRequest() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastToken
}

// Valid reports whether an access token is one the provider issued.
func (p *Provider) Valid(access string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.access[access]
}

// Issued lists every access and refresh token handed out.
func (p *Provider) Issued() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.issued...)
}

// authorize is the consent page: the user always approves. It checks the
// request and redirects to redirect_uri with a code and the state.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	p.lastAuth = q
	p.mu.Unlock()
	switch {
	case q.Get("response_type") != "code":
		http.Error(w, "response_type must be code", http.StatusBadRequest)
		return
	case q.Get("client_id") != p.ClientID:
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	case q.Get("redirect_uri") == "":
		http.Error(w, "redirect_uri is required", http.StatusBadRequest)
		return
	case q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43:
		http.Error(w, "PKCE with S256 is required", http.StatusBadRequest)
		return
	case q.Get("state") == "":
		http.Error(w, "state is required", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	p.seq++
	code := fmt.Sprintf("code-%d", p.seq)
	p.codes[code] = grant{challenge: q.Get("code_challenge"), redirectURI: q.Get("redirect_uri"), scope: q.Get("scope")}
	p.mu.Unlock()
	back, _ := url.Parse(q.Get("redirect_uri"))
	bq := back.Query()
	bq.Set("code", code)
	bq.Set("state", q.Get("state"))
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (p *Provider) clientOK(r *http.Request) bool {
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	return id == p.ClientID && subtle.ConstantTimeCompare([]byte(secret), []byte(p.ClientSecret)) == 1
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, 400, "invalid_request", err.Error())
		return
	}
	p.mu.Lock()
	p.lastToken = r.PostForm
	p.counts[r.PostForm.Get("grant_type")]++
	delay := p.delay
	p.mu.Unlock()
	time.Sleep(delay)
	if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		oauthError(w, 400, "invalid_request", "the body must be a form")
		return
	}
	if !p.clientOK(r) {
		oauthError(w, 401, "invalid_client", "client authentication failed")
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	f := r.PostForm
	withRefresh := true
	switch f.Get("grant_type") {
	case "authorization_code":
		g, ok := p.codes[f.Get("code")]
		delete(p.codes, f.Get("code")) // single use
		if !ok {
			oauthError(w, 400, "invalid_grant", "unknown or used code")
			return
		}
		if f.Get("redirect_uri") != g.redirectURI {
			oauthError(w, 400, "invalid_grant", "redirect_uri differs from the authorization request")
			return
		}
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		if f.Get("code_verifier") == "" || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			oauthError(w, 400, "invalid_grant", "code_verifier does not match the code_challenge")
			return
		}
	case "refresh_token":
		if !p.refresh[f.Get("refresh_token")] {
			oauthError(w, 400, "invalid_grant", "refresh token revoked")
			return
		}
		delete(p.refresh, f.Get("refresh_token")) // rotated
	case "client_credentials":
		withRefresh = false
	default:
		oauthError(w, 400, "unsupported_grant_type", f.Get("grant_type"))
		return
	}
	p.seq++
	out := map[string]any{"access_token": fmt.Sprintf("at-%d-%s", p.seq, f.Get("grant_type")), "token_type": "bearer",
		"expires_in": p.expiresIn}
	p.access[out["access_token"].(string)] = true
	p.issued = append(p.issued, out["access_token"].(string))
	if withRefresh {
		rt := fmt.Sprintf("rt-%d-r3fresh", p.seq)
		p.refresh[rt] = true
		p.issued = append(p.issued, rt)
		out["refresh_token"] = rt
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(out)
}

// me is a protected resource: 200 with the token it got, 401 otherwise.
func (p *Provider) me(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !p.Valid(tok) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "invalid token", http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"token": tok})
}
