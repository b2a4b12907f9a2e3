package api

import (
	"encoding/json"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/connectors/declarative"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/connections"
	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/events"
	"github.com/switchboard-dev/switchboard/internal/flows"
	"github.com/switchboard-dev/switchboard/internal/plugins"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

// contract is the wire shape of one route, for the OpenAPI document (and,
// from it, the frontend's generated types). Path parameters come from the
// route's path; the rest is declared here.
//
// To add a route: add its line to routes() and its line to contracts, with
// the Go types its handler reads and writes (handlers should answer with
// exactly the out type, so the two cannot drift). TestEveryRouteHasAContract
// fails until you do.
type contract struct {
	// params is a struct whose fields carry `query:"name"` or
	// `header:"Name"` tags (nil: none besides the path's).
	params any
	// body is the JSON request body (nil: the route reads none).
	body any
	// bodyTypes lists media types of a body that is a file, not JSON.
	bodyTypes []string
	// out is the success response body (nil only for 204 and redirects).
	out any
}

// contracts maps "METHOD /path" (as in routes()) to its contract.
var contracts = map[string]contract{
	"GET /auth/status":                              {out: authStatusView{}},
	"POST /auth/setup":                              {body: credentials{}, out: signedIn{}},
	"POST /auth/login":                              {body: credentials{}, out: signedIn{}},
	"POST /auth/logout":                             {},
	"GET /auth/me":                                  {out: meView{}},
	"GET /workflows":                                {params: pageQuery{}, out: Page[*flows.Summary]{}},
	"POST /workflows":                               {params: createWorkflowQuery{}, body: workflow.Document{}, out: flows.View{}},
	"GET /workflows/webhook-url":                    {out: newWebhookView{}},
	"POST /workflows/import":                        {params: importWorkflowQuery{}, body: workflow.Document{}, out: flows.View{}},
	"POST /workflows/validate":                      {body: workflow.Document{}, out: validView{}},
	"GET /workflows/:id":                            {out: flows.View{}},
	"PUT /workflows/:id":                            {params: ifMatchHeader{}, body: workflow.Document{}, out: flows.View{}},
	"DELETE /workflows/:id":                         {},
	"POST /workflows/:id/activate":                  {out: flows.View{}},
	"POST /workflows/:id/deactivate":                {out: flows.View{}},
	"POST /workflows/:id/duplicate":                 {out: flows.View{}},
	"GET /workflows/:id/export":                     {out: workflow.Document{}},
	"GET /workflows/:id/versions":                   {out: Page[versionView]{}},
	"GET /workflows/:id/versions/:version":          {out: versionView{}},
	"GET /workflows/:id/versions/:version/diff":     {params: diffQuery{}, out: versionDiff{}},
	"POST /workflows/:id/versions/:version/restore": {out: flows.View{}},
	"POST /workflows/:id/test":                      {body: testPayload{}, out: runView{}},
	"GET /workflows/:id/inbox":                      {params: inboxQuery{}, out: Page[inboxView]{}},
	"GET /workflows/:id/schedule":                   {out: scheduleView{}},
	"GET /schedules/describe":                       {params: describeScheduleQuery{}, out: scheduleDescription{}},
	"GET /workflows/:id/sample":                     {out: sampleView{}},
	"POST /workflows/:id/inbox/:item/resend":        {out: runView{}},
	"POST /workflows/:id/inbox/:item/sample":        {out: sampleView{}},
	"POST /workflows/:id/webhook/rotate":            {out: flows.View{}},

	"POST /steps/test":           {body: stepTestRequest{}, out: stepTestResult{}},
	"POST /expressions/evaluate": {body: evaluateRequest{}, out: evaluated{}},

	"GET /runs":             {params: runsQuery{}, out: Page[runView]{}},
	"GET /runs/count":       {params: runsFilterQuery{}, out: runCount{}},
	"GET /dashboard":        {params: dashboardQuery{}, out: dashboardView{}},
	"POST /runs/replay":     {body: bulkReplay{}, out: bulkReplayResult{}},
	"GET /runs/:id":         {out: runDetail{}},
	"POST /runs/:id/cancel": {out: runView{}},
	"POST /runs/:id/replay": {body: engine.ReplayOptions{}, out: runView{}},

	"GET /connectors":                                 {out: connectorList{}},
	"GET /connectors/installed":                       {out: installedList{}},
	"POST /connectors":                                {bodyTypes: []string{"application/yaml", "application/json", "application/wasm"}, out: connectorInfo{}},
	"GET /connectors/:id/versions":                    {out: pluginVersionList{}},
	"POST /connectors/:id/versions/:version/activate": {out: plugins.Info{}},
	"POST /connectors/:id/disable":                    {out: connectorInfo{}},
	"POST /connectors/:id/enable":                     {out: connectorInfo{}},
	"DELETE /connectors/:id":                          {},
	"GET /connections":                                {out: Page[*connections.View]{}},
	"POST /connections":                               {body: connections.Input{}, out: connections.View{}},
	"GET /connections/:id":                            {out: connections.View{}},
	"PUT /connections/:id":                            {body: connections.Input{}, out: connections.View{}},
	"DELETE /connections/:id":                         {},
	"POST /connections/:id/test":                      {out: connectionTestResult{}},
	"POST /connections/:id/oauth/start":               {out: oauthStartView{}},
	"POST /connections/:id/oauth/connect":             {out: connections.View{}},
	"GET /oauth/callback":                             {params: oauthCallbackQuery{}},

	"GET /users":                 {out: Page[userView]{}},
	"POST /users":                {body: auth.UserInput{}, out: userView{}},
	"GET /users/:id":             {out: userView{}},
	"PATCH /users/:id":           {body: userPatch{}, out: userView{}},
	"DELETE /users/:id":          {},
	"GET /api-keys":              {out: Page[keyView]{}},
	"POST /api-keys":             {body: newKeyRequest{}, out: createdKey{}},
	"DELETE /api-keys/:id":       {},
	"GET /audit":                 {params: auditQuery{}, out: Page[auditView]{}},
	"POST /users/invite":         {body: auth.InviteInput{}, out: invitedUser{}},
	"POST /users/:id/reset-link": {out: userLinkView{}},
	"GET /auth/links/:token":     {out: linkInfoView{}},
	"POST /auth/links/:token":    {body: linkPassword{}, out: signedIn{}},
	"GET /settings":              {out: settingsView{}},
	"PUT /settings":              {body: settingsInput{}, out: settingsView{}},
	"DELETE /settings/retention": {out: settingsView{}},

	"GET /event-types":                                    {out: Page[events.Type]{}},
	"GET /subscriptions":                                  {out: Page[*events.View]{}},
	"POST /subscriptions":                                 {body: events.Input{}, out: events.View{}},
	"GET /subscriptions/:id":                              {out: events.View{}},
	"PATCH /subscriptions/:id":                            {body: events.Input{}, out: events.View{}},
	"DELETE /subscriptions/:id":                           {},
	"POST /subscriptions/:id/rotate-secret":               {body: rotateRequest{}, out: events.View{}},
	"POST /subscriptions/:id/test":                        {body: testEventRequest{}, out: events.DeliveryView{}},
	"GET /subscriptions/:id/deliveries":                   {params: pageQuery{}, out: Page[*events.DeliveryView]{}},
	"GET /subscriptions/:id/deliveries/:delivery":         {out: events.DeliveryView{}},
	"POST /subscriptions/:id/deliveries/:delivery/resend": {out: events.DeliveryView{}},
}

// Page is one page of a list; next_cursor is "" on the last page.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

type pageQuery struct {
	Cursor string `query:"cursor" description:"next_cursor from the previous page"`
	Limit  int    `query:"limit" minimum:"1" maximum:"200" description:"page size (default 50)"`
}

type createWorkflowQuery struct {
	Active       string `query:"active" enum:"true,false" description:"false saves the workflow switched off"`
	WebhookToken string `query:"webhook_token" description:"the token of GET /workflows/webhook-url, so the URL shown before the first save is the one that works"`
}

type newWebhookView struct {
	Token      string `json:"token"`
	WebhookURL string `json:"webhook_url"`
	TestURL    string `json:"test_url"`
}

type importWorkflowQuery struct {
	Active string `query:"active" enum:"true,false" description:"true turns the imported workflow on (default: switched off)"`
}

type ifMatchHeader struct {
	IfMatch string `header:"If-Match" description:"the ETag you read (else the save is refused with 412 when someone saved since)"`
}

type diffQuery struct {
	Against int `query:"against" minimum:"1" description:"the version to compare with (default the previous one)"`
}

type inboxQuery struct {
	pageQuery
	Verdict string `query:"verdict" enum:"accepted,rejected,ignored,duplicate,captured"`
}

type runsQuery struct {
	pageQuery
	runsFilterQuery
}

type runsFilterQuery struct {
	Workflow string    `query:"workflow" description:"a workflow id"`
	State    string    `query:"state" enum:"queued,running,waiting,succeeded,failed,filtered,canceled"`
	Trigger  string    `query:"trigger" description:"trigger type: webhook, schedule, form, manual, replay"`
	Since    time.Time `query:"since" description:"runs created at or after (RFC 3339)"`
	Until    time.Time `query:"until" description:"runs created before (RFC 3339)"`
	Q        string    `query:"q" description:"text to find in the trigger input (at most 200 characters)"`
}

type dashboardQuery struct {
	Range string `query:"range" enum:"hour,day,week" description:"the time range (default day)"`
}

type oauthCallbackQuery struct {
	State            string `query:"state"`
	Code             string `query:"code"`
	Error            string `query:"error"`
	ErrorDescription string `query:"error_description"`
}

type authStatusView struct {
	NeedsSetup bool `json:"needs_setup"`
}

type credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name,omitempty"`
}

