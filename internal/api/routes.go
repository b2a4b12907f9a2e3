package api

import (
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/internal/auth"
)

// route is one line of the API's route table: who may call it, what the
// audit log calls it, and what the OpenAPI document says of it.
type route struct {
	method, path string
	role         string // "" is public
	action       string // audit action for changes ("" none)
	summary      string
	handler      gin.HandlerFunc
	status       int // success status for the OpenAPI document (default 200)
}

const (
	public = ""
	viewer = auth.RoleViewer
	editor = auth.RoleEditor
	admin  = auth.RoleAdmin
)

// routes is the API. Paths are relative to /api/v1.
func (s *server) routes() []route {
	return []route{
		{"GET", "/auth/status", public, "", "Whether the instance still needs its first admin", s.authStatus, 0},
		{"POST", "/auth/setup", public, "auth.setup", "Create the first admin (only once) and sign in", s.setup, 201},
		{"POST", "/auth/login", public, "auth.login", "Sign in with e-mail and password; sets the session and CSRF cookies", s.login, 0},
		{"POST", "/auth/logout", public, "", "Sign out (ends the session in the cookie)", s.logout, 204},
		{"GET", "/auth/me", viewer, "", "Who the request acts as", s.me, 0},

		{"GET", "/workflows", viewer, "", "List workflows", s.listWorkflows, 0},
		{"POST", "/workflows", editor, "workflow.create", "Create a workflow from a document (active unless ?active=false)", s.createWorkflow, 201},
		{"GET", "/workflows/webhook-url", editor, "", "A webhook URL for a workflow not saved yet (pass its token as ?webhook_token= when creating it)", s.newWebhookURL, 0},
		{"POST", "/workflows/import", editor, "workflow.import", "Import an exported document as a new workflow, switched off (?active=true turns it on)", s.importWorkflow, 201},
		{"POST", "/workflows/validate", editor, "", "Check a document without saving it", s.validateWorkflow, 0},
		{"GET", "/workflows/:id", viewer, "", "A workflow with its current document (ETag: its version)", s.getWorkflow, 0},
		{"PUT", "/workflows/:id", editor, "workflow.update", "Save a new version (If-Match: the ETag you read, else 412)", s.updateWorkflow, 0},
		{"DELETE", "/workflows/:id", editor, "workflow.delete", "Delete a workflow, its versions and runs", s.deleteWorkflow, 204},
		{"POST", "/workflows/:id/activate", editor, "workflow.activate", "Switch a workflow on", s.activateWorkflow, 0},
		{"POST", "/workflows/:id/deactivate", editor, "workflow.deactivate", "Switch a workflow off", s.deactivateWorkflow, 0},
		{"POST", "/workflows/:id/duplicate", editor, "workflow.duplicate", "Copy a workflow (inactive)", s.duplicateWorkflow, 201},
		{"GET", "/workflows/:id/export", viewer, "", "The current document, for import elsewhere", s.exportWorkflow, 0},
		{"GET", "/workflows/:id/versions", viewer, "", "Every saved version", s.listVersions, 0},
		{"GET", "/workflows/:id/versions/:version", viewer, "", "One version's document", s.getVersion, 0},
		{"GET", "/workflows/:id/versions/:version/diff", viewer, "", "What changed from another version (?against=N, default the previous)", s.diffVersion, 0},
		{"POST", "/workflows/:id/versions/:version/restore", editor, "workflow.restore", "Save an old version as the newest", s.restoreVersion, 0},
		{"POST", "/workflows/:id/test", editor, "workflow.test", "Run the current version once with a sample trigger payload", s.testWorkflow, 202},
		{"GET", "/workflows/:id/inbox", viewer, "", "Every request the webhook got, with its verdict", s.inbox, 0},
		{"POST", "/workflows/:id/inbox/:item/resend", editor, "webhook.resend", "Run the workflow's current version with a recorded request, whatever its verdict then", s.resendInbound, 202},
		{"POST", "/workflows/:id/inbox/:item/sample", editor, "webhook.sample", "Keep a recorded request as the workflow's sample data", s.sampleFromInbound, 0},
		{"GET", "/workflows/:id/schedule", viewer, "", "A schedule trigger in words and its next five fire times", s.scheduleInfo, 0},
		{"GET", "/workflows/:id/sample", viewer, "", "The sample data captured by the test URL", s.sample, 0},
		{"POST", "/workflows/:id/webhook/rotate", editor, "workflow.rotate_token", "Give the webhook a new URL", s.rotateToken, 0},

		{"POST", "/steps/test", editor, "step.test", "Run one action step alone with sample data (calls the service; records nothing)", s.testStep, 0},
		{"POST", "/expressions/evaluate", editor, "", "Evaluate an expression or template against sample data", s.evaluateExpression, 0},
		{"GET", "/schedules/describe", viewer, "", "A cron spec (?cron=, ?timezone=) in words and its next five fire times, for the editor", s.describeSchedule, 0},

		{"GET", "/dashboard", viewer, "", "The home dashboard: runs by state over a range (?range=hour|day|week), success rate, p50/p95 duration, failing workflows, queue, connections needing attention", s.dashboard, 0},
		{"GET", "/runs", viewer, "", "List runs, newest first (filters: workflow, state, trigger, since, until, q = text in the trigger input)", s.listRuns, 0},
		{"GET", "/runs/count", viewer, "", "How many runs the same filters select (capped at 100,000)", s.countRuns, 0},
		{"POST", "/runs/replay", editor, "run.replay_bulk", "Replay every run a filter selects", s.replayRuns, 202},
		{"GET", "/runs/:id", viewer, "", "A run with its steps and deliveries", s.getRun, 0},
		{"POST", "/runs/:id/cancel", editor, "run.cancel", "Cancel a run that has not ended", s.cancelRun, 0},
		{"POST", "/runs/:id/replay", editor, "run.replay", "Replay a run from the start or its failed step", s.replayRun, 202},

		{"GET", "/connectors", viewer, "", "Connector specs (forms are drawn from them)", s.listConnectors, 0},
		{"GET", "/connectors/installed", admin, "", "Every connector with its origin (builtin, file, plugin), switch, version and hash", s.installedConnectors, 0},
		{"POST", "/connectors", admin, "connector.upload", "Add or replace a connector: a declarative file (application/yaml or application/json; checked and its inline tests run first) or a WebAssembly plugin module (application/wasm; checked, stored by hash as a new version)", s.uploadConnector, 201},
		{"GET", "/connectors/:id/versions", admin, "", "Every upload of a WebAssembly plugin, newest first", s.pluginVersions, 0},
		{"POST", "/connectors/:id/versions/:version/activate", admin, "connector.activate_version", "Make an earlier upload of a plugin current again", s.activatePluginVersion, 0},
		{"POST", "/connectors/:id/disable", admin, "connector.disable", "Take a connector out of service (workflows using it fail until enabled)", s.disableConnector, 0},
		{"POST", "/connectors/:id/enable", admin, "connector.enable", "Put a disabled connector back", s.enableConnector, 0},
		{"DELETE", "/connectors/:id", admin, "connector.delete", "Delete an uploaded declarative connector or plugin (built-ins cannot be deleted)", s.deleteConnector, 204},
		{"GET", "/connections", viewer, "", "List connections (secrets never shown)", s.listConnections, 0},
		{"POST", "/connections", editor, "connection.create", "Create a connection", s.createConnection, 201},
		{"GET", "/connections/:id", viewer, "", "A connection (secrets never shown)", s.getConnection, 0},
		{"PUT", "/connections/:id", editor, "connection.update", "Change a connection; omitted secrets are kept", s.updateConnection, 0},
		{"DELETE", "/connections/:id", editor, "connection.delete", "Delete a connection", s.deleteConnection, 204},
		{"POST", "/connections/:id/test", editor, "", "Test a connection's credentials", s.testConnection, 0},
		{"POST", "/connections/:id/oauth/start", editor, "", "Begin OAuth2 authorization (code flow with PKCE): answers the provider's consent URL to send the browser to", s.startOAuth, 0},
		{"POST", "/connections/:id/oauth/connect", editor, "connection.oauth_connect", "Fetch a token for an OAuth2 client-credentials connection", s.connectOAuth, 0},
		{"GET", "/oauth/callback", editor, "connection.oauth_authorize", "Where the OAuth2 provider sends the browser back (code, state): checks the state, stores the tokens, redirects to the app", s.oauthCallback, 303},

		{"GET", "/users", admin, "", "List users", s.listUsers, 0},
		{"POST", "/users", admin, "user.create", "Add a user", s.createUser, 201},
		{"GET", "/users/:id", admin, "", "A user", s.getUser, 0},
		{"PATCH", "/users/:id", admin, "user.update", "Change a user's name, role, password or disabled flag", s.updateUser, 0},
		{"DELETE", "/users/:id", admin, "user.delete", "Remove a user", s.deleteUser, 204},
		{"GET", "/api-keys", admin, "", "List API keys (never the keys themselves)", s.listKeys, 0},
		{"POST", "/api-keys", admin, "api_key.create", "Create an API key; the key is shown once", s.createKey, 201},
		{"DELETE", "/api-keys/:id", admin, "api_key.revoke", "Revoke an API key", s.revokeKey, 204},
		{"GET", "/audit", admin, "", "Who changed what, newest first (filters: actor, action, since, until)", s.listAuditFiltered, 0},
		{"POST", "/users/invite", admin, "user.invite", "Invite a person: creates the user and answers a one-time link (shown once) where they choose their password", s.inviteUser, 201},
		{"POST", "/users/:id/reset-link", admin, "user.reset_link", "A one-time password-reset link for a user (shown once; replaces earlier unused links)", s.resetLink, 201},
		{"GET", "/auth/links/:token", public, "", "What a one-time link is for (invitation or reset) and whose it is", s.getLink, 0},
		{"POST", "/auth/links/:token", public, "user.link_used", "Set the password through a one-time link and sign in", s.useLink, 0},
		{"GET", "/settings", admin, "", "Instance settings that are safe to change while it runs (retention)", s.getSettings, 0},
		{"PUT", "/settings", admin, "settings.update", "Change instance settings; every process applies them on its next pass", s.putSettings, 0},
		{"DELETE", "/settings/retention", admin, "settings.reset", "Go back to the configured retention", s.resetSettings, 0},

		{"GET", "/event-types", viewer, "", "The catalog of Switchboard's own events, with versioned example payloads", s.listEventTypes, 0},
		{"GET", "/subscriptions", admin, "", "List event subscriptions (secrets never shown)", s.listSubscriptions, 0},
		{"POST", "/subscriptions", admin, "subscription.create", "Subscribe a URL to events; the signing secret is shown once, in this answer", s.createSubscription, 201},
		{"GET", "/subscriptions/:id", admin, "", "A subscription", s.getSubscription, 0},
		{"PATCH", "/subscriptions/:id", admin, "subscription.update", "Change a subscription's URL, events, workflow filter, headers or enabled flag", s.updateSubscription, 0},
		{"DELETE", "/subscriptions/:id", admin, "subscription.delete", "Delete a subscription and its deliveries", s.deleteSubscription, 204},
		{"POST", "/subscriptions/:id/rotate-secret", admin, "subscription.rotate_secret", "New signing secret (shown once); with overlap the old one keeps signing too", s.rotateSubscriptionSecret, 0},
		{"POST", "/subscriptions/:id/test", admin, "subscription.test", "Send a test event (example data) to this subscription", s.testSubscription, 202},
		{"GET", "/subscriptions/:id/deliveries", admin, "", "A subscription's deliveries, newest first", s.listSubscriptionDeliveries, 0},
		{"GET", "/subscriptions/:id/deliveries/:delivery", admin, "", "One delivery with its payload and every attempt", s.getSubscriptionDelivery, 0},
		{"POST", "/subscriptions/:id/deliveries/:delivery/resend", admin, "subscription.resend", "Send a delivery again now (same event id)", s.resendSubscriptionDelivery, 202},
	}
}

