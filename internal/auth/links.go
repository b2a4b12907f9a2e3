package auth

import (
	"context"
	"errors"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
)

// One-time links: an admin invites a person (who then chooses their own
// password) or hands out a password reset, instead of typing a password for
// somebody else. The link's secret is shown once; only its hash is stored.
const (
	LinkInvite = "invite"
	LinkReset  = "reset"

	inviteTTL = 7 * 24 * time.Hour
	resetTTL  = 24 * time.Hour
)

// ErrLinkInvalid is a link that is unknown, used or expired.
var ErrLinkInvalid = errors.New("this link is not valid: it was used already, replaced by a newer one or has expired; ask an admin for a new one")

// Link is a one-time link just made; Token is the secret for the URL.
type Link struct {
	Token     string
	Kind      string
	ExpiresAt time.Time
}

// InviteInput invites a person: no password, they choose it.
type InviteInput struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
	Role  string `json:"role" enum:"admin,editor,viewer"`
}

// Invite creates a user who cannot sign in until they set a password with
// the returned link.
func (s *Service) Invite(ctx context.Context, in InviteInput, createdBy string) (*store.User, *Link, error) {
	// The placeholder password is random and never shown: nobody can sign
	// in with it, and checkUser still sees a complete input.
	placeholder, err := randomToken("", 24)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.CreateUser(ctx, UserInput{Email: in.Email, Name: in.Name, Role: in.Role, Password: placeholder})
	if err != nil {
		return nil, nil, err
	}
	l, err := s.newLink(ctx, u.ID, LinkInvite, createdBy)
	if err != nil {
		return nil, nil, err
	}
	return u, l, nil
}

// ResetLink makes a password-reset link for a user; it replaces the user's
// earlier unused links. The current password keeps working until the link
// is used.
func (s *Service) ResetLink(ctx context.Context, userID, createdBy string) (*Link, error) {
	if _, err := s.st.GetUser(ctx, userID); err != nil {
		return nil, err
	}
	return s.newLink(ctx, userID, LinkReset, createdBy)
}

func (s *Service) newLink(ctx context.Context, userID, kind, createdBy string) (*Link, error) {
	token, err := randomToken("sbl_", 32)
	if err != nil {
		return nil, err
	}
	ttl := resetTTL
	if kind == LinkInvite {
		ttl = inviteTTL
	}
	now := s.o.Now().UTC()
	l := &store.UserLink{ID: Hash(token), UserID: userID, Kind: kind, CreatedBy: createdBy, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.st.CreateUserLink(ctx, l); err != nil {
		return nil, err
	}
	return &Link{Token: token, Kind: kind, ExpiresAt: l.ExpiresAt}, nil
}

// LinkInfo says what a link is for (for the page that opens it).
func (s *Service) LinkInfo(ctx context.Context, token string) (*store.UserLink, *store.User, error) {
	l, err := s.st.GetUserLink(ctx, Hash(token), s.o.Now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrLinkInvalid
	}
	if err != nil {
		return nil, nil, err
	}
	u, err := s.st.GetUser(ctx, l.UserID)
	if err != nil {
		return nil, nil, err
	}
	return l, u, nil
}

// UseLink sets the password through a link, once, and returns the user
// (who then signs in with it).
func (s *Service) UseLink(ctx context.Context, token, password string) (*store.User, error) {
	if inv, _ := checkUser(UserInput{Password: password}, false); inv != nil || password == "" {
		if inv == nil {
			inv = &InvalidError{Problems: map[string]string{"password": "must be at least 10 characters"}}
		}
		return nil, inv
	}
	if _, _, err := s.LinkInfo(ctx, token); err != nil {
		return nil, err
	}
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return nil, err
	}
	u, err := s.st.UseUserLink(ctx, Hash(token), hash, s.o.Now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrLinkInvalid
	}
	return u, err
}
