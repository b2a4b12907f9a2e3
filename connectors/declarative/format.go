// Package declarative builds HTTP connectors from YAML or JSON files, with no
// Go code and no rebuild: the file declares the same Spec as a Go connector
// (id, name, credential fields, actions with typed inputs) plus, per action,
// the HTTP request to send and how to map the answer to the step's output.
// Requests and outputs are {{ }} templates (internal/expr) over input.<key>,
// credentials.<key> and response.status|headers|body. A file carries inline
// tests — given this input and these credentials, expect this request — that
// run against an in-process receiver before the connector is accepted.
//
// A minimal file:
//
//	id: acme
//	name: Acme CRM
//	version: 1.0.0
//	base_url: https://api.acme.example/v2
//	auth:
//	  type: bearer            # none, bearer, header, query, basic or oauth2
//	  credential: token       # the credential field that holds the token
//	  fields:
//	    - {key: token, label: API token, type: string, required: true, secret: true}
//	actions:
//	  - id: add_contact
//	    name: Add a contact
//	    input:
//	      - {key: email, label: E-mail, type: string, required: true}
//	    method: POST
//	    path: /contacts
//	    body: {email: "{{ input.email }}"}
//	    output: {id: "{{ response.body.id }}"}
//	tests:
//	  - action: add_contact
//	    input: {email: ada@example.com}
//	    credentials: {token: t0k}
//	    expect:
//	      method: POST
//	      path: /v2/contacts
//	      headers: {Authorization: Bearer t0k}
//	      body: {email: ada@example.com}
//	    response: {status: 201, body: {id: 7}}
//	    output: {id: 7}
//
// Parse checks a file and compiles its templates; Load also runs its inline
// tests. A Loader keeps a folder of files in a Registry.
package declarative

// file is the document as written. Field doc comments are for authors.
type file struct {
	// ID is the connector id: lower-case letters, digits and _, starting with a letter.
	ID          string `yaml:"id"`
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Icon        string `yaml:"icon"`
	// Version is the author's version of the file (kept with a content hash).
	Version string `yaml:"version"`
	// BaseURL is prefixed to every action's path. A connection may override
	// it when auth.fields declares a base_url field.
	BaseURL string  `yaml:"base_url"`
	Auth    authDef `yaml:"auth"`
	// Error says how to read a failure from the vendor's answer.
	Error   *errorDef   `yaml:"error"`
	Actions []actionDef `yaml:"actions"`
	Tests   []testDef   `yaml:"tests"`
}

type authDef struct {
	// Type is none, bearer (Authorization: Bearer <credential>), header
	// (<header>: <credential>), query (?<param>=<credential>), basic or oauth2.
	Type string `yaml:"type"`
	// Credential names the field holding the token (bearer, header, query).
	Credential string `yaml:"credential"`
	Header     string `yaml:"header"`
	Param      string `yaml:"param"`
	// Username and Password name the basic-auth fields (default username, password).
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Optional lets actions run without a connection.
	Optional bool       `yaml:"optional"`
	Fields   []fieldDef `yaml:"fields"`
	// Test is the harmless request "Test connection" sends (a GET of the
	// account, say); a 2xx answer means the credentials work. Without it
	// the UI says plainly that the connector cannot test.
	Test *connTestDef `yaml:"test"`
}

type connTestDef struct {
	Method  string            `yaml:"method"`
	Path    string            `yaml:"path"`
	Query   map[string]any    `yaml:"query"`
	Headers map[string]string `yaml:"headers"`
	// Description says what the call does, for the person clicking Test.
	Description string `yaml:"description"`
}

type fieldDef struct {
	Key      string      `yaml:"key"`
	Label    string      `yaml:"label"`
	Type     string      `yaml:"type"`
	Required bool        `yaml:"required"`
	Help     string      `yaml:"help"`
	Default  any         `yaml:"default"`
	Options  []optionDef `yaml:"options"`
	Secret   bool        `yaml:"secret"`
}

type optionDef struct {
	Value string `yaml:"value"`
	Label string `yaml:"label"`
}

type errorDef struct {
	// If is an expression over response: when true, a 2xx answer is a
	// (permanent) failure, e.g. response.body.success == false.
	If string `yaml:"if"`
	// Message is a template over response giving the failure's text.
	Message string `yaml:"message"`
	// RetryAfter is a template over response giving the seconds to wait on
	// a 429 or 503 that has no Retry-After header (e.g. a vendor's own
	// X-Ratelimit-Reset).
	RetryAfter string `yaml:"retry_after"`
}

type actionDef struct {
	ID          string     `yaml:"id"`
	Name        string     `yaml:"name"`
	Description string     `yaml:"description"`
	Input       []fieldDef `yaml:"input"`
	// Method is GET, POST, PUT, PATCH or DELETE.
	Method string `yaml:"method"`
	// Path is appended to base_url; {{ }} parts are path-escaped.
	Path string `yaml:"path"`
	// Query parameters; a value that renders empty is left out, a list repeats the parameter.
	Query map[string]any `yaml:"query"`
	// Headers; a value that renders empty is left out.
	Headers map[string]string `yaml:"headers"`
	// Body is any JSON value with templates; object keys whose value renders
	// to null are left out, so optional inputs need no special care.
	Body any `yaml:"body"`
	// BodyType is json (default) or form.
	BodyType string `yaml:"body_type"`
	// Output maps the answer (response.status, .headers, .body) to the
	// step's output; default: the parsed response body.
	Output       any `yaml:"output"`
	SampleOutput any `yaml:"sample_output"`
}

type testDef struct {
	Name        string            `yaml:"name"`
	Action      string            `yaml:"action"`
	Input       map[string]any    `yaml:"input"`
	Credentials map[string]string `yaml:"credentials"`
	Expect      expectDef         `yaml:"expect"`
	// Response is what the receiver answers (default 200 with {}).
	Response *responseDef `yaml:"response"`
	// Output, when set, must equal the action's output.
	Output any `yaml:"output"`
	// Error, when set, says the action must fail this way.
	Error *errorExpect `yaml:"error"`
}

type expectDef struct {
	Method string `yaml:"method"`
	// Path is the full request path, base_url's path included.
	Path string `yaml:"path"`
	// Query must match exactly when given.
	Query map[string]any `yaml:"query"`
	// Headers listed must be present with these values; others may be too.
	Headers map[string]string `yaml:"headers"`
	// Body, when given, must equal the sent body (as JSON, or the form as an object).
	Body any `yaml:"body"`
}

type responseDef struct {
	Status  int               `yaml:"status"`
	Headers map[string]string `yaml:"headers"`
	// Body is sent as JSON, or as is when it is a string.
	Body any `yaml:"body"`
}

type errorExpect struct {
	// Kind is retryable, permanent, rate_limited or bad_input.
	Kind     string `yaml:"kind"`
	Contains string `yaml:"contains"`
}
