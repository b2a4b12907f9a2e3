package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store"
)

// The SQLite database holds sessions, keys and sealed secrets: only the
// user running Switchboard may read it (SQLite only; PostgreSQL has no file).
func TestSQLiteFilesAreOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "switchboard.db")
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{dir: 0o700, path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s has mode %o, want %o", filepath.Base(name), got, want)
		}
	}
}
