// Package connections manages named credentials: checked against the
// connector's auth fields, sealed at rest, write-only through the API, and
// opened only when a step runs.
package connections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/fielderr"
	"github.com/switchboard-dev/switchboard/internal/secrets"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/tlsconf"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

// ErrInvalid is returned (wrapped in *InvalidError) for bad input.
var ErrInvalid = errors.New("invalid connection")

// InvalidError lists problems by field key.
type InvalidError = fielderr.Invalid

func invalid(problems map[string]string) *InvalidError {
	return &InvalidError{What: "connection", Problems: problems, Sentinel: ErrInvalid}
}

// Service manages connections.
type Service struct {
	st    *store.Store
	reg   *connectors.Registry
	ring  *secrets.Keyring
	oauth OAuthTokens // nil: OAuth2 connections cannot be opened
}

// Option configures a Service when it is built.
type Option func(*Service)

// WithOAuth gives OAuth2 connections fresh access tokens: Credentials and
// Test add access_token and token_type to their fields. build receives the
// service being built, because the token source (internal/oauth) keeps its
// records in it.
func WithOAuth(build func(*Service) OAuthTokens) Option {
	return func(s *Service) { s.oauth = build(s) }
}

// New returns a Service.
func New(st *store.Store, reg *connectors.Registry, ring *secrets.Keyring, opts ...Option) *Service {
	s := &Service{st: st, reg: reg, ring: ring}
	for _, o := range opts {
		o(s)
	}
	return s
}

// View is a connection as the API shows it: secret values never leave.
type View struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Connector string          `json:"connector"`
	Fields    map[string]any  `json:"fields"`     // non-secret values
	SecretSet map[string]bool `json:"secret_set"` // which secret fields hold a value
	KeyID     string          `json:"key_id"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	// OAuth is set for OAuth2 connections: settings and status, never tokens.
	OAuth *OAuthView `json:"oauth,omitempty"`
	// Status is connected, or needs_attention with Attention saying why
	// in words (unknown connector, a required field empty, not
	// authorized yet, a token the provider refused, secrets that cannot be
	// opened).
	Status    string `json:"status" enum:"connected,needs_attention"`
	Attention string `json:"attention,omitempty"`
	// Failure is the last failed "Test connection" or refused use (the
	// service answered 401/403 to a step), until a test or a use succeeds.
	Failure *Failure `json:"failure,omitempty"`
	// UsedBy are the workflows whose current version names this
	// connection (List and Get fill it).
	UsedBy []Usage `json:"used_by" nullable:"false"`
}

// Failure says why and when a connection last failed.
type Failure struct {
	Reason string    `json:"reason"`
	Source string    `json:"source" enum:"test,step" description:"test: a failed Test connection; step: a step's call was refused (401/403)"`
	At     time.Time `json:"at"`
}

// Failure sources.
const (
	FailedTest = "test"
	FailedStep = "step"
)

// Usage is one workflow that names a connection, and where.
type Usage struct {
	WorkflowID   string   `json:"workflow_id"`
	WorkflowName string   `json:"workflow_name"`
	Active       bool     `json:"active"`
	Steps        []string `json:"steps" nullable:"false" description:"ids of the steps that use it (\"\" is the trigger's signature check)"`
}

// Statuses of a connection.
const (
	StatusConnected      = "connected"
	StatusNeedsAttention = "needs_attention"
)

// Input creates or updates a connection. On update, a secret field left
// out keeps its stored value.
type Input struct {
	Name      string            `json:"name"`
	Connector string            `json:"connector"`
	Fields    map[string]string `json:"fields"`
	// OAuth2 gives any connection OAuth2 client settings. On update it
	// replaces the stored settings, except that an omitted client_secret
	// keeps its stored value.
	OAuth2 *OAuthConfig `json:"oauth2,omitempty"`
}

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$`)

// tlsFields let any connection present a client certificate and trust a
// custom CA (outbound mutual TLS); every HTTP call of its steps uses them.
var tlsFields = []connectors.Field{
	{Key: tlsconf.FieldClientCert, Label: "Client certificate (PEM)", Type: connectors.TypeText,
		Help: "Presented to the service for mutual TLS; with its private key"},
	{Key: tlsconf.FieldClientKey, Label: "Client certificate key (PEM)", Type: connectors.TypeText, Secret: true},
	{Key: tlsconf.FieldCA, Label: "Custom CA (PEM)", Type: connectors.TypeText,
		Help: "Trust the service's certificate when it is signed by this CA"},
}

func (s *Service) spec(id string) (connectors.Spec, error) {
	c, ok := s.reg.Get(id)
	if !ok {
		return connectors.Spec{}, invalid(map[string]string{"connector": fmt.Sprintf("unknown connector %q", id)})
	}
	spec := c.Spec()
	// A copy: the registry's spec stays as the connector declared it.
	spec.Auth.Fields = slices.Concat(spec.Auth.Fields, tlsFields)
	return spec, nil
}

