package connections_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/connectors"
	_ "github.com/switchboard-dev/switchboard/connectors/all"
	"github.com/switchboard-dev/switchboard/internal/connections"
	"github.com/switchboard-dev/switchboard/internal/secrets"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// A kept secret goes only where it was entered: changing the base URL (or
// any other non-secret field) without entering the secret again is refused,
// so an editor cannot redirect a write-only token to their own server.
func TestChangingWhereASecretGoesNeedsTheSecretAgain(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		st := storetest.Open(t, dialect)
		ring, _, err := secrets.LoadOrCreateFile(filepath.Join(t.TempDir(), "secret.key"))
		storetest.Must(t, err, "keys")
		svc := connections.New(st, connectors.Default, ring)
		v, err := svc.Create(ctx, connections.Input{Name: "tg", Connector: "telegram",
			Fields: map[string]string{"bot_token": "123:secret", "base_url": "https://api.telegram.org"}})
		storetest.Must(t, err, "create")

		_, err = svc.Update(ctx, v.ID, connections.Input{Fields: map[string]string{"base_url": "https://evil.example"}})
		var inv *connections.InvalidError
		if !errors.As(err, &inv) || !strings.Contains(inv.Problems["fields.bot_token"], "base_url") {
			t.Fatalf("new base_url without the token: %v", err)
		}
		creds, err := svc.Credentials(ctx, "tg", "telegram")
		storetest.Must(t, err, "credentials")
		if creds["base_url"] != "https://api.telegram.org" || creds["bot_token"] != "123:secret" {
			t.Fatalf("a refused update changed the connection: %v", creds)
		}
		// Renaming alone keeps the secret; the secret entered again moves it.
		_, err = svc.Update(ctx, v.ID, connections.Input{Name: "tg2"})
		storetest.Must(t, err, "rename")
		_, err = svc.Update(ctx, v.ID, connections.Input{Fields: map[string]string{"base_url": "https://tg.example", "bot_token": "456:other"}})
		storetest.Must(t, err, "update with the secret")
		creds, err = svc.Credentials(ctx, "tg2", "telegram")
		storetest.Must(t, err, "credentials")
		if creds["base_url"] != "https://tg.example" || creds["bot_token"] != "456:other" {
			t.Fatalf("credentials %v", creds)
		}
	})
}

// The OAuth2 client secret goes to the token URL: moving it needs the
// secret again.
func TestChangingTheTokenURLNeedsTheClientSecretAgain(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		st := storetest.Open(t, dialect)
		ring, _, err := secrets.LoadOrCreateFile(filepath.Join(t.TempDir(), "secret.key"))
		storetest.Must(t, err, "keys")
		svc := connections.New(st, connectors.Default, ring)
		cfg := connections.OAuthConfig{ClientID: "c1", ClientSecret: "s3cret", TokenURL: "https://idp.example/token", Grant: connections.GrantClientCredentials}
		v, err := svc.Create(ctx, connections.Input{Name: "api", Connector: "http", OAuth2: &cfg})
		storetest.Must(t, err, "create")
		moved := cfg
		moved.ClientSecret, moved.TokenURL = "", "https://evil.example/token"
		_, err = svc.Update(ctx, v.ID, connections.Input{OAuth2: &moved})
		var inv *connections.InvalidError
		if !errors.As(err, &inv) || inv.Problems["oauth2.client_secret"] == "" {
			t.Fatalf("new token_url without the client secret: %v", err)
		}
		got, err := svc.Get(ctx, v.ID)
		storetest.Must(t, err, "get")
		if got.OAuth == nil || got.OAuth.TokenURL != "https://idp.example/token" {
			t.Fatalf("a refused update changed the settings: %+v", got.OAuth)
		}
		same := cfg
		same.ClientSecret, same.Scopes = "", "read"
		_, err = svc.Update(ctx, v.ID, connections.Input{OAuth2: &same})
		storetest.Must(t, err, "an update keeping the token URL keeps the secret")
	})
}