// mount registers the table on the /api/v1 group.
func (s *server) mount(v1 *gin.RouterGroup) {
	for _, rt := range s.routes() {
		var chain []gin.HandlerFunc
		// The connector upload checks its own types (YAML, JSON, WebAssembly).
		if (rt.method == http.MethodPost || rt.method == http.MethodPut || rt.method == http.MethodPatch) && rt.method+" "+rt.path != "POST /connectors" {
			chain = append(chain, jsonBody)
		}
		if sameOriginOnly[rt.path] {
			chain = append(chain, s.sameOrigin)
		}
		if rt.role != public {
			chain = append(chain, s.require(rt.role))
		}
		if rt.action != "" {
			chain = append(chain, s.audit(rt.action))
		}
		v1.Handle(rt.method, rt.path, append(chain, rt.handler)...)
	}
}

var pathParam = regexp.MustCompile(`:([a-z_]+)`)

func operationID(rt route) string {
	parts := []string{strings.ToLower(rt.method)}
	for _, seg := range strings.Split(strings.Trim(rt.path, "/"), "/") {
		if strings.HasPrefix(seg, ":") {
			seg = "by_" + seg[1:]
		}
		parts = append(parts, strings.ReplaceAll(seg, "-", "_"))
	}
	return strings.Join(parts, "_")
}

