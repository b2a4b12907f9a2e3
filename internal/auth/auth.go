// Package auth holds users, password hashing, sessions, API keys and roles.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/fielderr"
	"github.com/switchboard-dev/switchboard/internal/ratelimit"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// Roles, weakest first.
const (
	RoleViewer = "viewer"
	RoleEditor = "editor"
	RoleAdmin  = "admin"
)

var roleRank = map[string]int{RoleViewer: 1, RoleEditor: 2, RoleAdmin: 3}

// ValidRole reports whether r is a role.
func ValidRole(r string) bool { return roleRank[r] > 0 }

// Allows reports whether role has at least the rights of need.
func Allows(role, need string) bool { return roleRank[role] >= roleRank[need] && roleRank[need] > 0 }

// Errors callers map to statuses.
var (
	ErrBadCredentials = errors.New("wrong e-mail or password")
	ErrLocked         = errors.New("too many failed logins; try again later")
	ErrRateLimited    = errors.New("too many login attempts from this address; try again in a minute")
	ErrInvalid        = errors.New("invalid input")
	ErrLastAdmin      = errors.New("the last admin cannot be removed or demoted")
	ErrBusy           = errors.New("too many sign-ins at once; try again in a moment")
)

// Principal is who a request acts as.
type Principal struct {
	Kind   string // "user" or "api_key"
	ID     string
	Name   string
	Role   string
	CSRF   string // session's CSRF token (users only)
	UserID string
}

// Options tune the service.
type Options struct {
	SessionTTL    time.Duration // default 7 days
	MaxFailures   int           // failed logins before lockout (default 5)
	LockFor       time.Duration // default 15 minutes
	LoginPerIPMin int           // login attempts per IP per minute (default 10)
	// LoginPerAccountMin bounds attempts on one e-mail address per minute,
	// from any address (default 10).
	LoginPerAccountMin int
	// MaxConcurrentHashes bounds the Argon2id hashes (64 MiB each) running at
	// once; a login that cannot get a slot within HashWait fails with ErrBusy.
	MaxConcurrentHashes int           // default 4
	HashWait            time.Duration // default 1s
	// Limits holds the "login" and "login_account" limiters (shared through
	// the database on PostgreSQL); nil limits per process.
	Limits *ratelimit.Registry
	Now    func() time.Time
}

// Service authenticates people and programs.
type Service struct {
	st *store.Store
	o  Options

	hashes chan struct{} // semaphore: one slot per running hash

	perIP      *ratelimit.Limiter
	perAccount *ratelimit.Limiter
}

// New returns a Service.
func New(st *store.Store, o Options) *Service {
	if o.SessionTTL <= 0 {
		o.SessionTTL = 7 * 24 * time.Hour
	}
	if o.MaxFailures <= 0 {
		o.MaxFailures = 5
	}
	if o.LockFor <= 0 {
		o.LockFor = 15 * time.Minute
	}
	if o.LoginPerIPMin <= 0 {
		o.LoginPerIPMin = 10
	}
	if o.LoginPerAccountMin <= 0 {
		o.LoginPerAccountMin = 10
	}
	if o.MaxConcurrentHashes <= 0 {
		o.MaxConcurrentHashes = 4
	}
	if o.HashWait <= 0 {
		o.HashWait = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Limits == nil {
		o.Limits = ratelimit.NewRegistry(nil)
	}
	return &Service{st: st, o: o, hashes: make(chan struct{}, o.MaxConcurrentHashes),
		perIP:      o.Limits.Limiter("login", ratelimit.Limit{PerMinute: o.LoginPerIPMin, Burst: o.LoginPerIPMin}),
		perAccount: o.Limits.Limiter("login_account", ratelimit.Limit{PerMinute: o.LoginPerAccountMin, Burst: o.LoginPerAccountMin})}
}

func randomToken(prefix string, n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// Hash is the stored form of a session or key secret.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// UserInput creates or changes a user.
type UserInput struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Password string `json:"password"`
	Role     string `json:"role"`
	Disabled *bool  `json:"disabled,omitempty"`
}

// InvalidError names the bad fields.
type InvalidError = fielderr.Invalid

func invalid(problems map[string]string) *InvalidError {
	return &InvalidError{Problems: problems, Sentinel: ErrInvalid}
}

func checkUser(in UserInput, creating bool) (*InvalidError, string) {
	problems := map[string]string{}
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if creating || in.Email != "" {
		if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
			problems["email"] = "must be an e-mail address"
		}
	}
	if creating || in.Password != "" {
		if len(in.Password) < 10 {
			problems["password"] = "must be at least 10 characters"
		} else if len(in.Password) > 256 {
			problems["password"] = "must be at most 256 characters"
		}
	}
	if creating || in.Role != "" {
		if !ValidRole(in.Role) {
			problems["role"] = "must be admin, editor or viewer"
		}
	}
	if len(problems) > 0 {
		return invalid(problems), email
	}
	return nil, email
}

