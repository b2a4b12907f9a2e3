package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

func TestPasswordHashIsArgon2idAndSalted(t *testing.T) {
	a, _ := auth.HashPassword("correct horse battery")
	b, _ := auth.HashPassword("correct horse battery")
	if !strings.HasPrefix(a, "$argon2id$") || a == b {
		t.Fatalf("hashes %q %q", a, b)
	}
	if ok, _ := auth.CheckPassword(a, "correct horse battery"); !ok {
		t.Fatal("right password refused")
	}
	if ok, _ := auth.CheckPassword(a, "correct horse batterx"); ok {
		t.Fatal("wrong password accepted")
	}
}

func TestSetupOnceLoginLockoutAndKeys(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		st := storetest.Open(t, dialect)
		now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
		svc := auth.New(st, auth.Options{Now: func() time.Time { return now }, LoginPerIPMin: 1000})
		if needs, _ := svc.NeedsSetup(ctx); !needs {
			t.Fatal("a fresh instance does not need set-up")
		}
		if _, err := svc.Setup(ctx, auth.UserInput{Email: "x", Password: "short"}); !errors.Is(err, auth.ErrInvalid) {
			t.Fatalf("bad setup input: %v", err)
		}
		admin, err := svc.Setup(ctx, auth.UserInput{Email: "Ada@Example.com", Password: "a long enough password"})
		storetest.Must(t, err, "setup")
		if admin.Role != auth.RoleAdmin || admin.Email != "ada@example.com" {
			t.Fatalf("admin %+v", admin)
		}
		if _, err := svc.Setup(ctx, auth.UserInput{Email: "eve@example.com", Password: "a long enough password"}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second setup: %v", err)
		}
		res, err := svc.Login(ctx, "ADA@example.com", "a long enough password", "1.2.3.4")
		storetest.Must(t, err, "login")
		p, err := svc.SessionPrincipal(ctx, res.Token)
		if err != nil || p.Role != auth.RoleAdmin || p.CSRF != res.CSRF {
			t.Fatalf("session principal %+v %v", p, err)
		}
		for i := 0; i < 4; i++ {
			if _, err := svc.Login(ctx, "ada@example.com", "wrong password!", "1.2.3.4"); !errors.Is(err, auth.ErrBadCredentials) {
				t.Fatalf("attempt %d: %v", i, err)
			}
		}
		if _, err := svc.Login(ctx, "ada@example.com", "wrong password!", "1.2.3.4"); !errors.Is(err, auth.ErrLocked) {
			t.Fatalf("fifth failure: %v", err)
		}
		if _, err := svc.Login(ctx, "ada@example.com", "a long enough password", "1.2.3.4"); !errors.Is(err, auth.ErrLocked) {
			t.Fatalf("right password while locked: %v", err)
		}
		now = now.Add(16 * time.Minute)
		if _, err := svc.Login(ctx, "ada@example.com", "a long enough password", "1.2.3.4"); err != nil {
			t.Fatalf("after the lock: %v", err)
		}
		if _, err := svc.Login(ctx, "nobody@example.com", "whatever password", "1.2.3.4"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("unknown user: %v", err)
		}

		k, secret, err := svc.NewAPIKey(ctx, "ci", auth.RoleEditor, "ada@example.com")
		storetest.Must(t, err, "key")
		if !strings.HasPrefix(secret, auth.APIKeyPrefix) || k.Hash == secret || strings.Contains(k.Prefix, secret[12:]) {
			t.Fatalf("key %q stored as %+v", secret, k)
		}
		kp, err := svc.KeyPrincipal(ctx, secret)
		if err != nil || kp.Role != auth.RoleEditor {
			t.Fatalf("key principal %+v %v", kp, err)
		}
		storetest.Must(t, st.RevokeAPIKey(ctx, k.ID, now), "revoke")
		if _, err := svc.KeyPrincipal(ctx, secret); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Fatalf("revoked key: %v", err)
		}
		if _, err := svc.UpdateUser(ctx, admin.ID, auth.UserInput{Role: auth.RoleViewer}); !errors.Is(err, auth.ErrLastAdmin) {
			t.Fatalf("demoting the last admin: %v", err)
		}
	})
}

func TestLoginRateLimitPerIP(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	svc := auth.New(st, auth.Options{LoginPerIPMin: 3})
	for i := 0; i < 3; i++ {
		_, _ = svc.Login(context.Background(), "a@b.co", "x", "9.9.9.9")
	}
	if _, err := svc.Login(context.Background(), "a@b.co", "x", "9.9.9.9"); !errors.Is(err, auth.ErrRateLimited) {
		t.Fatalf("fourth attempt in a minute: %v", err)
	}
	if _, err := svc.Login(context.Background(), "a@b.co", "x", "8.8.8.8"); errors.Is(err, auth.ErrRateLimited) {
		t.Fatal("another address was limited too")
	}
}
