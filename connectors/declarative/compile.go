package declarative

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/expr"
)

// The top-level names templates may use, by where they appear.
var (
	requestNames = []string{"input", "credentials"}
	outputNames  = []string{"response", "input"}
	errorNames   = []string{"response"}
)

var methods = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true}

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Parse checks a connector file (YAML or JSON) and compiles its templates;
// name is the file name used in messages. It does not run the inline tests:
// Load does. A refused file yields an *Error listing every problem with its
// line.
func Parse(name string, data []byte) (*Connector, error) {
	var f file
	src := decode(name, data, &f)
	if src.fatal {
		return nil, src.err()
	}
	c := &Connector{file: name, hash: Hash(data), actions: map[string]*action{}}
	src.build(&f, c)
	if err := src.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// Hash is the content hash a loaded file is known by: "sha256:" and 16 hex digits.
func Hash(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:8])
}

func (s *source) build(f *file, c *Connector) {
	if !idPattern.MatchString(f.ID) {
		s.add("id", "must be lower-case letters, digits and _, starting with a letter (got %q)", f.ID)
	}
	if strings.TrimSpace(f.Name) == "" {
		s.add("name", "is required")
	}
	if strings.TrimSpace(f.Version) == "" {
		s.add("version", "is required (e.g. 1.0.0)")
	}
	if u, err := url.Parse(f.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		s.add("base_url", "must be an http:// or https:// address without query (got %q)", f.BaseURL)
	} else {
		u.Path = strings.TrimRight(u.Path, "/")
		c.baseURL = u
	}
	authFields := s.fields("auth.fields", f.Auth.Fields)
	c.auth = s.auth(f.Auth, authFields)
	c.spec = connectors.Spec{ID: f.ID, Name: f.Name, Description: f.Description, Icon: f.Icon, Version: f.Version,
		Auth: connectors.AuthSpec{Kind: c.auth.kind, Fields: authFields, Optional: f.Auth.Optional || c.auth.kind == connectors.AuthNone}}
	for _, fd := range authFields {
		if fd.Key == "base_url" {
			c.baseFromCredentials = true
		}
	}
	if f.Error != nil {
		if f.Error.If != "" {
			p, err := expr.CompileWithNames(f.Error.If, errorNames)
			if err != nil {
				s.addTemplate("error.if", err)
			}
			c.errorIf = p
		}
		if f.Error.Message != "" {
			t, err := expr.ParseTemplateWithNames(f.Error.Message, errorNames)
			if err != nil {
				s.addTemplate("error.message", err)
			}
			c.errorMessage = t
		}
		if f.Error.RetryAfter != "" {
			t, err := expr.ParseTemplateWithNames(f.Error.RetryAfter, errorNames)
			if err != nil {
				s.addTemplate("error.retry_after", err)
			}
			c.errorRetryAfter = t
		}
	}
	if len(f.Actions) == 0 {
		s.add("actions", "at least one action is required")
	}
	declared := map[string]bool{}
	for _, ad := range f.Actions {
		declared[ad.ID] = true
	}
	credKeys := map[string]bool{}
	for _, fd := range authFields {
		credKeys[fd.Key] = true
	}
	for i, ad := range f.Actions {
		path := fmt.Sprintf("actions[%d]", i)
		a := s.action(path, ad, credKeys)
		if a == nil {
			continue
		}
		if _, dup := c.actions[ad.ID]; dup {
			s.add(path+".id", "action %q is already defined", ad.ID)
			continue
		}
		c.actions[ad.ID] = a
		c.spec.Actions = append(c.spec.Actions, a.spec)
	}
	if t := f.Auth.Test; t != nil {
		c.testAction = s.action("auth.test", actionDef{ID: "connection_test", Name: "Test connection", Method: t.Method, Path: t.Path,
			Query: t.Query, Headers: t.Headers}, credKeys)
		c.spec.Auth.Test = t.Description
		if c.spec.Auth.Test == "" {
			c.spec.Auth.Test = fmt.Sprintf("Sends %s %s with the credentials; a 2xx answer means they work.", strings.ToUpper(t.Method), t.Path)
		}
	} else {
		c.spec.Auth.Test = "Cannot be tested: this connector's file declares no harmless request to check credentials with (auth.test)."
	}
	for i, td := range f.Tests {
		path := fmt.Sprintf("tests[%d]", i)
		if t := s.test(path, td, declared); t != nil {
			c.tests = append(c.tests, t)
		}
	}
	if len(s.probs) == 0 {
		if err := c.spec.Validate(); err != nil {
			s.add("", "%v", err)
		}
	}
}

type authConfig struct {
	typ                string
	kind               connectors.AuthKind
	credential         string
	header, param      string
	username, password string
	optional           bool
}