func (s *Service) check(spec connectors.Spec, in Input) error {
	problems := map[string]string{}
	if !namePattern.MatchString(in.Name) {
		problems["name"] = "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
	}
	known := map[string]connectors.Field{}
	for _, f := range spec.Auth.Fields {
		known[f.Key] = f
		if f.Required && in.Fields[f.Key] == "" {
			problems["fields."+f.Key] = "is required"
		}
	}
	for k := range in.Fields {
		if _, ok := known[k]; !ok {
			problems["fields."+k] = fmt.Sprintf("is not a credential field of %s", spec.ID)
		}
	}
	if _, _, err := tlsconf.FromCredentials(in.Fields); err != nil {
		problems["fields."+tlsconf.FieldClientCert] = err.Error()
	}
	if len(problems) > 0 {
		return invalid(problems)
	}
	return nil
}

func (s *Service) seal(c *store.Connection, spec connectors.Spec, fields map[string]string) error {
	raw, err := json.Marshal(fields)
	if err != nil {
		return fmt.Errorf("encoding fields: %w", err)
	}
	sealed, err := s.ring.Seal(raw, []byte(c.ID))
	if err != nil {
		return err
	}
	public := map[string]any{}
	for _, f := range spec.Auth.Fields {
		if v, ok := fields[f.Key]; ok && !f.Secret {
			public[f.Key] = v
		}
	}
	c.FieldsSealed, c.KeyID, c.Public = sealed, secrets.KeyID(sealed), store.MustJSON(public)
	return nil
}

// Create validates and stores a new connection.
func (s *Service) Create(ctx context.Context, in Input) (*View, error) {
	spec, err := s.spec(in.Connector)
	if err != nil {
		return nil, err
	}
	if in.Fields == nil {
		in.Fields = map[string]string{}
	}
	if err := s.check(spec, in); err != nil {
		return nil, err
	}
	c := &store.Connection{ID: store.NewID(), Name: in.Name, Connector: in.Connector}
	if err := s.seal(c, spec, in.Fields); err != nil {
		return nil, err
	}
	if err := s.applyOAuth(c, spec, nil, in.Fields, in.OAuth2); err != nil {
		return nil, err
	}
	if err := s.st.CreateConnection(ctx, c); err != nil {
		return nil, err
	}
	return s.view(c, spec, in.Fields), nil
}

// Update changes a connection's name or fields.
func (s *Service) Update(ctx context.Context, id string, in Input) (*View, error) {
	c, err := s.st.GetConnection(ctx, id)
	if err != nil {
		return nil, err
	}
	if in.Connector != "" && in.Connector != c.Connector {
		return nil, invalid(map[string]string{"connector": "cannot change; create a new connection"})
	}
	spec, err := s.spec(c.Connector)
	if err != nil {
		return nil, err
	}
	current, err := s.open(c)
	if err != nil {
		return nil, err
	}
	before := maps.Clone(current)
	if err := secretsStayPut(spec, before, in.Fields); err != nil {
		return nil, err
	}
	for k, v := range in.Fields {
		current[k] = v
	}
	if in.Name == "" {
		in.Name = c.Name
	}
	merged := Input{Name: in.Name, Connector: c.Connector, Fields: current}
	if err := s.check(spec, merged); err != nil {
		return nil, err
	}
	if err := s.applyOAuth(&store.Connection{ID: c.ID, ConnectionOAuth: c.ConnectionOAuth}, spec, before, current, in.OAuth2); err != nil {
		return nil, err // checked before anything is written
	}
	c.Name = in.Name
	if err := s.seal(c, spec, current); err != nil {
		return nil, err
	}
	if err := s.st.UpdateConnection(ctx, c); err != nil {
		return nil, err
	}
	if err := s.updateOAuth(ctx, c, spec, before, current, in.OAuth2); err != nil {
		return nil, err
	}
	return s.view(c, spec, current), nil
}

func (s *Service) open(c *store.Connection) (map[string]string, error) {
	raw, err := s.ring.Open(c.FieldsSealed, []byte(c.ID))
	if err != nil {
		return nil, fmt.Errorf("opening connection %s: %w", c.Name, err)
	}
	out := map[string]string{}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("opening connection %s: %w", c.Name, err)
	}
	return out, nil
}

