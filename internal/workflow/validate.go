package workflow

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/cronspec"
	"github.com/switchboard-dev/switchboard/internal/expr"
	"github.com/switchboard-dev/switchboard/internal/fielderr"
	"github.com/switchboard-dev/switchboard/internal/tlsconf"
)

// FieldError is one problem, at a path such as "steps[1].fields.text": the
// same type the form and webhook verification checks report.
type FieldError = fielderr.Error

// ValidationError lists every problem found in a document.
type ValidationError struct {
	Errors []*FieldError
}

func (e *ValidationError) Error() string {
	return "invalid workflow: " + (&fielderr.List{Errors: e.Errors}).Error()
}

func asErr[T any](err error, target *T) bool { return errors.As(err, target) }

// AsValidation turns a Parse or Validate error into a ValidationError.
func AsValidation(err error) (*ValidationError, bool) {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve, true
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return &ValidationError{Errors: []*FieldError{fe}}, true
	}
	return nil, false
}

var stepIDPattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,63}$`)

// Validate checks the whole document and compiles every expression and
// template, returning all problems at once. The registry checks actions and
// their inputs; nil skips that check.
func Validate(d *Document, reg *connectors.Registry) error {
	v := &validator{reg: reg, ids: map[string]string{}}
	v.document(d)
	if len(v.errs) == 0 {
		return nil
	}
	return &ValidationError{Errors: v.errs}
}

type validator struct {
	reg  *connectors.Registry
	ids  map[string]string
	errs []*FieldError
}

func (v *validator) add(path, step, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Path: path, Step: step, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) document(d *Document) {
	if d.Schema != Schema {
		v.add("schema", "", "must be %q", Schema)
	}
	if strings.TrimSpace(d.Name) == "" {
		v.add("name", "", "is required")
	} else if len(d.Name) > 200 {
		v.add("name", "", "is longer than 200 characters")
	}
	if st := d.Settings; st != nil {
		if st.Concurrency < 0 || st.Concurrency > 1000 {
			v.add("settings.concurrency", "", "must be between 0 (no limit) and 1000")
		}
		if r := st.Retention; r != nil {
			if r.MaxAge != "" {
				if dur, err := time.ParseDuration(r.MaxAge); err != nil || dur < time.Minute {
					v.add("settings.retention.max_age", "", "must be a duration of at least 1m, such as 720h")
				}
			}
			if r.MaxRuns < 0 {
				v.add("settings.retention.max_runs", "", "must be 0 (no limit) or more")
			}
		}
	}
	v.trigger(d.Trigger)
	if len(d.Steps) == 0 {
		v.add("steps", "", "needs at least one step")
	}
	v.steps("steps", d.Steps)
	if wh := d.Trigger.Webhook; wh != nil && wh.Respond == "sync" && wh.Response != nil && wh.Response.Step != "" {
		if _, ok := v.ids[wh.Response.Step]; !ok {
			v.add("trigger.webhook.response.step", "", "no step has the id %q", wh.Response.Step)
		}
	}
}

func (v *validator) trigger(t Trigger) {
	switch t.Type {
	case "webhook":
		if wh := t.Webhook; wh != nil {
			for i, m := range wh.Methods {
				switch strings.ToUpper(m) {
				case "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD":
				default:
					v.add(fmt.Sprintf("trigger.webhook.methods[%d]", i), "", "unsupported method %q", m)
				}
			}
			if wh.Verify != nil {
				if err := wh.Verify.ValidateAt("trigger.webhook.verify"); err != nil {
					var ve *fielderr.List
					if errors.As(err, &ve) {
						v.errs = append(v.errs, ve.Errors...)
					} else {
						v.add("trigger.webhook.verify", "", "%v", err)
					}
				}
			}
			if d := wh.Dedupe; d != nil {
				if d.Header != "" && d.Expression != "" {
					v.add("trigger.webhook.dedupe", "", "set header or expression, not both")
				}
				if d.Expression != "" {
					v.expression("trigger.webhook.dedupe.expression", "", d.Expression, true)
				}
				if d.Window != "" {
					if w, err := time.ParseDuration(d.Window); err != nil || w < time.Minute || w > 90*24*time.Hour {
						v.add("trigger.webhook.dedupe.window", "", "must be a duration from 1m to 2160h, such as 168h")
					}
				}
			}
			if ev := wh.Events; ev != nil {
				if (ev.Header == "") == (ev.Expression == "") {
					v.add("trigger.webhook.events", "", "set exactly one of header or expression")
				}
				if ev.Expression != "" {
					v.expression("trigger.webhook.events.expression", "", ev.Expression, true)
				}
				if len(ev.Accept) == 0 {
					v.add("trigger.webhook.events.accept", "", "list at least one event type")
				}
			}
			if cc := wh.ClientCert; cc != nil {
				if _, err := tlsconf.Pool(cc.CA); err != nil {
					v.add("trigger.webhook.client_cert.ca", "", "must be the PEM of the CA that signs the senders' certificates: %v", err)
				}
				for i, sub := range cc.Subjects {
					if strings.TrimSpace(sub) == "" {
						v.add(fmt.Sprintf("trigger.webhook.client_cert.subjects[%d]", i), "", "must not be empty")
					}
				}
			}
			if wh.RateLimit < 0 || wh.RateLimit > 100000 {
				v.add("trigger.webhook.rate_limit", "", "must be between 0 (instance default) and 100000 per minute")
			}
			if wh.MaxBody < 0 || wh.MaxBody > 25<<20 {
				v.add("trigger.webhook.max_body", "", "must be at most 26214400 bytes (25 MiB)")
			}
			switch wh.Respond {
			case "", "accepted":
			case "sync":
				if wh.Response == nil || wh.Response.Step == "" {
					v.add("trigger.webhook.response.step", "", "is required when respond is sync")
				} else if wh.Response.Timeout != "" {
					if d, err := time.ParseDuration(wh.Response.Timeout); err != nil || d <= 0 || d > 30*time.Second {
						v.add("trigger.webhook.response.timeout", "", "must be a duration up to 30s")
					}
				}
			default:
				v.add("trigger.webhook.respond", "", "must be accepted or sync")
			}
		}
	case "schedule":
		if t.Schedule == nil || t.Schedule.Cron == "" {
			v.add("trigger.schedule.cron", "", "is required")
			break
		}
		if _, err := cronspec.Parse(t.Schedule.Cron, t.Schedule.Timezone); err != nil {
			path := "trigger.schedule.cron"
			if strings.Contains(err.Error(), "timezone") {
				path = "trigger.schedule.timezone"
			}
			v.add(path, "", "%v", err)
		}
		if _, err := cronspec.ParseMisfire(t.Schedule.Misfire); err != nil {
			v.add("trigger.schedule.misfire", "", "%v", err)
		}
	case "form":
		if t.Form == nil {
			v.add("trigger.form", "", "is required: a form trigger needs a form with at least one field")
		} else if err := t.Form.ValidateAt("trigger.form"); err != nil {
			var fe *fielderr.List
			if errors.As(err, &fe) {
				v.errs = append(v.errs, fe.Errors...)
			} else {
				v.add("trigger.form", "", "%v", err)
			}
		}
	case "":
		v.add("trigger.type", "", "is required (webhook, schedule or form)")
	default:
		v.add("trigger.type", "", "unknown trigger %q (webhook, schedule or form)", t.Type)
	}
}

func (v *validator) steps(prefix string, steps []Step) {
	for i := range steps {
		v.step(fmt.Sprintf("%s[%d]", prefix, i), &steps[i])
	}
}

func (v *validator) step(path string, s *Step) {
	switch {
	case s.ID == "":
		v.add(path+".id", "", "is required")
	case !stepIDPattern.MatchString(s.ID):
		v.add(path+".id", s.ID, "must start with a letter and hold only letters, digits and _ (at most 64)")
	case v.ids[s.ID] != "":
		v.add(path+".id", s.ID, "duplicates the id of %s", v.ids[s.ID])
	default:
		v.ids[s.ID] = path
	}
	if s.Timeout != "" {
		if d, err := time.ParseDuration(s.Timeout); err != nil || d <= 0 {
			v.add(path+".timeout", s.ID, "must be a positive duration such as 30s")
		}
	}
	switch s.OnError {
	case "", "fail", "continue":
	default:
		v.add(path+".on_error", s.ID, "must be fail or continue")
	}
	if s.Retry != nil {
		v.retry(path+".retry", s)
	}
	switch s.Type {
	case StepFilter:
		v.expression(path+".if", s.ID, s.If, true)
	case StepMap:
		if len(s.Fields) == 0 {
			v.add(path+".fields", s.ID, "needs at least one field")
		}
		v.value(path+".fields", s.ID, s.Fields)
	case StepPaths:
		switch s.Mode {
		case "", "all", "first":
		default:
			v.add(path+".mode", s.ID, "must be all or first")
		}
		if len(s.Paths) == 0 {
			v.add(path+".paths", s.ID, "needs at least one path")
		}
		for j, p := range s.Paths {
			pp := fmt.Sprintf("%s.paths[%d]", path, j)
			if p.If != "" {
				v.expression(pp+".if", s.ID, p.If, true)
			}
			v.steps(pp+".steps", p.Steps)
		}
	case StepForEach:
		v.expression(path+".items", s.ID, s.Items, true)
		if s.Concurrency < 0 || s.Concurrency > 64 {
			v.add(path+".concurrency", s.ID, "must be between 1 and 64")
		}
		if len(s.Steps) == 0 {
			v.add(path+".steps", s.ID, "needs at least one step")
		}
		v.steps(path+".steps", s.Steps)
	case StepDelay:
		switch {
		case s.For != "" && s.Until != "":
			v.add(path, s.ID, "set either for or until, not both")
		case s.For != "":
			if d, err := time.ParseDuration(s.For); err != nil || d <= 0 {
				v.add(path+".for", s.ID, "must be a positive duration such as 90s or 1h")
			}
		case s.Until != "":
			v.expression(path+".until", s.ID, s.Until, true)
		default:
			v.add(path, s.ID, "needs for or until")
		}
	case StepAction:
		v.action(path, s)
	case "":
		v.add(path+".type", s.ID, "is required")
	default:
		v.add(path+".type", s.ID, "unknown step type %q (filter, map, paths, for_each, delay, action)", s.Type)
	}
}

func (v *validator) retry(path string, s *Step) {
	r := s.Retry
	if r.MaxAttempts < 1 || r.MaxAttempts > 50 {
		v.add(path+".max_attempts", s.ID, "must be between 1 and 50")
	}
	switch r.Backoff {
	case "", "exponential", "fixed":
	default:
		v.add(path+".backoff", s.ID, "must be exponential or fixed")
	}
	for name, val := range map[string]string{"initial": r.Initial, "max": r.Max} {
		if val == "" {
			continue
		}
		if d, err := time.ParseDuration(val); err != nil || d <= 0 {
			v.add(path+"."+name, s.ID, "must be a positive duration such as 2s")
		}
	}
}

func (v *validator) action(path string, s *Step) {
	if s.Action == "" {
		v.add(path+".action", s.ID, "is required")
		return
	}
	v.value(path+".input", s.ID, s.Input)
	if v.reg == nil {
		return
	}
	_, spec, err := v.reg.Resolve(s.Action)
	if err != nil {
		v.add(path+".action", s.ID, "%v", err)
		return
	}
	problems := connectors.CheckInputStatic(spec, s.Input)
	keys := make([]string, 0, len(problems))
	for k := range problems {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v.add(path+".input."+k, s.ID, "%s", problems[k])
	}
}

func (v *validator) expression(path, step, src string, required bool) {
	if strings.TrimSpace(src) == "" {
		if required {
			v.add(path, step, "is required")
		}
		return
	}
	if _, err := expr.Compile(src); err != nil {
		v.exprError(path, step, err)
	}
}

func (v *validator) value(path, step string, val map[string]any) {
	if val == nil {
		return
	}
	if _, err := expr.CompileValue(val); err != nil {
		sub, inner := expr.SplitPath(err)
		v.exprError(path+sub, step, inner)
	}
}

func (v *validator) exprError(path, step string, err error) {
	fe := &FieldError{Path: path, Step: step, Message: err.Error()}
	var ee *expr.Error
	if errors.As(err, &ee) {
		fe.Line, fe.Column, fe.Message = ee.Line, ee.Column, ee.Message
		if ee.Line > 0 {
			fe.Message = fmt.Sprintf("line %d, column %d: %s", ee.Line, ee.Column, ee.Message)
		}
	}
	v.errs = append(v.errs, fe)
}