// Registered lists "METHOD /path" for every route the handler serves under
// /api/ (for the test that keeps the OpenAPI document true).
func Registered(h http.Handler) []string {
	e, ok := h.(*gin.Engine)
	if !ok {
		return nil
	}
	var out []string
	for _, r := range e.Routes() {
		if strings.HasPrefix(r.Path, "/api/v1/") {
			out = append(out, r.Method+" "+pathParam.ReplaceAllString(r.Path, "{$1}"))
		}
	}
	sort.Strings(out)
	return out
}

// sameOriginOnly are the public routes that change who the browser is
// signed in as; a cross-site page must not call them (login CSRF).
var sameOriginOnly = map[string]bool{"/auth/setup": true, "/auth/login": true, "/auth/logout": true, "/auth/links/:token": true}

// sameOrigin refuses requests a browser marks as coming from another site
// (Sec-Fetch-Site) or whose Origin is not this server.
func (s *server) sameOrigin(c *gin.Context) {
	switch c.GetHeader("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		problem(c, http.StatusForbidden, "cross-site requests may not sign in, set up or sign out (Sec-Fetch-Site: "+c.GetHeader("Sec-Fetch-Site")+")")
		return
	}
	if o := c.GetHeader("Origin"); o != "" && !s.ownOrigin(c, o) {
		problem(c, http.StatusForbidden, "requests from origin "+o+" may not sign in, set up or sign out")
		return
	}
	c.Next()
}

func (s *server) ownOrigin(c *gin.Context, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false // includes "null" (sandboxed frames, file: pages)
	}
	if strings.EqualFold(u.Host, c.Request.Host) {
		return true
	}
	pu, err := url.Parse(s.PublicURL)
	return err == nil && strings.EqualFold(u.Scheme, pu.Scheme) && strings.EqualFold(u.Host, pu.Host)
}

// jsonBody refuses a body that is not JSON (415): a cross-site form or
// text/plain fetch cannot reach a JSON route without a preflight. A body
// without a Content-Type is read as JSON (programs).
func jsonBody(c *gin.Context) {
	ct := c.GetHeader("Content-Type")
	if ct == "" {
		c.Next()
		return
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		problem(c, http.StatusUnsupportedMediaType, "Content-Type must be application/json (got "+ct+")")
		return
	}
	c.Next()
}
