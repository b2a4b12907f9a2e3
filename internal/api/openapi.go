package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"github.com/swaggest/jsonschema-go"
	openapi "github.com/swaggest/openapi-go"
	"github.com/swaggest/openapi-go/openapi31"
	"github.com/switchboard-dev/switchboard/internal/formdef"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

// schemaNames names the schemas of generated clients where the default
// (package plus type name) reads badly.
var schemaNames = map[string]string{
	"FlowsSummary":           "Workflow",
	"FlowsView":              "WorkflowDetail",
	"ConnectionsView":        "Connection",
	"ConnectionsInput":       "ConnectionInput",
	"ConnectionsOAuthView":   "ConnectionOAuth",
	"DeclarativeInfo":        "ConnectorInfo",
	"ConnectorsSpec":         "ConnectorSpec",
	"ConnectorsActionSpec":   "ActionSpec",
	"ConnectorsAuthSpec":     "AuthSpec",
	"ConnectorsField":        "FieldSpec",
	"ConnectorField":         "FieldSpec",
	"ConnectorOption":        "FieldOption",
	"ConnectorsOption":       "FieldOption",
	"EngineReplayOptions":    "ReplayOptions",
	"AuthUserInput":          "UserInput",
	"WorkflowFieldError":     "FieldError",
	"FielderrError":          "FieldError",
	"VerifyConfig":           "WebhookVerify",
	"WebhooksigConfig":       "WebhookVerify",
	"WebhooksigBasicUser":    "VerifyBasicUser",
	"ApiRunView":             "Run",
	"ApiRunDetail":           "RunDetail",
	"ApiStepView":            "StepRun",
	"ApiDeliveryView":        "Delivery",
	"ApiInboxView":           "InboxItem",
	"ApiUserView":            "User",
	"ApiKeyView":             "APIKey",
	"ApiAuditView":           "AuditEntry",
	"ApiVersionView":         "Version",
	"ApiMeView":              "Me",
	"ApiAuthStatusView":      "AuthStatus",
	"ApiValidView":           "Valid",
	"ApiSampleView":          "Sample",
	"ApiScheduleView":        "ScheduleInfo",
	"ApiOauthStartView":      "OAuthStart",
	"ApiTriggerInput":        "TriggerInput",
	"PluginsInfo":            "PluginInfo",
	"PluginsVersionInfo":     "PluginVersion",
	"ApiConnectorInfo":       "InstalledConnector",
	"EventsView":             "Subscription",
	"EventsInput":            "SubscriptionInput",
	"EventsDeliveryView":     "EventDelivery",
	"EventsAttemptView":      "EventAttempt",
	"EventsType":             "EventType",
	"ApiRotateRequest":       "RotateSecret",
	"ApiTestEventRequest":    "TestEvent",
	"ConnectionsOAuthConfig": "ConnectionOAuthConfig",
	"ApiCreatedKey":          "CreatedAPIKey",
	"ApiNewKeyRequest":       "NewAPIKey",
}

// schemaName is the component name of a reflected Go type.
func schemaName(t reflect.Type, name string) string {
	if strings.HasPrefix(t.Name(), "Page[") {
		if f, ok := t.FieldByName("Items"); ok {
			it := f.Type.Elem()
			for it.Kind() == reflect.Pointer {
				it = it.Elem()
			}
			pkg := it.PkgPath()[strings.LastIndex(it.PkgPath(), "/")+1:]
			return schemaName(it, strings.ToUpper(pkg[:1])+pkg[1:]+strings.ToUpper(it.Name()[:1])+it.Name()[1:]) + "Page"
		}
	}
	if n, ok := schemaNames[name]; ok {
		return n
	}
	if n, ok := strings.CutPrefix(name, "Formdef"); ok {
		return "Form" + n // the names from before formdef left trigger/form
	}
	return strings.TrimPrefix(name, "Api")
}

// Document builds the OpenAPI 3.1 document of the /api/v1 routes from the
// route table and the Go types in contracts. publicURL is its server.
func Document(publicURL string) ([]byte, error) {
	return (&server{Deps: Deps{PublicURL: publicURL}}).openAPI()
}

