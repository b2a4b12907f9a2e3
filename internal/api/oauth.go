package api

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/connections"
	"github.com/switchboard-dev/switchboard/internal/oauth"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// oauthUser is who an authorization is bound to: the signed-in user (the
// one whose browser comes back), or the API key that started it.
func oauthUser(p *auth.Principal) string {
	if p == nil {
		return ""
	}
	if p.UserID != "" {
		return "user:" + p.UserID
	}
	return p.Kind + ":" + p.ID
}

func (s *server) oauthReady(c *gin.Context) bool {
	if s.OAuth == nil {
		problem(c, http.StatusNotImplemented, "OAuth2 connections are not set up in this process")
		return false
	}
	return true
}

func oauthFail(c *gin.Context, err error) {
	var te *oauth.TokenError
	switch {
	case errors.Is(err, oauth.ErrGrant), errors.Is(err, connections.ErrNotOAuth):
		problem(c, http.StatusConflict, err.Error())
	case errors.As(err, &te):
		problem(c, http.StatusBadGateway, err.Error())
	default:
		fail(c, err)
	}
}

// startOAuth answers the provider's consent URL; the app sends the browser
// there, and the provider sends it back to oauthCallback.
func (s *server) startOAuth(c *gin.Context) {
	if !s.oauthReady(c) {
		return
	}
	u, err := s.OAuth.Start(c.Request.Context(), c.Param("id"), oauthUser(principal(c)))
	if err != nil {
		oauthFail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, oauthStartView{AuthorizeURL: u})
}

// connectOAuth fetches a token for a client-credentials connection.
func (s *server) connectOAuth(c *gin.Context) {
	if !s.oauthReady(c) {
		return
	}
	ctx := c.Request.Context()
	if err := s.OAuth.Connect(ctx, c.Param("id")); err != nil {
		oauthFail(c, err)
		return
	}
	v, err := s.Connections.Get(ctx, c.Param("id"))
	reply(c, http.StatusOK, v, err)
}

// oauthCallback is a top-level browser navigation from the provider (the
// Lax session cookie comes along): the state is checked and spent, the code
// exchanged, and the browser sent back to the app. Failures get a small
// HTML page, since a person is looking at it.
func (s *server) oauthCallback(c *gin.Context) {
	if !s.oauthReady(c) {
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Referrer-Policy", "no-referrer") // the URL carries the code
	q := c.Request.URL.Query()
	id, err := s.OAuth.Callback(c.Request.Context(), oauth.CallbackParams{State: q.Get("state"), Code: q.Get("code"),
		Error: q.Get("error"), ErrorDescription: q.Get("error_description")}, oauthUser(principal(c)))
	if err == nil {
		c.Set(auditTarget, id)
		c.Redirect(http.StatusSeeOther, "/connections?"+url.Values{"connection": {id}, "oauth": {"connected"}}.Encode())
		return
	}
	var te *oauth.TokenError
	var pe *oauth.ProviderError
	switch {
	case errors.Is(err, oauth.ErrState), errors.As(err, &pe):
		oauthPage(c, http.StatusBadRequest, err.Error())
	case errors.As(err, &te):
		oauthPage(c, http.StatusBadGateway, err.Error())
	case errors.Is(err, store.ErrNotFound):
		oauthPage(c, http.StatusNotFound, "the connection no longer exists")
	case errors.Is(err, connections.ErrInvalid), errors.Is(err, connections.ErrNotOAuth):
		oauthPage(c, http.StatusConflict, err.Error())
	default:
		_ = c.Error(err)
		oauthPage(c, http.StatusInternalServerError, "internal error; see the server log for request "+c.GetString(requestIDKey))
	}
}

var oauthPageTemplate = template.Must(template.New("oauth").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Connection not authorized · Switchboard</title></head>
<body><h1>The connection was not authorized</h1><p>{{.}}</p><p><a href="/connections">Back to connections</a></p></body></html>
`))

func oauthPage(c *gin.Context, status int, msg string) {
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(status)
	_ = oauthPageTemplate.Execute(c.Writer, msg)
	c.Abort()
}