// Setup creates the first admin; it fails once any user exists.
func (s *Service) Setup(ctx context.Context, in UserInput) (*store.User, error) {
	in.Role = RoleAdmin
	return s.addUser(ctx, in, s.st.CreateFirstUser)
}

// addUser checks a new user, hashes the password and saves the user with
// save.
func (s *Service) addUser(ctx context.Context, in UserInput, save func(context.Context, *store.User) error) (*store.User, error) {
	inv, email := checkUser(in, true)
	if inv != nil {
		return nil, inv
	}
	hash, err := s.hashPassword(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	u := &store.User{Email: email, Name: strings.TrimSpace(in.Name), PasswordHash: hash, Role: in.Role}
	if err := save(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// NeedsSetup reports whether no user exists yet.
func (s *Service) NeedsSetup(ctx context.Context) (bool, error) {
	n, err := s.st.CountUsers(ctx)
	return n == 0, err
}

// CreateUser adds a user (admins only, checked by the caller).
func (s *Service) CreateUser(ctx context.Context, in UserInput) (*store.User, error) {
	return s.addUser(ctx, in, s.st.CreateUser)
}

// UpdateUser changes a user's name, role, password or disabled flag.
func (s *Service) UpdateUser(ctx context.Context, id string, in UserInput) (*store.User, error) {
	inv, email := checkUser(in, false)
	if inv != nil {
		return nil, inv
	}
	u, err := s.st.GetUser(ctx, id)
	if err != nil {
		return nil, err
	}
	fields := map[string]any{}
	if in.Email != "" {
		fields["email"] = email
	}
	if in.Name != "" {
		fields["name"] = strings.TrimSpace(in.Name)
	}
	demoting := (in.Role != "" && in.Role != RoleAdmin) || (in.Disabled != nil && *in.Disabled)
	if u.Role == RoleAdmin && demoting {
		n, err := s.st.CountAdmins(ctx)
		if err != nil {
			return nil, err
		}
		if n <= 1 {
			return nil, ErrLastAdmin
		}
	}
	if in.Role != "" {
		fields["role"] = in.Role
	}
	if in.Disabled != nil {
		fields["disabled"] = *in.Disabled
	}
	if in.Password != "" {
		h, err := s.hashPassword(ctx, in.Password)
		if err != nil {
			return nil, err
		}
		fields["password_hash"] = h
		fields["failed_logins"] = 0
		fields["locked_until"] = nil
	}
	if len(fields) > 0 {
		if err := s.st.UpdateUser(ctx, id, fields); err != nil {
			return nil, err
		}
	}
	if in.Password != "" || (in.Disabled != nil && *in.Disabled) || in.Role != "" {
		// Changed rights or credentials end existing sessions.
		if err := s.st.DeleteUserSessions(ctx, id); err != nil {
			return nil, err
		}
	}
	return s.st.GetUser(ctx, id)
}

// DeleteUser removes a user, never the last admin.
func (s *Service) DeleteUser(ctx context.Context, id string) error {
	u, err := s.st.GetUser(ctx, id)
	if err != nil {
		return err
	}
	if u.Role == RoleAdmin && !u.Disabled {
		n, err := s.st.CountAdmins(ctx)
		if err != nil {
			return err
		}
		if n <= 1 {
			return ErrLastAdmin
		}
	}
	if err := s.st.RevokeUserAPIKeys(ctx, id, s.o.Now()); err != nil {
		return err
	}
	return s.st.DeleteUser(ctx, id)
}

// LoginResult is a new session.
type LoginResult struct {
	Token   string // cookie value; only its hash is stored
	CSRF    string
	User    *store.User
	Expires time.Time
}

// ipAllowed takes a login token for the client address. A limiter that
// cannot reach the database lets the attempt on: the login needs it anyway.
func (s *Service) ipAllowed(ctx context.Context, ip string) bool {
	d, _ := s.perIP.Allow(ctx, ip, ratelimit.Limit{}, s.o.Now())
	return d.Allowed
}

// accountAllowed takes a login token for the account, whatever address the
// attempt comes from (a botnet gets no fresh bucket per address).
func (s *Service) accountAllowed(ctx context.Context, email string) bool {
	d, _ := s.perAccount.Allow(ctx, email, ratelimit.Limit{}, s.o.Now())
	return d.Allowed
}

// hashSlot waits briefly for a hashing slot; release it when done.
func (s *Service) hashSlot(ctx context.Context) (release func(), err error) {
	t := time.NewTimer(s.o.HashWait)
	defer t.Stop()
	select {
	case s.hashes <- struct{}{}:
		return func() { <-s.hashes }, nil
	case <-t.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// checkPassword is CheckPassword inside a hashing slot.
func (s *Service) checkPassword(ctx context.Context, hash, password string) (bool, error) {
	release, err := s.hashSlot(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	return CheckPassword(hash, password)
}

// hashPassword is HashPassword inside a hashing slot.
func (s *Service) hashPassword(ctx context.Context, password string) (string, error) {
	release, err := s.hashSlot(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return HashPassword(password)
}

// Login checks a password and opens a session.
func (s *Service) Login(ctx context.Context, email, password, ip string) (*LoginResult, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if !s.ipAllowed(ctx, ip) || !s.accountAllowed(ctx, email) {
		return nil, ErrRateLimited
	}
	now := s.o.Now().UTC()
	u, err := s.st.GetUserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		if _, err := s.checkPassword(ctx, dummyHash(), password); errors.Is(err, ErrBusy) {
			return nil, err
		}
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	if u.LockedUntil != nil && now.Before(*u.LockedUntil) {
		return nil, ErrLocked
	}
	ok, err := s.checkPassword(ctx, u.PasswordHash, password)
	if err != nil {
		return nil, err
	}
	if !ok || u.Disabled {
		locked, err := s.st.RecordLoginFailure(ctx, u.ID, s.o.MaxFailures, now.Add(s.o.LockFor))
		if err != nil {
			return nil, err
		}
		if locked {
			return nil, ErrLocked
		}
		return nil, ErrBadCredentials
	}
	// Parallel wrong guesses may have locked the account while this hash ran.
	if u, err = s.st.GetUser(ctx, u.ID); err != nil {
		return nil, err
	}
	if u.LockedUntil != nil && now.Before(*u.LockedUntil) {
		return nil, ErrLocked
	}
	if u.FailedLogins > 0 || u.LockedUntil != nil {
		if err := s.st.UpdateUser(ctx, u.ID, map[string]any{"failed_logins": 0, "locked_until": nil}); err != nil {
			return nil, err
		}
	}
	token, err := randomToken("sbs_", 32)
	if err != nil {
		return nil, err
	}
	csrf, err := randomToken("", 24)
	if err != nil {
		return nil, err
	}
	se := &store.Session{ID: Hash(token), UserID: u.ID, CSRFToken: csrf, CreatedAt: now, ExpiresAt: now.Add(s.o.SessionTTL)}
	if err := s.st.CreateSession(ctx, se); err != nil {
		return nil, err
	}
	return &LoginResult{Token: token, CSRF: csrf, User: u, Expires: se.ExpiresAt}, nil
}

// Logout ends the session whose cookie is token.
func (s *Service) Logout(ctx context.Context, token string) error {
	return s.st.DeleteSession(ctx, Hash(token))
}

// ErrUnauthenticated means no valid credentials were presented.
var ErrUnauthenticated = errors.New("not signed in")

// SessionPrincipal resolves a session cookie.
func (s *Service) SessionPrincipal(ctx context.Context, token string) (*Principal, error) {
	se, err := s.st.GetSession(ctx, Hash(token), s.o.Now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	u, err := s.activeUser(ctx, se.UserID)
	if err != nil {
		return nil, err
	}
	return &Principal{Kind: "user", ID: u.ID, UserID: u.ID, Name: u.Email, Role: u.Role, CSRF: se.CSRFToken}, nil
}

// activeUser is the user credentials act for: one that is gone or disabled
// is ErrUnauthenticated.
func (s *Service) activeUser(ctx context.Context, id string) (*store.User, error) {
	u, err := s.st.GetUser(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, ErrUnauthenticated
	}
	return u, nil
}

// APIKeyPrefix starts every API key, so they are easy to spot and scan for.
const APIKeyPrefix = "sbk_"

// KeyPrincipal resolves an API key.
func (s *Service) KeyPrincipal(ctx context.Context, key string) (*Principal, error) {
	if !strings.HasPrefix(key, APIKeyPrefix) {
		return nil, ErrUnauthenticated
	}
	k, err := s.st.GetAPIKeyByHash(ctx, Hash(key))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	role, owner := k.Role, ""
	if k.OwnerID != nil {
		// A key acts for its owner: never above their current role, and not
		// at all while they are disabled or gone.
		u, err := s.activeUser(ctx, *k.OwnerID)
		if err != nil {
			return nil, err
		}
		role, owner = EffectiveRole(k.Role, u.Role), u.ID
	}
	if err := s.st.TouchAPIKey(ctx, k.ID, s.o.Now()); err != nil {
		return nil, err
	}
	return &Principal{Kind: "api_key", ID: k.ID, Name: k.Name, Role: role, UserID: owner}, nil
}

// EffectiveRole is the weaker of a key's role and its owner's.
func EffectiveRole(keyRole, ownerRole string) string {
	if roleRank[ownerRole] < roleRank[keyRole] {
		return ownerRole
	}
	return keyRole
}

// KeyStatus is what a key can do now, for the key list.
type KeyStatus struct {
	// Role is the role the key acts with now: its own capped by its
	// owner's current role; "" when it does not work (revoked, owner
	// disabled or gone).
	Role string
	// OwnerEmail is the owner's e-mail ("" for a key without an owner or
	// whose owner is gone).
	OwnerEmail string
	// OwnerRole is the owner's current role ("" as for OwnerEmail).
	OwnerRole string
	// OwnerDisabled reports an owner who is disabled.
	OwnerDisabled bool
}

// KeyStatuses reports, per key id, what each key acts as now (the same rule
// KeyPrincipal applies on each request).
func (s *Service) KeyStatuses(ctx context.Context, keys []store.APIKey) (map[string]KeyStatus, error) {
	users, err := s.st.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[string]*store.User{}
	for i := range users {
		byID[users[i].ID] = &users[i]
	}
	out := make(map[string]KeyStatus, len(keys))
	for _, k := range keys {
		var st KeyStatus
		var owner *store.User
		if k.OwnerID != nil {
			owner = byID[*k.OwnerID]
		}
		if owner != nil {
			st.OwnerEmail, st.OwnerRole, st.OwnerDisabled = owner.Email, owner.Role, owner.Disabled
		}
		switch {
		case k.RevokedAt != nil:
		case k.OwnerID == nil:
			st.Role = k.Role
		case owner == nil || owner.Disabled:
		default:
			st.Role = EffectiveRole(k.Role, owner.Role)
		}
		out[k.ID] = st
	}
	return out, nil
}

// NewAPIKey creates a key; the secret is returned once and only its hash is
// kept.
func (s *Service) NewAPIKey(ctx context.Context, name, role, createdBy string) (*store.APIKey, string, error) {
	return s.NewOwnedAPIKey(ctx, name, role, createdBy, "")
}

// NewOwnedAPIKey is NewAPIKey for a key that acts for user ownerID ("" for
// none): it is capped at their role, stops while they are disabled and is
// revoked when they are deleted.
func (s *Service) NewOwnedAPIKey(ctx context.Context, name, role, createdBy, ownerID string) (*store.APIKey, string, error) {
	name = strings.TrimSpace(name)
	problems := map[string]string{}
	if name == "" || len(name) > 100 {
		problems["name"] = "must be 1 to 100 characters"
	}
	if !ValidRole(role) {
		problems["role"] = "must be admin, editor or viewer"
	}
	if len(problems) > 0 {
		return nil, "", invalid(problems)
	}
	secret, err := randomToken(APIKeyPrefix, 32)
	if err != nil {
		return nil, "", err
	}
	k := &store.APIKey{ID: store.NewID(), Name: name, Prefix: secret[:len(APIKeyPrefix)+6], Hash: Hash(secret), Role: role,
		CreatedBy: createdBy, CreatedAt: s.o.Now().UTC()}
	if ownerID != "" {
		k.OwnerID = &ownerID
	}
	if err := s.st.CreateAPIKey(ctx, k); err != nil {
		return nil, "", err
	}
	return k, secret, nil
}