func (s *Service) view(c *store.Connection, spec connectors.Spec, fields map[string]string) *View {
	v := &View{ID: c.ID, Name: c.Name, Connector: c.Connector, Fields: map[string]any{}, SecretSet: map[string]bool{},
		KeyID: c.KeyID, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	for _, f := range spec.Auth.Fields {
		val, set := fields[f.Key]
		if f.Secret {
			v.SecretSet[f.Key] = set && val != ""
		} else if set {
			v.Fields[f.Key] = val
		}
	}
	v.OAuth = s.oauthView(c, spec, fields)
	if c.FailedAt != nil {
		v.Failure = &Failure{Reason: c.Failure, Source: c.FailureSource, At: *c.FailedAt}
	}
	v.Status, v.Attention = StatusConnected, attention(spec, fields, v)
	if v.Attention != "" {
		v.Status = StatusNeedsAttention
	}
	v.UsedBy = []Usage{}
	return v
}

// attention says in words why a connection cannot work as it is ("": it
// looks ready).
func attention(spec connectors.Spec, fields map[string]string, v *View) string {
	if spec.ID == "" {
		return "its connector " + v.Connector + " is not installed (or was deleted); steps using it fail"
	}
	if v.OAuth != nil && v.OAuth.Status == OAuthNeedsAttention {
		if v.OAuth.Error != "" {
			return v.OAuth.Error
		}
		return "the OAuth2 authorization needs renewing: connect again"
	}
	if v.OAuth != nil {
		if v.Failure != nil {
			return v.Failure.Reason
		}
		return "" // the token replaces the credential fields
	}
	for _, f := range spec.Auth.Fields {
		if f.Required && fields[f.Key] == "" {
			return f.Label + " is empty"
		}
	}
	if v.Failure != nil {
		return v.Failure.Reason
	}
	return ""
}

// usage maps connection names to the workflows that use them.
func (s *Service) usage(ctx context.Context) (map[string][]Usage, error) {
	docs, err := s.st.CurrentDocuments(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string][]Usage{}
	for _, d := range docs {
		var doc workflow.Document
		if json.Unmarshal(d.Document, &doc) != nil {
			continue // a stored document always parses; a damaged one names nothing
		}
		byConn := map[string]*Usage{}
		var order []string
		for _, r := range workflow.ConnectionRefs(&doc) {
			u := byConn[r.Connection]
			if u == nil {
				u = &Usage{WorkflowID: d.ID, WorkflowName: d.Name, Active: d.Active, Steps: []string{}}
				byConn[r.Connection] = u
				order = append(order, r.Connection)
			}
			u.Steps = append(u.Steps, r.Step)
		}
		for _, name := range order {
			out[name] = append(out[name], *byConn[name])
		}
	}
	return out, nil
}

// UsedBy lists the workflows whose current version names the connection.
func (s *Service) UsedBy(ctx context.Context, name string) ([]Usage, error) {
	u, err := s.usage(ctx)
	if err != nil {
		return nil, err
	}
	if u[name] == nil {
		return []Usage{}, nil
	}
	return u[name], nil
}

// Get returns one connection's view.
func (s *Service) Get(ctx context.Context, id string) (*View, error) {
	c, err := s.st.GetConnection(ctx, id)
	if err != nil {
		return nil, err
	}
	spec, _ := s.spec(c.Connector)
	fields, err := s.open(c)
	if err != nil {
		return nil, err
	}
	v := s.view(c, spec, fields)
	if v.UsedBy, err = s.UsedBy(ctx, c.Name); err != nil {
		return nil, err
	}
	return v, nil
}

// List returns every connection's view.
func (s *Service) List(ctx context.Context) ([]*View, error) {
	used, err := s.usage(ctx)
	if err != nil {
		return nil, err
	}
	return s.list(ctx, used)
}

// NeedingAttention lists the connections whose status is needs_attention,
// by name (the dashboard shows them; UsedBy is left empty).
func (s *Service) NeedingAttention(ctx context.Context) ([]*View, error) {
	all, err := s.list(ctx, nil)
	if err != nil {
		return nil, err
	}
	out := []*View{}
	for _, v := range all {
		if v.Status == StatusNeedsAttention {
			out = append(out, v)
		}
	}
	return out, nil
}

func (s *Service) list(ctx context.Context, used map[string][]Usage) ([]*View, error) {
	cs, err := s.st.ListConnections(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*View, 0, len(cs))
	for i := range cs {
		spec, _ := s.spec(cs[i].Connector)
		fields, openErr := s.open(&cs[i])
		if openErr != nil {
			// Show it, so an admin can fix or delete it.
			fields = map[string]string{}
		}
		v := s.view(&cs[i], spec, fields)
		if openErr != nil {
			v.Status, v.Attention = StatusNeedsAttention, "its secrets cannot be decrypted with this instance's key (SWITCHBOARD_SECRET_KEY changed?): enter them again"
		}
		if u := used[cs[i].Name]; u != nil {
			v.UsedBy = u
		}
		out = append(out, v)
	}
	return out, nil
}

// Delete removes a connection.
func (s *Service) Delete(ctx context.Context, id string) error { return s.st.DeleteConnection(ctx, id) }

// Credentials opens the named connection for a step of connectorID.
func (s *Service) Credentials(ctx context.Context, name, connectorID string) (map[string]string, error) {
	creds, _, err := s.CredentialsMarked(ctx, name, connectorID)
	return creds, err
}

// CredentialsMarked is Credentials, also saying whether a failure is
// recorded on the connection (the engine clears it after a success).
func (s *Service) CredentialsMarked(ctx context.Context, name, connectorID string) (map[string]string, bool, error) {
	c, err := s.st.GetConnectionByName(ctx, name)
	if err != nil {
		return nil, false, err
	}
	if c.Connector != connectorID {
		return nil, false, connectors.Permanent(fmt.Errorf("connection %q is for %s, not %s: %w", name, c.Connector, connectorID, ErrInvalid))
	}
	creds, err := s.credentials(ctx, c)
	if err != nil {
		return nil, false, err
	}
	return creds, c.FailedAt != nil, nil
}

// Refused records that a step's call with the named connection was refused
// by the service (401/403).
func (s *Service) Refused(ctx context.Context, name, reason string) error {
	return s.Failed(ctx, name, FailedStep, reason)
}

// Test runs the connector's connection test, when it has one.
func (s *Service) Test(ctx context.Context, id string, run func(ctx context.Context, conn connectors.Connector, creds map[string]string) error) error {
	c, err := s.st.GetConnection(ctx, id)
	if err != nil {
		return err
	}
	conn, ok := s.reg.Get(c.Connector)
	if !ok {
		return invalid(map[string]string{"connector": "unknown connector " + c.Connector})
	}
	creds, err := s.credentials(ctx, c)
	if err != nil {
		return err
	}
	err = run(ctx, conn, creds)
	switch {
	case errors.Is(err, connectors.ErrCannotTest):
		return err // nothing was contacted: nothing learned
	case err == nil:
		if rerr := s.st.ClearConnectionFailure(ctx, c.Name); rerr != nil {
			return rerr
		}
		return nil
	}
	if rerr := s.Failed(ctx, c.Name, FailedTest, "the last connection test failed: "+err.Error()); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// Failed records that the named connection failed (a test, or a step's
// call the service refused); its status needs attention until Worked.
func (s *Service) Failed(ctx context.Context, name, source, reason string) error {
	now := time.Now().UTC()
	return s.st.MarkConnectionFailed(ctx, name, store.ConnectionFailure{Failure: reason, FailureSource: source, FailedAt: &now})
}

// Worked forgets the named connection's recorded failure (a step using it
// succeeded).
func (s *Service) Worked(ctx context.Context, name string) error {
	return s.st.ClearConnectionFailure(ctx, name)
}

// Reseal re-encrypts every connection with the ring's primary key (after a
// key rotation) and returns how many it changed.
func (s *Service) Reseal(ctx context.Context) (int, error) {
	cs, err := s.st.ListConnections(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range cs {
		c := &cs[i]
		if c.KeyID == s.ring.Primary() && !s.oauthNeedsReseal(c) {
			continue
		}
		fields, err := s.open(c)
		if err != nil {
			return n, err
		}
		spec, _ := s.spec(c.Connector)
		if err := s.seal(c, spec, fields); err != nil {
			return n, err
		}
		if err := s.st.UpdateConnection(ctx, c); err != nil {
			return n, err
		}
		if err := s.resealOAuth(ctx, c); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Fields opens the named connection whatever its connector: a webhook
// trigger's verify.connection keeps its signing secrets (field "secret",
// or "secrets" comma-separated for rotation; "username"/"password" for
// basic) in a connection instead of the workflow document.
func (s *Service) Fields(ctx context.Context, name string) (map[string]string, error) {
	c, err := s.st.GetConnectionByName(ctx, name)
	if err != nil {
		return nil, err
	}
	return s.open(c)
}

// secretsStayPut refuses an update that changes a non-secret field (a base
// URL, a host, a port: where the secrets are sent) while keeping a stored
// secret it does not give again. A write-only secret must not be
// redirected to a server of the editor's choosing; giving it again (or ""
// to clear it) is the editor's proof of knowing it.
func secretsStayPut(spec connectors.Spec, before, given map[string]string) error {
	var changed []string
	for _, f := range spec.Auth.Fields {
		if v, ok := given[f.Key]; ok && !f.Secret && v != before[f.Key] {
			changed = append(changed, f.Key)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	problems := map[string]string{}
	for _, f := range spec.Auth.Fields {
		if _, ok := given[f.Key]; f.Secret && !ok && before[f.Key] != "" {
			problems["fields."+f.Key] = "enter it again (or send \"\" to clear it): " + strings.Join(changed, ", ") +
				" changed, and a stored secret is only sent where it was entered"
		}
	}
	if len(problems) > 0 {
		return invalid(problems)
	}
	return nil
}
