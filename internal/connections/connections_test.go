package connections_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/switchboard-dev/switchboard/connectors"
	_ "github.com/switchboard-dev/switchboard/connectors/all"
	"github.com/switchboard-dev/switchboard/internal/connections"
	"github.com/switchboard-dev/switchboard/internal/secrets"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

func TestConnectionsSealValidateAndRotate(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		st := storetest.Open(t, dialect)
		keyFile := filepath.Join(t.TempDir(), "secret.key")
		ring, _, err := secrets.LoadOrCreateFile(keyFile)
		storetest.Must(t, err, "keys")
		svc := connections.New(st, connectors.Default, ring)

		_, err = svc.Create(ctx, connections.Input{Name: "hook", Connector: "webhook", Fields: map[string]string{}})
		var inv *connections.InvalidError
		if !errors.As(err, &inv) || inv.Problems["fields.secret"] == "" {
			t.Fatalf("missing required secret: %v", err)
		}
		if _, err := svc.Create(ctx, connections.Input{Name: "x", Connector: "nope"}); !errors.As(err, &inv) {
			t.Fatalf("unknown connector: %v", err)
		}
		v, err := svc.Create(ctx, connections.Input{Name: "slack", Connector: "slack",
			Fields: map[string]string{"bot_token": "xoxb-1", "base_url": "https://slack.example/api"}})
		storetest.Must(t, err, "create")
		if v.Fields["base_url"] != "https://slack.example/api" || v.Fields["bot_token"] != nil || !v.SecretSet["bot_token"] {
			t.Fatalf("view %+v", v)
		}
		if _, err := svc.Create(ctx, connections.Input{Name: "slack", Connector: "slack", Fields: map[string]string{"bot_token": "b"}}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate name: %v", err)
		}
		// Moving the base URL needs the secret again (it is only sent where
		// it was entered); an update without a new secret elsewhere keeps it.
		_, err = svc.Update(ctx, v.ID, connections.Input{Fields: map[string]string{"base_url": "https://other.example/api", "bot_token": "xoxb-1"}})
		storetest.Must(t, err, "update")
		creds, err := svc.Credentials(ctx, "slack", "slack")
		storetest.Must(t, err, "credentials")
		if creds["bot_token"] != "xoxb-1" || creds["base_url"] != "https://other.example/api" {
			t.Fatalf("credentials %v", creds)
		}
		if _, err := svc.Credentials(ctx, "slack", "http"); err == nil {
			t.Fatal("a Slack connection opened for another connector")
		}

		ring2, err := secrets.RotateFile(keyFile)
		storetest.Must(t, err, "rotate")
		svc2 := connections.New(st, connectors.Default, ring2)
		n, err := svc2.Reseal(ctx)
		storetest.Must(t, err, "reseal")
		if n != 1 {
			t.Fatalf("resealed %d, want 1", n)
		}
		got, _ := svc2.Get(ctx, v.ID)
		if got.KeyID != ring2.Primary() {
			t.Fatalf("key id %s after rotation, want %s", got.KeyID, ring2.Primary())
		}
		fresh, err := secrets.FromEnv("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "")
		storetest.Must(t, err, "env ring")
		if _, err := connections.New(st, connectors.Default, fresh).Credentials(ctx, "slack", "slack"); !errors.Is(err, secrets.ErrUnknownKey) {
			t.Fatalf("opening with a foreign key: %v", err)
		}
		creds, err = svc2.Credentials(ctx, "slack", "slack")
		if err != nil || creds["bot_token"] != "xoxb-1" {
			t.Fatalf("after rotation: %v %v", creds, err)
		}
	})
}