type signedIn struct {
	User      userView `json:"user"`
	CSRFToken string   `json:"csrf_token"`
}

// meView is who a request acts as; user and csrf_token only for a signed-in user.
type meView struct {
	Kind      string    `json:"kind" enum:"user,api_key"`
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      string    `json:"role" enum:"admin,editor,viewer"`
	User      *userView `json:"user,omitempty"`
	CSRFToken *string   `json:"csrf_token,omitempty" nullable:"false"`
}

type userView struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role" enum:"admin,editor,viewer"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
	// InvitePending: invited, and the invitation link is not used yet.
	InvitePending bool `json:"invite_pending"`
}

// userPatch is auth.UserInput as PATCH reads it: every field optional.
type userPatch struct {
	Email    string `json:"email,omitempty"`
	Name     string `json:"name,omitempty"`
	Password string `json:"password,omitempty"`
	Role     string `json:"role,omitempty" enum:"admin,editor,viewer"`
	Disabled *bool  `json:"disabled,omitempty"`
}

type keyView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Role       string     `json:"role" enum:"admin,editor,viewer"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	// EffectiveRole is what the key acts as now (KeyPrincipal's rule).
	EffectiveRole string    `json:"effective_role" enum:",admin,editor,viewer" description:"the role the key acts with now: its role capped by its owner's current role; empty when it does not work (revoked, owner disabled or deleted)"`
	Owner         *keyOwner `json:"owner,omitempty" description:"the user the key acts for; absent for a key made on the command line"`
}

type keyOwner struct {
	ID       string `json:"id"`
	Email    string `json:"email" description:"empty when the user has been deleted"`
	Role     string `json:"role" enum:",admin,editor,viewer" description:"the owner's current role; empty when deleted"`
	Disabled bool   `json:"disabled"`
	Deleted  bool   `json:"deleted"`
}

type newKeyRequest struct {
	Name string `json:"name"`
	Role string `json:"role" enum:"admin,editor,viewer"`
}

type createdKey struct {
	APIKey keyView `json:"api_key"`
	Key    string  `json:"key" description:"the key itself, shown only this once"`
	Note   string  `json:"note"`
}

type auditView struct {
	ID         string    `json:"id"`
	At         time.Time `json:"at"`
	ActorKind  string    `json:"actor_kind"`
	ActorID    string    `json:"actor_id"`
	ActorName  string    `json:"actor_name"`
	Action     string    `json:"action"`
	TargetType string    `json:"target_type"`
	TargetID   string    `json:"target_id"`
	// TargetName is the target as a person reads it (a user's e-mail; a
	// workflow's, connection's or API key's name) as it was when the entry
	// was written; "" when it has none.
	TargetName string `json:"target_name,omitempty"`
	IP         string `json:"ip"`
	RequestID  string `json:"request_id"`
	// Detail is what changed: the request's fields (secrets redacted) and
	// what the handler adds (a role's old and new value).
	Detail map[string]any `json:"detail,omitempty"`
}

type validView struct {
	Valid bool `json:"valid"`
}

type versionView struct {
	Version   int                  `json:"version"`
	CreatedAt string               `json:"created_at" format:"date-time"`
	Document  workflow.RawDocument `json:"document,omitempty"`
}

type versionDiff struct {
	From    int      `json:"from"`
	To      int      `json:"to"`
	Changes []change `json:"changes"`
}

type testPayload struct {
	Body    any               `json:"body,omitempty" description:"the trigger body (default: the captured sample)"`
	Headers map[string]string `json:"headers,omitempty"`
	Query   map[string]string `json:"query,omitempty"`
}

type scheduleView struct {
	Cron        string   `json:"cron"`
	Timezone    string   `json:"timezone"`
	Misfire     string   `json:"misfire"`
	Description string   `json:"description"`
	Active      bool     `json:"active"`
	Next        []string `json:"next" description:"the next five fire times (RFC 3339, in the schedule's zone)"`
}

type describeScheduleQuery struct {
	Cron     string `query:"cron" required:"true" description:"a robfig/cron/v3 spec: five or six fields, or a descriptor such as @daily or @every 1h"`
	Timezone string `query:"timezone" description:"an IANA time zone (default UTC)"`
}

type scheduleDescription struct {
	Cron        string   `json:"cron"`
	Timezone    string   `json:"timezone"`
	Description string   `json:"description" description:"the spec in English, or the spec itself when there is no sentence for it"`
	Next        []string `json:"next" description:"the next five fire times (RFC 3339, in the schedule's zone)"`
}

type sampleView struct {
	Sample     rawTrigger `json:"sample" nullable:"true" description:"the trigger data captured by the test URL (null: none yet)"`
	CapturedAt *time.Time `json:"captured_at"`
}

type stepTestRequest struct {
	Step workflow.Step  `json:"step"`
	Data map[string]any `json:"data,omitempty"`
}

type stepTestResult struct {
	OK     bool           `json:"ok"`
	Output any            `json:"output"`
	Error  *stepTestError `json:"error,omitempty"`
}

type stepTestError struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

type evaluated struct {
	Type  string `json:"type"`
	Value any    `json:"value"`
}

type bulkReplayResult struct {
	Replayed int      `json:"replayed"`
	RunIDs   []string `json:"run_ids"`
}

type connectorList struct {
	Items []connectors.Spec `json:"items"`
}

// connectionTestResult: tested says whether anything was contacted; a
// connection that cannot be tested is ok=false, tested=false, never ok.
type connectionTestResult struct {
	OK     bool `json:"ok"`
	Tested bool `json:"tested" description:"false: nothing was contacted, because this connector (or these credentials) has no harmless call; message says why"`
	// Message says in words what happened.
	Message string `json:"message"`
	Error   string `json:"error,omitempty"`
}

type oauthStartView struct {
	AuthorizeURL string `json:"authorize_url"`
}

// rawTrigger is a run's recorded trigger input, as stored; the OpenAPI
// document describes it as triggerInput.
type rawTrigger json.RawMessage

// MarshalJSON writes the stored JSON as it is.
func (t rawTrigger) MarshalJSON() ([]byte, error) { return json.RawMessage(t).MarshalJSON() }

// triggerInput is what a trigger hands a run: a webhook's request, a form's
// fields, a schedule's fire time (only the schema uses this type).
type triggerInput struct {
	Body       any            `json:"body,omitempty" description:"the request body (JSON, form fields or text)"`
	Headers    map[string]any `json:"headers,omitempty"`
	Query      map[string]any `json:"query,omitempty"`
	Method     string         `json:"method,omitempty"`
	ReceivedAt string         `json:"received_at,omitempty" format:"date-time"`
	FiredAt    string         `json:"fired_at,omitempty" format:"date-time" description:"schedule triggers: when it fired"`
	_          struct{}       `additionalProperties:"true"`
}

// connectorInfo is an installed connector: a declarative.Info (builtin or
// file) or a plugins.Info (plugin); its origin says which.
type connectorInfo struct{ v any }

// MarshalJSON writes the info it holds.
func (i connectorInfo) MarshalJSON() ([]byte, error) { return json.Marshal(i.v) }

// JSONSchemaOneOf tells the OpenAPI document the two shapes.
func (connectorInfo) JSONSchemaOneOf() []any { return []any{declarative.Info{}, plugins.Info{}} }

type installedList struct {
	Items []connectorInfo `json:"items" nullable:"false"`
}

type pluginVersionList struct {
	Items []plugins.VersionInfo `json:"items" nullable:"false"`
}
