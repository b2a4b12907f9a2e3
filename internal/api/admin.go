package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

// The admin area's routes: invitations and password-reset links, the audit
// log's filters and what changed, instance settings.

// auditDetail is what a handler tells the audit log changed (merged into
// the entry's detail).
const auditDetail = "audit_detail"

// linkPath is the app page that opens a one-time link; the secret travels
// in the fragment, so it reaches no server log or Referer.
const linkPath = "/account/link#"

func (s *server) linkURL(l *auth.Link) string {
	return strings.TrimRight(s.PublicURL, "/") + linkPath + l.Token
}

func (s *server) inviteUser(c *gin.Context) {
	var in auth.InviteInput
	if !decodeStrict(c, &in) {
		return
	}
	u, l, err := s.Auth.Invite(c.Request.Context(), in, principal(c).Name)
	if err != nil {
		authFail(c, err)
		return
	}
	c.Set(auditTarget, u.ID)
	c.Set(auditDetail, map[string]any{"email": u.Email, "role": u.Role})
	v := viewUser(u)
	v.InvitePending = true
	c.JSON(http.StatusCreated, invitedUser{User: v, Link: userLinkView{URL: s.linkURL(l), Kind: l.Kind, ExpiresAt: l.ExpiresAt}})
}

func (s *server) resetLink(c *gin.Context) {
	l, err := s.Auth.ResetLink(c.Request.Context(), c.Param("id"), principal(c).Name)
	if err != nil {
		authFail(c, err)
		return
	}
	c.JSON(http.StatusCreated, userLinkView{URL: s.linkURL(l), Kind: l.Kind, ExpiresAt: l.ExpiresAt})
}

func linkFail(c *gin.Context, err error) {
	if errors.Is(err, auth.ErrLinkInvalid) {
		problem(c, http.StatusGone, err.Error())
		return
	}
	authFail(c, err)
}

func (s *server) getLink(c *gin.Context) {
	l, u, err := s.Auth.LinkInfo(c.Request.Context(), c.Param("token"))
	if err != nil {
		linkFail(c, err)
		return
	}
	c.JSON(http.StatusOK, linkInfoView{Kind: l.Kind, Email: u.Email, Name: u.Name, ExpiresAt: l.ExpiresAt})
}

func (s *server) useLink(c *gin.Context) {
	var in linkPassword
	if !decodeStrict(c, &in) {
		return
	}
	u, err := s.Auth.UseLink(c.Request.Context(), c.Param("token"), in.Password)
	if err != nil {
		linkFail(c, err)
		return
	}
	c.Set(auditTarget, u.ID)
	c.Set(principalKey, &auth.Principal{Kind: "user", ID: u.ID, Name: u.Email, Role: u.Role})
	if u.Disabled {
		problem(c, http.StatusForbidden, "the password is set, but this account is disabled; ask an admin to enable it")
		return
	}
	s.signIn(c, http.StatusOK, u.Email, in.Password)
}

func (s *server) listAuditFiltered(c *gin.Context) {
	p, ok := page(c)
	if !ok {
		return
	}
	f := store.AuditFilter{Actor: strings.TrimSpace(c.Query("actor")), Action: strings.TrimSpace(c.Query("action"))}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := c.Query(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				problem(c, http.StatusBadRequest, name+" must be an RFC 3339 time such as 2026-11-26T12:00:00Z")
				return
			}
			*dst = t
		}
	}
	es, next, err := s.Store.ListAuditFiltered(c.Request.Context(), f, p)
	if err != nil {
		fail(c, err)
		return
	}
	items := make([]auditView, len(es))
	missing := map[string][]string{} // target type -> ids without a name kept at write time
	for i, e := range es {
		items[i] = auditView{ID: e.ID, At: e.At, ActorKind: e.ActorKind, ActorID: e.ActorID, ActorName: e.ActorName,
			Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID, IP: e.IP, RequestID: e.RequestID,
			Detail: auditDetailJSON(e.Detail)}
		if n, ok := items[i].Detail[auditTargetNameKey].(string); ok {
			items[i].TargetName = n
			delete(items[i].Detail, auditTargetNameKey)
			if len(items[i].Detail) == 0 {
				items[i].Detail = nil
			}
		} else if e.TargetID != "" {
			missing[e.TargetType] = append(missing[e.TargetType], e.TargetID)
		}
	}
	// Entries written before names were kept: today's name, when it still exists.
	for typ, ids := range missing {
		names, err := s.Store.AuditTargetNames(c.Request.Context(), typ, ids)
		if err != nil {
			fail(c, err)
			return
		}
		for i := range items {
			if items[i].TargetName == "" && items[i].TargetType == typ {
				items[i].TargetName = names[items[i].TargetID]
			}
		}
	}
	c.JSON(http.StatusOK, Page[auditView]{Items: items, NextCursor: next})
}

