package secrets

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpenRoundTripBoundToAAD(t *testing.T) {
	k, _, err := LoadOrCreateFile(filepath.Join(t.TempDir(), "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := k.Seal([]byte("xoxb-secret"), []byte("conn-1"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "xoxb") || KeyID(sealed) != k.Primary() {
		t.Fatalf("sealed = %q", sealed)
	}
	pt, err := k.Open(sealed, []byte("conn-1"))
	if err != nil || string(pt) != "xoxb-secret" {
		t.Fatalf("open = %q, %v", pt, err)
	}
	if _, err := k.Open(sealed, []byte("conn-2")); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open with another row's AAD: %v", err)
	}
	tampered := sealed[:len(sealed)-2] + "AA"
	if _, err := k.Open(tampered, []byte("conn-1")); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("tampered: %v", err)
	}
}

func TestKeyFileIsPrivateAndRotationKeepsOldKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	k1, created, err := LoadOrCreateFile(path)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	old, _ := k1.Seal([]byte("a"), nil)
	k2, err := RotateFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if k2.Primary() == k1.Primary() || len(k2.IDs()) != 2 {
		t.Fatalf("rotation: primary %s -> %s, ids %v", k1.Primary(), k2.Primary(), k2.IDs())
	}
	if pt, err := k2.Open(old, nil); err != nil || !bytes.Equal(pt, []byte("a")) {
		t.Fatalf("old secret after rotation: %q %v", pt, err)
	}
	again, _, err := LoadOrCreateFile(path)
	if err != nil || again.Primary() != k2.Primary() {
		t.Fatalf("reload: %v", err)
	}
	os.Chmod(path, 0o644)
	if _, _, err := LoadOrCreateFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key file accepted: %v", err)
	}
}

func TestEnvKeysWithOldKeysForRotation(t *testing.T) {
	a := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes
	b := strings.Repeat("ab", 32)                       // hex
	oldRing, err := FromEnv(a, "")
	if err != nil {
		t.Fatal(err)
	}
	sealed, _ := oldRing.Seal([]byte("x"), nil)
	newRing, err := FromEnv(b, a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newRing.Open(sealed, nil); err != nil {
		t.Fatalf("old secret with the old key listed: %v", err)
	}
	onlyNew, _ := FromEnv(b, "")
	if _, err := onlyNew.Open(sealed, nil); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("without the old key: %v", err)
	}
	if _, err := FromEnv("short", ""); err == nil || !strings.Contains(err.Error(), "SWITCHBOARD_SECRET_KEY") {
		t.Fatalf("bad key: %v", err)
	}
}