func (s *source) auth(a authDef, fields []connectors.Field) authConfig {
	has := map[string]bool{}
	for _, f := range fields {
		has[f.Key] = true
	}
	cfg := authConfig{typ: a.Type, credential: a.Credential, header: a.Header, param: a.Param,
		username: a.Username, password: a.Password, optional: a.Optional}
	needCredential := func() {
		switch {
		case a.Credential == "":
			s.add("auth.credential", "is required for auth type %s: name the field in auth.fields that holds the token", a.Type)
		case !has[a.Credential]:
			s.add("auth.credential", "%q is not one of auth.fields", a.Credential)
		}
	}
	switch a.Type {
	case "", "none":
		cfg.typ, cfg.kind = "none", connectors.AuthNone
	case "bearer":
		cfg.kind = connectors.AuthToken
		needCredential()
	case "header":
		cfg.kind = connectors.AuthToken
		needCredential()
		if a.Header == "" {
			s.add("auth.header", "is required for auth type header (e.g. X-Api-Key)")
		}
	case "query":
		cfg.kind = connectors.AuthToken
		needCredential()
		if a.Param == "" {
			s.add("auth.param", "is required for auth type query (e.g. api_token)")
		}
	case "basic":
		cfg.kind = connectors.AuthBasic
		if cfg.username == "" {
			cfg.username = "username"
		}
		if cfg.password == "" {
			cfg.password = "password"
		}
		if !has[cfg.username] {
			s.add("auth.username", "%q is not one of auth.fields", cfg.username)
		}
		if !has[cfg.password] {
			s.add("auth.password", "%q is not one of auth.fields", cfg.password)
		}
	case "oauth2":
		// The token comes from the connection's OAuth2 settings (refreshed
		// ahead of expiry); actions send it as Authorization: Bearer.
		cfg.kind = connectors.AuthOAuth2
	default:
		s.add("auth.type", "must be none, bearer, header, query, basic or oauth2 (got %q)", a.Type)
	}
	return cfg
}

func (s *source) fields(path string, defs []fieldDef) []connectors.Field {
	out := make([]connectors.Field, 0, len(defs))
	seen := map[string]bool{}
	for i, d := range defs {
		p := fmt.Sprintf("%s[%d]", path, i)
		if !idPattern.MatchString(d.Key) {
			s.add(p+".key", "must be lower-case letters, digits and _, starting with a letter (got %q)", d.Key)
			continue
		}
		if seen[d.Key] {
			s.add(p+".key", "%q is already defined", d.Key)
			continue
		}
		seen[d.Key] = true
		f := connectors.Field{Key: d.Key, Label: d.Label, Type: connectors.FieldType(d.Type), Required: d.Required,
			Help: d.Help, Default: d.Default, Secret: d.Secret}
		if f.Label == "" {
			f.Label = humanize(d.Key)
		}
		if f.Type == "" {
			f.Type = connectors.TypeString
		}
		switch f.Type {
		case connectors.TypeString, connectors.TypeText, connectors.TypeNumber, connectors.TypeBoolean,
			connectors.TypeObject, connectors.TypeList, connectors.TypeAny:
		case connectors.TypeSelect:
			if len(d.Options) == 0 {
				s.add(p+".options", "a select field needs options")
			}
		default:
			s.add(p+".type", "must be string, text, number, boolean, select, object, list or any (got %q)", d.Type)
		}
		for _, o := range d.Options {
			label := o.Label
			if label == "" {
				label = o.Value
			}
			f.Options = append(f.Options, connectors.Option{Value: o.Value, Label: label})
		}
		out = append(out, f)
	}
	return out
}