func (s *server) openAPI() ([]byte, error) {
	r := openapi31.NewReflector()
	r.DefaultOptions = append(r.DefaultOptions,
		jsonschema.InterceptDefName(schemaName),
		jsonschema.InterceptProp(requiredUnlessOmitempty),
	)
	// The stored document is described by the document's own schema.
	r.AddTypeMapping(workflow.RawDocument{}, workflow.Document{})
	r.AddTypeMapping(rawTrigger{}, triggerInput{})
	r.DefaultOptions = append(r.DefaultOptions, jsonschema.InterceptSchema(customSchemas))

	spec := r.SpecEns()
	spec.Info.WithTitle("Switchboard API").WithVersion("1").
		WithDescription("Workflows, runs, connections and users. Authenticate with an API key (Authorization: Bearer sbk_…) or a session cookie plus the X-CSRF-Token header on changes.")
	spec.WithServers(openapi31.Server{URL: s.PublicURL})
	spec.SetHTTPBearerTokenSecurity("apiKey", "", "An API key (sbk_…)")
	spec.SetAPIKeySecurity("session", sessionCookie, openapi.InCookie, "The session cookie set by /auth/login")
	spec.WithSecurity(map[string][]string{"apiKey": {}}, map[string][]string{"session": {}})

	open := map[string]bool{}
	for _, rt := range s.routes() {
		key := rt.method + " " + rt.path
		ct, ok := contracts[key]
		if !ok {
			return nil, fmt.Errorf("route %s has no entry in contracts (internal/api/contract.go)", key)
		}
		path := "/api/v1" + pathParam.ReplaceAllString(rt.path, "{$1}")
		oc, err := r.NewOperationContext(rt.method, path)
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", key, err)
		}
		oc.SetSummary(rt.summary)
		oc.SetID(operationID(rt))
		if pp := pathParams(rt.path); pp != nil {
			oc.AddReqStructure(pp)
		}
		if ct.params != nil {
			oc.AddReqStructure(ct.params)
		}
		if ct.body != nil {
			oc.AddReqStructure(ct.body, openapi.WithContentType("application/json"))
		}
		status := rt.status
		if status == 0 {
			status = http.StatusOK
		}
		switch {
		case ct.out != nil:
			oc.AddRespStructure(ct.out, openapi.WithHTTPStatus(status))
		default:
			oc.AddRespStructure(nil, openapi.WithHTTPStatus(status))
		}
		problems := []int{http.StatusBadRequest}
		if rt.role != public {
			problems = append(problems, http.StatusUnauthorized, http.StatusForbidden)
		}
		if strings.Contains(rt.path, ":") {
			problems = append(problems, http.StatusNotFound)
		}
		if ct.body != nil || ct.bodyTypes != nil || ct.params != nil {
			// Bad input: the problem names the fields.
			problems = append(problems, http.StatusUnprocessableEntity)
		}
		for _, st := range problems {
			oc.AddRespStructure(Problem{}, openapi.WithHTTPStatus(st), openapi.WithContentType("application/problem+json"))
		}
		oc.AddRespStructure(Problem{}, func(cu *openapi.ContentUnit) {
			cu.IsDefault = true
			cu.ContentType = "application/problem+json"
			cu.Description = "A problem (RFC 9457)"
		})
		if x, ok := oc.(openapi31.OperationExposer); ok {
			op := x.Operation()
			if rt.role != public {
				op.WithMapOfAnythingItem("x-required-role", rt.role)
			}
			for _, mt := range ct.bodyTypes { // a file, sent as it is
				op.RequestBodyEns().RequestBodyEns().WithRequired(true).
					WithContentItem(mt, openapi31.MediaType{Schema: map[string]any{"type": "string"}})
			}
		}
		if rt.role == public {
			open[strings.ToLower(rt.method)+" "+path] = true
		}
		if err := r.AddOperation(oc); err != nil {
			return nil, fmt.Errorf("route %s: %w", key, err)
		}
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("encoding the OpenAPI document: %w", err)
	}
	// Public operations say so with an empty security list, which the
	// library's types omit.
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("decoding the OpenAPI document: %w", err)
	}
	paths, _ := doc["paths"].(map[string]any)
	for p, item := range paths {
		for m, op := range item.(map[string]any) {
			if open[m+" "+p] {
				op.(map[string]any)["security"] = []any{}
			}
		}
	}
	return json.MarshalIndent(doc, "", "  ")
}

// pathParams is a struct with one required string field per :param of a
// route path, so the reflector documents the path's parameters.
func pathParams(path string) any {
	ms := pathParam.FindAllStringSubmatch(path, -1)
	if ms == nil {
		return nil
	}
	fields := make([]reflect.StructField, len(ms))
	for i, m := range ms {
		fields[i] = reflect.StructField{Name: "P" + fmt.Sprint(i), Type: reflect.TypeOf(""),
			Tag: reflect.StructTag(`path:"` + m[1] + `"`)}
	}
	return reflect.New(reflect.StructOf(fields)).Elem().Interface()
}

// requiredUnlessOmitempty marks a JSON property required when Go always
// writes it (no omitempty), so generated clients need no optional checks
// for fields that are always there.
func requiredUnlessOmitempty(p jsonschema.InterceptPropParams) error {
	if !p.Processed || p.ParentSchema == nil {
		return nil
	}
	tag, ok := p.Field.Tag.Lookup("json")
	if !ok || tag == "-" || strings.Contains(tag, ",omitempty") {
		return nil
	}
	if _, explicit := p.Field.Tag.Lookup("required"); explicit {
		return nil
	}
	for _, r := range p.ParentSchema.Required {
		if r == p.Name {
			return nil
		}
	}
	p.ParentSchema.Required = append(p.ParentSchema.Required, p.Name)
	return nil
}

// customSchemas describes types whose JSON is not their Go shape.
func customSchemas(p jsonschema.InterceptSchemaParams) (bool, error) {
	if !p.Value.IsValid() {
		return false, nil
	}
	t := p.Value.Type()
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeOf(formdef.Bound{}) {
		// A number for number fields, a "YYYY-MM-DD" date for date fields.
		p.Schema.Type = nil
		p.Schema.Properties = nil
		p.Schema.WithOneOf(jsonschema.Number.ToSchemaOrBool(), (&jsonschema.Schema{}).WithType(jsonschema.String.Type()).WithFormat("date").ToSchemaOrBool())
		return true, nil
	}
	if t == reflect.TypeOf(headerMap(nil)) {
		value := (&jsonschema.Schema{}).WithOneOf(jsonschema.String.ToSchemaOrBool(),
			(&jsonschema.Schema{}).WithType(jsonschema.Array.Type()).WithItems(*(&jsonschema.Items{}).WithSchemaOrBool(jsonschema.String.ToSchemaOrBool())).ToSchemaOrBool())
		p.Schema.Type = nil
		p.Schema.Items = nil
		p.Schema.WithType(jsonschema.Type{SliceOfSimpleTypeValues: []jsonschema.SimpleType{jsonschema.Object, jsonschema.Null}}).
			WithAdditionalProperties(value.ToSchemaOrBool())
		return true, nil
	}
	return false, nil
}
