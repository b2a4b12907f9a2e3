// Package secrets encrypts connection secrets at rest with AES-256-GCM. Each
// ciphertext names the key that sealed it, so keys can rotate: new secrets
// use the primary key, old ones still open with the key they name.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ErrUnknownKey is returned when a ciphertext names a key the ring lacks.
var ErrUnknownKey = errors.New("secret was sealed with a key this instance does not have")

// ErrCorrupt is returned when a ciphertext does not open.
var ErrCorrupt = errors.New("secret does not decrypt (wrong key or tampered data)")

const prefix = "v1:"

// Keyring holds the keys; Primary seals, every key opens.
type Keyring struct {
	primary string
	aeads   map[string]cipher.AEAD
}

// KeyFile is the on-disk form of a keyring (mode 0600).
type KeyFile struct {
	Primary string            `json:"primary"`
	Keys    map[string]string `json:"keys"` // id -> base64 of 32 bytes
}

// NewKeyring builds a ring from raw 32-byte keys by id.
func NewKeyring(primary string, keys map[string][]byte) (*Keyring, error) {
	k := &Keyring{primary: primary, aeads: map[string]cipher.AEAD{}}
	for id, key := range keys {
		if len(key) != 32 {
			return nil, fmt.Errorf("key %q is %d bytes; AES-256 needs 32", id, len(key))
		}
		if strings.ContainsAny(id, ": ") || id == "" {
			return nil, fmt.Errorf("key id %q must be non-empty without ':' or spaces", id)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", id, err)
		}
		k.aeads[id] = aead
	}
	if _, ok := k.aeads[primary]; !ok {
		return nil, fmt.Errorf("primary key %q is not in the ring", primary)
	}
	return k, nil
}

// Primary is the id of the key new secrets are sealed with.
func (k *Keyring) Primary() string { return k.primary }

// IDs lists the key ids, sorted.
func (k *Keyring) IDs() []string {
	ids := make([]string, 0, len(k.aeads))
	for id := range k.aeads {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Seal encrypts plaintext bound to aad (e.g. the row id, so a ciphertext
// copied to another row does not open).
func (k *Keyring) Seal(plaintext, aad []byte) (string, error) {
	aead := k.aeads[k.primary]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("reading nonce: %w", err)
	}
	out := aead.Seal(nonce, nonce, plaintext, aad)
	return prefix + k.primary + ":" + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts a Seal result.
func (k *Keyring) Open(sealed string, aad []byte) ([]byte, error) {
	rest, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return nil, ErrCorrupt
	}
	id, data, ok := strings.Cut(rest, ":")
	if !ok {
		return nil, ErrCorrupt
	}
	aead, ok := k.aeads[id]
	if !ok {
		return nil, fmt.Errorf("key %q: %w", id, ErrUnknownKey)
	}
	raw, err := base64.RawStdEncoding.DecodeString(data)
	if err != nil || len(raw) < aead.NonceSize() {
		return nil, ErrCorrupt
	}
	pt, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], aad)
	if err != nil {
		return nil, ErrCorrupt
	}
	return pt, nil
}

// KeyID reports which key sealed a ciphertext.
func KeyID(sealed string) string {
	rest, _ := strings.CutPrefix(sealed, prefix)
	id, _, _ := strings.Cut(rest, ":")
	return id
}

// envKeyID names a key given in the environment after its fingerprint.
func envKeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return "env-" + hex.EncodeToString(sum[:4])
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	return nil, errors.New("want 32 bytes as base64 or hex (e.g. from: openssl rand -base64 32)")
}

// FromEnv builds a ring from SWITCHBOARD_SECRET_KEY (the primary) and
// SWITCHBOARD_SECRET_KEYS_OLD (comma-separated keys that still open old
// secrets during a rotation).
func FromEnv(primary, old string) (*Keyring, error) {
	pk, err := decodeKey(primary)
	if err != nil {
		return nil, fmt.Errorf("SWITCHBOARD_SECRET_KEY: %w", err)
	}
	keys := map[string][]byte{envKeyID(pk): pk}
	for i, s := range strings.Split(old, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		k, err := decodeKey(s)
		if err != nil {
			return nil, fmt.Errorf("SWITCHBOARD_SECRET_KEYS_OLD[%d]: %w", i, err)
		}
		keys[envKeyID(k)] = k
	}
	return NewKeyring(envKeyID(pk), keys)
}

// LoadOrCreateFile reads the key file, creating it with a fresh key (mode
// 0600) when it does not exist: the zero-setup default.
func LoadOrCreateFile(path string) (*Keyring, bool, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		kf, err := newKeyFile(nil)
		if err != nil {
			return nil, false, err
		}
		if err := WriteKeyFile(path, kf); err != nil {
			return nil, false, err
		}
		k, err := kf.Keyring()
		return k, true, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading key file %s: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("key file %s is readable by others (mode %v); run: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	var kf KeyFile
	if err := json.Unmarshal(raw, &kf); err != nil {
		return nil, false, fmt.Errorf("key file %s: %w", path, err)
	}
	k, err := kf.Keyring()
	return k, false, err
}

// Keyring builds the ring the file describes.
func (kf *KeyFile) Keyring() (*Keyring, error) {
	keys := map[string][]byte{}
	for id, s := range kf.Keys {
		b, err := decodeKey(s)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", id, err)
		}
		keys[id] = b
	}
	return NewKeyring(kf.Primary, keys)
}

// newKeyFile adds a fresh primary key to kf (or a new file).
func newKeyFile(kf *KeyFile) (*KeyFile, error) {
	if kf == nil {
		kf = &KeyFile{Keys: map[string]string{}}
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generating key: %w", err)
	}
	idb := make([]byte, 4)
	if _, err := rand.Read(idb); err != nil {
		return nil, fmt.Errorf("generating key id: %w", err)
	}
	id := "k" + hex.EncodeToString(idb)
	kf.Keys[id] = base64.StdEncoding.EncodeToString(key)
	kf.Primary = id
	return kf, nil
}

// RotateFile adds a new primary key to the key file and returns the new ring;
// old keys stay so existing secrets open until they are re-sealed.
func RotateFile(path string) (*Keyring, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading key file %s: %w", path, err)
	}
	var kf KeyFile
	if err := json.Unmarshal(raw, &kf); err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if _, err := newKeyFile(&kf); err != nil {
		return nil, err
	}
	if err := WriteKeyFile(path, &kf); err != nil {
		return nil, err
	}
	return kf.Keyring()
}

// WriteKeyFile writes atomically with mode 0600.
func WriteKeyFile(path string, kf *KeyFile) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating key folder: %w", err)
	}
	b, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("writing key file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing key file: %w", err)
	}
	return nil
}
