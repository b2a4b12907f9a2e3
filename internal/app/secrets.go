package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/switchboard-dev/switchboard/internal/config"
	"github.com/switchboard-dev/switchboard/internal/connections"
	"github.com/switchboard-dev/switchboard/internal/events"
	"github.com/switchboard-dev/switchboard/internal/flows"
	"github.com/switchboard-dev/switchboard/internal/secrets"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// keyring loads the sealing keys: from the environment when a key is set,
// else from the key file, created on first start.
func keyring(cfg config.Config, log *slog.Logger) (*secrets.Keyring, error) {
	if cfg.SecretKey != "" {
		return secrets.FromEnv(cfg.SecretKey, cfg.SecretKeysOld)
	}
	ring, created, err := secrets.LoadOrCreateFile(cfg.KeyFile)
	if err != nil {
		return nil, err
	}
	if created {
		log.Info("created a key file for connection secrets; back it up with the database", "path", cfg.KeyFile)
	}
	if cfg.DatabaseURL != "" && created {
		log.Warn("PostgreSQL with a generated key file: every process must share this key (set SWITCHBOARD_SECRET_KEY)")
	}
	return ring, nil
}

// sealDocuments makes the store seal the inline webhook secrets of workflow
// documents, and seals the versions written before (or without) it.
func sealDocuments(ctx context.Context, st *store.Store, ring *secrets.Keyring, log *slog.Logger) error {
	st.SetDocumentSealer(flows.NewSealer(ring))
	n, err := st.SealVersions(ctx, false)
	if err != nil {
		return fmt.Errorf("sealing workflow secrets (%d done): %w", n, err)
	}
	if n > 0 {
		log.Info("sealed the inline webhook secrets of older workflow versions", "versions", n)
	}
	return nil
}

// secretsCmd: `switchboard secrets rotate`.
func secretsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rotate" {
		return errors.New("want 'secrets rotate'")
	}
	cfg, _, st, err := configuredStore(ctx, "secrets rotate", args[1:], stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	var ring *secrets.Keyring
	if cfg.SecretKey != "" {
		// The operator set the new key and listed the old ones; re-seal.
		ring, err = secrets.FromEnv(cfg.SecretKey, cfg.SecretKeysOld)
	} else {
		if _, _, err = secrets.LoadOrCreateFile(cfg.KeyFile); err == nil {
			ring, err = secrets.RotateFile(cfg.KeyFile)
		}
	}
	if err != nil {
		return err
	}
	n, err := connections.New(st, registry(), ring).Reseal(ctx)
	if err != nil {
		return fmt.Errorf("re-sealing connections (%d done): %w", n, err)
	}
	subs, err := events.NewService(st, ring, nil).Reseal(ctx)
	if err != nil {
		return fmt.Errorf("re-sealing subscription secrets (%d done): %w", subs, err)
	}
	st.SetDocumentSealer(flows.NewSealer(ring))
	docs, err := st.SealVersions(ctx, true)
	if err != nil {
		return fmt.Errorf("re-sealing workflow versions (%d done): %w", docs, err)
	}
	fmt.Fprintf(stdout, "primary key is now %s; re-sealed %d connection(s), %d subscription(s) and %d workflow version(s)\n", ring.Primary(), n, subs, docs)
	return nil
}
