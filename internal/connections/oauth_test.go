package connections_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/connections"
	"github.com/switchboard-dev/switchboard/internal/secrets"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

type fixedToken struct{ n int }

func (f *fixedToken) AccessToken(context.Context, string) (string, string, error) {
	f.n++
	return "fresh-token", "Bearer", nil
}

func TestOAuthPartIsSealedShownWithoutTokensAndResealed(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		st := storetest.Open(t, dialect)
		keyFile := filepath.Join(t.TempDir(), "secret.key")
		ring, _, err := secrets.LoadOrCreateFile(keyFile)
		storetest.Must(t, err, "keys")
		svc := connections.New(st, connectors.Default, ring)
		v, err := svc.Create(ctx, connections.Input{Name: "api", Connector: "http", OAuth2: &connections.OAuthConfig{
			ClientID: "c", ClientSecret: "client-secret", AuthURL: "https://idp.example/authorize", TokenURL: "https://idp.example/token"}})
		storetest.Must(t, err, "create")
		if v.OAuth == nil || v.OAuth.Grant != connections.GrantAuthorizationCode || v.OAuth.Connected {
			t.Fatalf("view %+v", v.OAuth)
		}
		expiry := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
		storetest.Must(t, svc.LockOAuth(ctx, v.ID, func(r *connections.OAuthRecord) (bool, error) {
			r.Token = &connections.OAuthToken{AccessToken: "access-1", RefreshToken: "refresh-1", Expiry: expiry}
			r.Status = connections.OAuthOK
			return true, nil
		}), "store tokens")

		// Without an OAuth2 manager the connection cannot be opened for a step.
		if _, err := svc.Credentials(ctx, "api", "http"); err == nil || !strings.Contains(err.Error(), "OAuth2") {
			t.Fatalf("credentials without a manager: %v", err)
		}
		src := &fixedToken{}
		svc = connections.New(st, connectors.Default, ring, connections.WithOAuth(func(*connections.Service) connections.OAuthTokens { return src }))
		creds, err := svc.Credentials(ctx, "api", "http")
		storetest.Must(t, err, "credentials")
		if creds["access_token"] != "fresh-token" || creds["token_type"] != "Bearer" || src.n != 1 {
			t.Fatalf("credentials %v", creds)
		}
		// A plain connection does not ask for a token.
		_, err = svc.Create(ctx, connections.Input{Name: "plain", Connector: "http", Fields: map[string]string{"bearer_token": "x"}})
		storetest.Must(t, err, "plain")
		if _, err := svc.Credentials(ctx, "plain", "http"); err != nil || src.n != 1 {
			t.Fatalf("plain connection: %v (%d token requests)", err, src.n)
		}
		if _, err := svc.OAuth(ctx, mustID(t, svc, "plain")); !errors.Is(err, connections.ErrNotOAuth) {
			t.Fatalf("OAuth of a plain connection: %v", err)
		}

		got, err := svc.Get(ctx, v.ID)
		storetest.Must(t, err, "get")
		if !got.OAuth.Connected || got.OAuth.ExpiresAt == nil || !got.OAuth.ExpiresAt.Equal(expiry) || !got.OAuth.ClientSecretSet {
			t.Fatalf("view after tokens %+v", got.OAuth)
		}

		ring2, err := secrets.RotateFile(keyFile)
		storetest.Must(t, err, "rotate")
		svc2 := connections.New(st, connectors.Default, ring2)
		n, err := svc2.Reseal(ctx)
		storetest.Must(t, err, "reseal")
		if n != 2 {
			t.Fatalf("resealed %d, want 2", n)
		}
		var sealed string
		storetest.Must(t, st.SQLDB().QueryRow(`SELECT oauth_sealed FROM connections WHERE id = $1`, v.ID).Scan(&sealed), "row")
		if secrets.KeyID(sealed) != ring2.Primary() {
			t.Fatalf("OAuth2 part sealed with %s after rotation, want %s", secrets.KeyID(sealed), ring2.Primary())
		}
		rec, err := svc2.OAuth(ctx, v.ID)
		storetest.Must(t, err, "open after rotation")
		if rec.Token.RefreshToken != "refresh-1" || rec.Config.ClientSecret != "client-secret" {
			t.Fatalf("record after rotation %+v", rec)
		}
	})
}

func mustID(t *testing.T, svc *connections.Service, name string) string {
	t.Helper()
	vs, err := svc.List(context.Background())
	storetest.Must(t, err, "list")
	for _, v := range vs {
		if v.Name == name {
			return v.ID
		}
	}
	t.Fatalf("no connection %s", name)
	return ""
}
