package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/store"
)

const (
	sessionCookie = "sb_session"
	csrfCookie    = "sb_csrf"
	csrfHeader    = "X-CSRF-Token"
	principalKey  = "principal"
	auditTarget   = "audit_target"
)

func principal(c *gin.Context) *auth.Principal {
	p, _ := c.Get(principalKey)
	pr, _ := p.(*auth.Principal)
	return pr
}

func isSafe(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// require authenticates the request (API key, or session cookie with a CSRF
// token on unsafe methods) and checks the role.
func (s *server) require(role string) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		var p *auth.Principal
		var err error
		key := c.GetHeader("X-API-Key")
		if h := c.GetHeader("Authorization"); key == "" && strings.HasPrefix(h, "Bearer ") {
			key = strings.TrimPrefix(h, "Bearer ")
		}
		switch {
		case key != "":
			p, err = s.Auth.KeyPrincipal(ctx, key)
		default:
			cookie, cerr := c.Cookie(sessionCookie)
			if cerr != nil || cookie == "" {
				err = auth.ErrUnauthenticated
				break
			}
			p, err = s.Auth.SessionPrincipal(ctx, cookie)
			if err == nil && !isSafe(c.Request.Method) {
				got := c.GetHeader(csrfHeader)
				if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.CSRF)) != 1 {
					problem(c, http.StatusForbidden, "missing or wrong "+csrfHeader+" header (send the value of the "+csrfCookie+" cookie)")
					return
				}
			}
		}
		if errors.Is(err, auth.ErrUnauthenticated) {
			c.Header("WWW-Authenticate", `Bearer realm="switchboard"`)
			problem(c, http.StatusUnauthorized, "sign in, or send an API key as 'Authorization: Bearer sbk_…'")
			return
		}
		if err != nil {
			fail(c, err)
			return
		}
		if !auth.Allows(p.Role, role) {
			problem(c, http.StatusForbidden, "this needs the "+role+" role; you have "+p.Role)
			return
		}
		c.Set(principalKey, p)
		c.Next()
	}
}

// audit records a successful change after the handler ran.
func (s *server) audit(action string) gin.HandlerFunc {
	targetType := strings.SplitN(action, ".", 2)[0]
	return func(c *gin.Context) {
		body := auditBody(c)
		// A deleted target's name is read while it still exists.
		var deletedName string
		if c.Request.Method == http.MethodDelete && c.Param("id") != "" {
			deletedName = s.auditTargetName(c, targetType, c.Param("id"))
		}
		c.Next()
		if c.Writer.Status() >= 400 {
			return
		}
		detail := map[string]any{}
		if body != nil {
			detail["request"] = body
		}
		if d, ok := c.Get(auditDetail); ok {
			if m, ok := d.(map[string]any); ok {
				for k, v := range m {
					detail[k] = v
				}
			}
		}
		e := &store.AuditEntry{At: time.Now().UTC(), ActorKind: "anonymous", Action: action,
			TargetType: targetType, TargetID: c.Param("id"), IP: c.ClientIP(),
			RequestID: c.GetString(requestIDKey)}
		if t := c.GetString(auditTarget); t != "" {
			e.TargetID = t
		}
		// The name as it was at the time, so the log reads the same after a
		// rename or a delete.
		name := deletedName
		if name == "" && e.TargetID != "" {
			name = s.auditTargetName(c, targetType, e.TargetID)
		}
		if name != "" {
			detail[auditTargetNameKey] = name
		}
		if p := principal(c); p != nil {
			e.ActorKind, e.ActorID, e.ActorName = p.Kind, p.ID, p.Name
		}
		if len(detail) > 0 {
			e.Detail = store.MustJSON(detail)
		}
		if err := s.Store.AddAudit(c.Request.Context(), e); err != nil {
			s.Logger.Error("recording audit entry", "action", action, "error", err)
		}
		if strings.HasPrefix(action, "workflow.") && s.WorkflowsChanged != nil {
			s.WorkflowsChanged() // e.g. the scheduler reloads at once
		}
	}
}

// auditTargetNameKey is the detail key that keeps the target's readable name.
const auditTargetNameKey = "target_name"

// auditTargetName is the target's readable name ("" when it has none or
// cannot be read: the entry is still written, with the id).
func (s *server) auditTargetName(c *gin.Context, targetType, id string) string {
	names, err := s.Store.AuditTargetNames(c.Request.Context(), targetType, []string{id})
	if err != nil {
		s.Logger.Warn("reading an audit target's name", "type", targetType, "error", err)
		return ""
	}
	return names[id]
}