func humanize(key string) string {
	s := strings.ReplaceAll(key, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// action is one compiled action.
type action struct {
	spec     connectors.ActionSpec
	method   string
	path     []pathPart
	query    *expr.Value // object
	headers  *expr.Value // object
	body     *expr.Value // nil: no body
	form     bool
	output   *expr.Value // nil: the parsed body
	defaults map[string]any
}

// pathPart is literal text or one {{ }} expression, whose value is
// path-escaped.
type pathPart struct {
	text string
	tmpl *expr.Template
}

var refPattern = regexp.MustCompile(`\b(input|credentials)\.([A-Za-z_][A-Za-z0-9_]*)`)

func (s *source) action(path string, d actionDef, credKeys map[string]bool) *action {
	ok := len(s.probs)
	if !idPattern.MatchString(d.ID) {
		s.add(path+".id", "must be lower-case letters, digits and _, starting with a letter (got %q)", d.ID)
	}
	if strings.TrimSpace(d.Name) == "" {
		s.add(path+".name", "is required")
	}
	a := &action{method: strings.ToUpper(d.Method), defaults: map[string]any{}}
	if !methods[a.method] {
		s.add(path+".method", "must be GET, POST, PUT, PATCH or DELETE (got %q)", d.Method)
	}
	a.spec = connectors.ActionSpec{ID: d.ID, Name: d.Name, Description: d.Description,
		Input: s.fields(path+".input", d.Input), SampleOutput: d.SampleOutput}
	inputKeys := map[string]bool{}
	for _, f := range a.spec.Input {
		inputKeys[f.Key] = true
		if f.Default != nil {
			a.defaults[f.Key] = f.Default
		}
	}
	// Names used in templates must be declared: a typo fails here, not in a run.
	refs := func(p string, v any, allowCreds bool) {
		for _, ts := range templateStrings(p, v) {
			for _, m := range refPattern.FindAllStringSubmatch(exprText(ts.text), -1) {
				switch {
				case m[1] == "input" && !inputKeys[m[2]]:
					s.add(ts.path, "input.%s is not an input of this action", m[2])
				case m[1] == "credentials" && !allowCreds:
					s.add(ts.path, "credentials cannot be used here")
				case m[1] == "credentials" && !credKeys[m[2]]:
					s.add(ts.path, "credentials.%s is not one of auth.fields", m[2])
				}
			}
		}
	}
	if !strings.HasPrefix(d.Path, "/") {
		s.add(path+".path", "must start with / (got %q)", d.Path)
	} else {
		a.path = s.pathParts(path+".path", d.Path)
		refs(path+".path", d.Path, true)
	}
	a.query = s.value(path+".query", toAny(d.Query), requestNames)
	refs(path+".query", toAny(d.Query), true)
	headers := map[string]any{}
	for k, v := range d.Headers {
		headers[k] = v
	}
	a.headers = s.value(path+".headers", headers, requestNames)
	refs(path+".headers", headers, true)
	if d.Body != nil {
		if a.method == "GET" || a.method == "DELETE" {
			s.add(path+".body", "a %s request has no body; use query", a.method)
		}
		a.body = s.value(path+".body", d.Body, requestNames)
		refs(path+".body", d.Body, true)
	}
	switch d.BodyType {
	case "", "json":
	case "form":
		a.form = true
		if _, isObj := d.Body.(map[string]any); d.Body != nil && !isObj {
			s.add(path+".body", "a form body must be an object")
		}
	default:
		s.add(path+".body_type", "must be json or form (got %q)", d.BodyType)
	}
	if d.Output != nil {
		a.output = s.value(path+".output", d.Output, outputNames)
		refs(path+".output", d.Output, false)
	}
	if len(s.probs) > ok {
		return nil
	}
	return a
}

func toAny(m map[string]any) any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// value compiles a template-bearing value, reporting errors at their path.
func (s *source) value(path string, v any, names []string) *expr.Value {
	c, err := expr.CompileValueWithNames(v, names)
	if err != nil {
		sub, inner := expr.SplitPath(err)
		s.addTemplate(path+sub, inner)
		return nil
	}
	return c
}

func (s *source) addTemplate(path string, err error) {
	var e *expr.Error
	if errors.As(err, &e) && e.Line > 0 {
		where := fmt.Sprintf("column %d", e.Column)
		if e.Line > 1 {
			where = fmt.Sprintf("line %d, column %d", e.Line, e.Column)
		}
		s.add(path, "template %s: %s", where, e.Message)
		return
	}
	s.add(path, "%v", err)
}

func (s *source) pathParts(path, p string) []pathPart {
	var parts []pathPart
	rest := p
	for rest != "" {
		i := strings.Index(rest, "{{")
		if i < 0 {
			parts = append(parts, pathPart{text: rest})
			break
		}
		if i > 0 {
			parts = append(parts, pathPart{text: rest[:i]})
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			s.add(path, "unclosed {{: add }}")
			return nil
		}
		t, err := expr.ParseTemplateWithNames(rest[i:i+j+2], requestNames)
		if err != nil {
			s.addTemplate(path, err)
			return nil
		}
		parts = append(parts, pathPart{tmpl: t})
		rest = rest[i+j+2:]
	}
	return parts
}

// exprText is the text inside the {{ }} parts of s, without the literal text
// around them.
func exprText(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			return b.String()
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return b.String()
		}
		b.WriteString(s[i+2 : i+j])
		b.WriteString(" ")
		s = s[i+j+2:]
	}
}

// templateStrings lists the strings inside v that hold {{ }}, with their
// paths.
func templateStrings(path string, v any) []pathText {
	var out []pathText
	var walk func(string, any)
	walk = func(p string, v any) {
		switch x := v.(type) {
		case string:
			if expr.HasTemplate(x) {
				out = append(out, pathText{p, x})
			}
		case map[string]any:
			for k, sub := range x {
				walk(p+"."+k, sub)
			}
		case []any:
			for i, sub := range x {
				walk(fmt.Sprintf("%s[%d]", p, i), sub)
			}
		}
	}
	walk(path, v)
	return out
}

type pathText struct{ path, text string }