func auditDetailJSON(j store.JSON) map[string]any {
	if len(j) == 0 {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(j, &m) != nil {
		return nil
	}
	return m
}

// maxAuditBody bounds the request body the audit log keeps; a larger one
// (a workflow document) is summarized by its size: its versions keep it.
const maxAuditBody = 4 << 10

// auditBody reads a JSON request body for the audit log, leaving it for
// the handler; nil when there is none to keep.
func auditBody(c *gin.Context) any {
	if c.Request.Body == nil || c.Request.ContentLength == 0 || !strings.Contains(c.GetHeader("Content-Type"), "json") {
		return nil
	}
	raw, err := io.ReadAll(io.LimitReader(c.Request.Body, maxAuditBody+1))
	rest := c.Request.Body
	c.Request.Body = readCloser{io.MultiReader(bytes.NewReader(raw), rest), rest}
	if err != nil || len(raw) == 0 {
		return nil
	}
	if len(raw) > maxAuditBody {
		return map[string]any{"body_bytes": c.Request.ContentLength, "note": "too large to keep here"}
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	return redactAudit(v, "")
}

type readCloser struct {
	io.Reader
	io.Closer
}

// secretish are keys whose values the audit log never keeps; "fields" are
// a connection's credentials, kept by name only.
var secretish = []string{"password", "secret", "token", "credential", "authorization", "private", "api_key", "client_key"}

func redactAudit(v any, key string) any {
	k := strings.ToLower(key)
	for _, s := range secretish {
		if strings.Contains(k, s) {
			return "(redacted)"
		}
	}
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for kk, vv := range t {
			if k == "fields" || k == "headers" {
				out[kk] = "(set)"
				continue
			}
			out[kk] = redactAudit(vv, kk)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, vv := range t {
			out[i] = redactAudit(vv, key)
		}
		return out
	}
	return v
}

func (s *server) getSettings(c *gin.Context) {
	s.answerSettings(c)
}

func (s *server) answerSettings(c *gin.Context) {
	r, set, err := engine.LoadRetention(c.Request.Context(), s.Store, s.Retention)
	if err != nil {
		fail(c, err)
		return
	}
	out := settingsView{Retention: retentionView{MaxAge: durationText(r.MaxAge), MaxRuns: r.MaxRuns, Source: "configuration",
		Default: engine.RetentionSetting{MaxAge: durationText(s.Retention.MaxAge), MaxRuns: s.Retention.MaxRuns}}}
	if set {
		out.Retention.Source = "admin"
		if st, err := s.Store.GetSetting(c.Request.Context(), engine.RetentionKey); err == nil {
			out.Retention.UpdatedBy, out.Retention.UpdatedAt = st.UpdatedBy, &st.UpdatedAt
		}
	}
	c.JSON(http.StatusOK, out)
}

// durationText writes 720h as "720h" rather than "720h0m0s".
func durationText(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	t := d.String()
	if strings.HasSuffix(t, "m0s") {
		t = strings.TrimSuffix(t, "0s")
	}
	if strings.HasSuffix(t, "h0m") {
		t = strings.TrimSuffix(t, "0m")
	}
	return t
}

func (s *server) putSettings(c *gin.Context) {
	var in settingsInput
	if !decodeStrict(c, &in) {
		return
	}
	if in.Retention == nil {
		problem(c, http.StatusUnprocessableEntity, "invalid input", &workflow.FieldError{Path: "retention", Message: "is required"})
		return
	}
	if _, problems := in.Retention.Check(); problems != nil {
		var fields []*workflow.FieldError
		for k, v := range problems {
			fields = append(fields, &workflow.FieldError{Path: "retention." + k, Message: v})
		}
		problem(c, http.StatusUnprocessableEntity, "invalid input", fields...)
		return
	}
	err := s.Store.PutSetting(c.Request.Context(), &store.Setting{Key: engine.RetentionKey,
		Value: store.MustJSON(in.Retention), UpdatedBy: principal(c).Name})
	if err != nil {
		fail(c, err)
		return
	}
	c.Set(auditTarget, engine.RetentionKey)
	s.answerSettings(c)
}

func (s *server) resetSettings(c *gin.Context) {
	if err := s.Store.DeleteSetting(c.Request.Context(), engine.RetentionKey); err != nil && !errors.Is(err, store.ErrNotFound) {
		fail(c, err)
		return
	}
	c.Set(auditTarget, engine.RetentionKey)
	s.answerSettings(c)
}

// The wire types of these routes.

type invitedUser struct {
	User userView     `json:"user"`
	Link userLinkView `json:"link"`
}

type userLinkView struct {
	URL       string    `json:"url" description:"the one-time link to hand to the person: it is shown only in this answer"`
	Kind      string    `json:"kind" enum:"invite,reset"`
	ExpiresAt time.Time `json:"expires_at"`
}

type linkInfoView struct {
	Kind      string    `json:"kind" enum:"invite,reset"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	ExpiresAt time.Time `json:"expires_at"`
}

type linkPassword struct {
	Password string `json:"password"`
}

type auditQuery struct {
	pageQuery
	Actor  string    `query:"actor" description:"an actor's id, or part of their name or e-mail"`
	Action string    `query:"action" description:"an action (user.update), or every action of a kind ending in a dot (user.)"`
	Since  time.Time `query:"since" description:"entries at or after (RFC 3339)"`
	Until  time.Time `query:"until" description:"entries before (RFC 3339)"`
}

type settingsView struct {
	Retention retentionView `json:"retention"`
}

type retentionView struct {
	MaxAge    string                  `json:"max_age" description:"how long run history is kept (0: forever)"`
	MaxRuns   int                     `json:"max_runs" description:"newest runs kept per workflow (0: no limit)"`
	Source    string                  `json:"source" enum:"configuration,admin" description:"whether an admin changed it here or it comes from the configuration"`
	Default   engine.RetentionSetting `json:"default" description:"what the configuration (SWITCHBOARD_RETENTION_AGE, SWITCHBOARD_RETENTION_RUNS) says"`
	UpdatedBy string                  `json:"updated_by,omitempty"`
	UpdatedAt *time.Time              `json:"updated_at,omitempty"`
}

type settingsInput struct {
	Retention *engine.RetentionSetting `json:"retention"`
}