func decodeStrict(c *gin.Context, v any) bool {
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, 64<<10))
	if err != nil {
		problem(c, http.StatusRequestEntityTooLarge, "request body is larger than 64 KiB")
		return false
	}
	if !utf8Body(c, raw) {
		return false
	}
	if err := unmarshalStrict(raw, v, false); err != nil {
		problem(c, http.StatusBadRequest, "request body is not the expected JSON: "+err.Error())
		return false
	}
	return true
}

func authFail(c *gin.Context, err error) {
	switch {
	case errors.Is(err, auth.ErrBadCredentials):
		problem(c, http.StatusUnauthorized, err.Error())
	case errors.Is(err, auth.ErrBusy):
		c.Header("Retry-After", "1")
		problem(c, http.StatusTooManyRequests, err.Error())
	case errors.Is(err, auth.ErrLocked), errors.Is(err, auth.ErrRateLimited):
		c.Header("Retry-After", "60")
		problem(c, http.StatusTooManyRequests, err.Error())
	case errors.Is(err, auth.ErrLastAdmin):
		problem(c, http.StatusConflict, err.Error())
	default:
		fail(c, err)
	}
}

func viewUser(u *store.User) userView {
	return userView{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Disabled: u.Disabled, CreatedAt: u.CreatedAt}
}

func (s *server) setSessionCookies(c *gin.Context, res *auth.LoginResult) {
	secure := strings.HasPrefix(s.PublicURL, "https://")
	maxAge := int(time.Until(res.Expires).Seconds())
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: res.Token, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	// Readable by the app, which echoes it in X-CSRF-Token (double submit).
	http.SetCookie(c.Writer, &http.Cookie{Name: csrfCookie, Value: res.CSRF, Path: "/", MaxAge: maxAge,
		Secure: secure, SameSite: http.SameSiteStrictMode})
}

func (s *server) authStatus(c *gin.Context) {
	needs, err := s.Auth.NeedsSetup(c.Request.Context())
	reply(c, http.StatusOK, authStatusView{NeedsSetup: needs}, err)
}

func (s *server) setup(c *gin.Context) {
	var in credentials
	if !decodeStrict(c, &in) {
		return
	}
	u, err := s.Auth.Setup(c.Request.Context(), auth.UserInput{Email: in.Email, Password: in.Password, Name: in.Name})
	if errors.Is(err, store.ErrConflict) {
		problem(c, http.StatusConflict, "this instance already has an admin; sign in instead")
		return
	}
	if err != nil {
		authFail(c, err)
		return
	}
	c.Set(auditTarget, u.ID)
	s.signIn(c, http.StatusCreated, in.Email, in.Password)
}

func (s *server) login(c *gin.Context) {
	var in credentials
	if !decodeStrict(c, &in) {
		return
	}
	s.signIn(c, http.StatusOK, in.Email, in.Password)
}

// signIn opens a session and answers with the signed-in user: the end of
// setup, login and a used invite or reset link.
func (s *server) signIn(c *gin.Context, status int, email, password string) {
	res, err := s.Auth.Login(c.Request.Context(), email, password, c.ClientIP())
	if err != nil {
		authFail(c, err)
		return
	}
	s.setSessionCookies(c, res)
	c.Set(principalKey, &auth.Principal{Kind: "user", ID: res.User.ID, Name: res.User.Email, Role: res.User.Role})
	c.Set(auditTarget, res.User.ID)
	c.JSON(status, signedIn{User: viewUser(res.User), CSRFToken: res.CSRF})
}

func (s *server) logout(c *gin.Context) {
	if cookie, err := c.Cookie(sessionCookie); err == nil {
		if err := s.Auth.Logout(c.Request.Context(), cookie); err != nil {
			fail(c, err)
			return
		}
	}
	for _, name := range []string{sessionCookie, csrfCookie} {
		http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1})
	}
	c.Status(http.StatusNoContent)
}

func (s *server) me(c *gin.Context) {
	p := principal(c)
	out := meView{Kind: p.Kind, ID: p.ID, Name: p.Name, Role: p.Role}
	if p.Kind == "user" {
		u, err := s.Store.GetUser(c.Request.Context(), p.UserID)
		if err != nil {
			fail(c, err)
			return
		}
		uv, csrf := viewUser(u), p.CSRF
		out.User, out.CSRFToken = &uv, &csrf
	}
	c.JSON(http.StatusOK, out)
}

func (s *server) listUsers(c *gin.Context) {
	us, err := s.Store.ListUsers(c.Request.Context())
	if err != nil {
		fail(c, err)
		return
	}
	pending, err := s.Store.PendingInvites(c.Request.Context(), time.Now())
	if err != nil {
		fail(c, err)
		return
	}
	items := make([]userView, len(us))
	for i := range us {
		items[i] = viewUser(&us[i])
		items[i].InvitePending = pending[us[i].ID]
	}
	c.JSON(http.StatusOK, Page[userView]{Items: items})
}

func (s *server) getUser(c *gin.Context) {
	u, err := s.Store.GetUser(c.Request.Context(), c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, viewUser(u))
}

func (s *server) createUser(c *gin.Context) {
	var in auth.UserInput
	if !decodeStrict(c, &in) {
		return
	}
	u, err := s.Auth.CreateUser(c.Request.Context(), in)
	if err != nil {
		authFail(c, err)
		return
	}
	c.Set(auditTarget, u.ID)
	c.JSON(http.StatusCreated, viewUser(u))
}

func (s *server) updateUser(c *gin.Context) {
	var in auth.UserInput
	if !decodeStrict(c, &in) {
		return
	}
	before, err := s.Store.GetUser(c.Request.Context(), c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	u, err := s.Auth.UpdateUser(c.Request.Context(), c.Param("id"), in)
	if err != nil {
		authFail(c, err)
		return
	}
	c.Set(auditDetail, map[string]any{"changes": userChanges(before, u, in.Password != "")})
	c.JSON(http.StatusOK, viewUser(u))
}

func (s *server) deleteUser(c *gin.Context) {
	if err := s.Auth.DeleteUser(c.Request.Context(), c.Param("id")); err != nil {
		authFail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func viewKey(k *store.APIKey, st auth.KeyStatus) keyView {
	v := keyView{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Role: k.Role, CreatedBy: k.CreatedBy,
		CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt, EffectiveRole: st.Role}
	if k.OwnerID != nil {
		v.Owner = &keyOwner{ID: *k.OwnerID, Email: st.OwnerEmail, Role: st.OwnerRole,
			Disabled: st.OwnerDisabled, Deleted: st.OwnerEmail == ""}
	}
	return v
}

// viewKeys renders keys with what each acts as now.
func (s *server) viewKeys(ctx context.Context, ks []store.APIKey) ([]keyView, error) {
	sts, err := s.Auth.KeyStatuses(ctx, ks)
	if err != nil {
		return nil, fmt.Errorf("key statuses: %w", err)
	}
	items := make([]keyView, len(ks))
	for i := range ks {
		items[i] = viewKey(&ks[i], sts[ks[i].ID])
	}
	return items, nil
}

func (s *server) listKeys(c *gin.Context) {
	ks, err := s.Store.ListAPIKeys(c.Request.Context())
	if err != nil {
		fail(c, err)
		return
	}
	items, err := s.viewKeys(c.Request.Context(), ks)
	reply(c, http.StatusOK, Page[keyView]{Items: items}, err)
}

func (s *server) createKey(c *gin.Context) {
	var in newKeyRequest
	if !decodeStrict(c, &in) {
		return
	}
	p := principal(c)
	if !auth.Allows(p.Role, in.Role) && auth.ValidRole(in.Role) {
		problem(c, http.StatusForbidden, "a key cannot have more rights than its creator ("+p.Role+")")
		return
	}
	k, secret, err := s.Auth.NewOwnedAPIKey(c.Request.Context(), in.Name, in.Role, p.Name, p.UserID)
	if err != nil {
		authFail(c, err)
		return
	}
	c.Set(auditTarget, k.ID)
	views, err := s.viewKeys(c.Request.Context(), []store.APIKey{*k})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, createdKey{APIKey: views[0], Key: secret,
		Note: "store this key now: it is shown only once"})
}

func (s *server) revokeKey(c *gin.Context) {
	noContent(c, s.Store.RevokeAPIKey(c.Request.Context(), c.Param("id"), time.Now()))
}

// userChanges lists what an update changed, as [old, new] pairs (a new
// password only as true).
func userChanges(before, after *store.User, password bool) map[string]any {
	ch := map[string]any{}
	if before.Email != after.Email {
		ch["email"] = []string{before.Email, after.Email}
	}
	if before.Name != after.Name {
		ch["name"] = []string{before.Name, after.Name}
	}
	if before.Role != after.Role {
		ch["role"] = []string{before.Role, after.Role}
	}
	if before.Disabled != after.Disabled {
		ch["disabled"] = []bool{before.Disabled, after.Disabled}
	}
	if password {
		ch["password"] = true
	}
	return ch
}
