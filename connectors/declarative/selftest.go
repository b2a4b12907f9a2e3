package declarative

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
)

// testCase is one inline test.
type testCase struct {
	def  testDef
	path string // tests[0]
	line int
}

// TestResult is the outcome of one inline test.
type TestResult struct {
	Path   string `json:"path"` // tests[0]
	Name   string `json:"name"`
	Action string `json:"action"`
	Line   int    `json:"line"`
	Err    error  `json:"-"`
}

func (s *source) test(path string, d testDef, actions map[string]bool) *testCase {
	n := len(s.probs)
	if !actions[d.Action] {
		s.add(path+".action", "%q is not an action of this file", d.Action)
	}
	if d.Expect.Method != "" && !methods[strings.ToUpper(d.Expect.Method)] {
		s.add(path+".expect.method", "must be GET, POST, PUT, PATCH or DELETE (got %q)", d.Expect.Method)
	}
	if d.Expect.Path != "" && !strings.HasPrefix(d.Expect.Path, "/") {
		s.add(path+".expect.path", "must start with / (got %q)", d.Expect.Path)
	}
	empty := d.Expect.Method == "" && d.Expect.Path == "" && d.Expect.Query == nil && d.Expect.Headers == nil && d.Expect.Body == nil
	if empty && d.Output == nil && d.Error == nil {
		s.add(path, "a test needs expect, output or error")
	}
	if r := d.Response; r != nil && r.Status != 0 && (r.Status < 200 || r.Status > 599) {
		s.add(path+".response.status", "must be 200 to 599 (got %d)", r.Status)
	}
	if e := d.Error; e != nil {
		switch connectors.ErrorKind(e.Kind) {
		case "", connectors.KindRetryable, connectors.KindPermanent, connectors.KindRateLimited, connectors.KindBadInput:
		default:
			s.add(path+".error.kind", "must be retryable, permanent, rate_limited or bad_input (got %q)", e.Kind)
		}
	}
	if len(s.probs) > n {
		return nil
	}
	return &testCase{def: d, path: path, line: s.line(path)}
}

// seen is what the receiver got.
type seen struct {
	method, path string
	query        url.Values
	header       http.Header
	body         []byte
}

// RunTests runs the inline tests against an in-process receiver that
// answers each test's canned response; no request leaves the process.
func (c *Connector) RunTests(ctx context.Context) []TestResult {
	if len(c.tests) == 0 {
		return nil
	}
	var (
		mu   sync.Mutex
		got  *seen
		resp *responseDef
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, MaxFileBytes))
		mu.Lock()
		got = &seen{method: r.Method, path: r.URL.Path, query: r.URL.Query(), header: r.Header.Clone(), body: b}
		answer := resp
		mu.Unlock()
		status, body := http.StatusOK, []byte(`{}`)
		ctype := "application/json"
		if answer != nil {
			if answer.Status != 0 {
				status = answer.Status
			}
			switch x := answer.Body.(type) {
			case nil:
			case string:
				body, ctype = []byte(x), "text/plain; charset=utf-8"
			default:
				body, _ = json.Marshal(normalize(x))
			}
			for k, v := range answer.Headers {
				w.Header().Set(k, v)
			}
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", ctype)
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	target, _ := c.WithBaseURL(srv.URL + c.baseURL.EscapedPath())
	client := srv.Client()
	client.Timeout = 10 * time.Second

	out := make([]TestResult, 0, len(c.tests))
	for _, tc := range c.tests {
		mu.Lock()
		got, resp = nil, tc.def.Response
		mu.Unlock()
		res := TestResult{Path: tc.path, Name: tc.def.Name, Action: tc.def.Action, Line: tc.line}
		if res.Name == "" {
			res.Name = tc.path
		}
		result, err := run(ctx, target, tc.def, client)
		mu.Lock()
		req := got
		mu.Unlock()
		res.Err = tc.check(req, result, err)
		out = append(out, res)
	}
	return out
}

// run executes the test's action as the engine would: input checked against
// the spec first.
func run(ctx context.Context, c *Connector, d testDef, client *http.Client) (connectors.Result, error) {
	a, _ := c.spec.Action(d.Action)
	input := d.Input
	if input == nil {
		input = map[string]any{}
	}
	input = normalize(input).(map[string]any)
	if problems := connectors.CheckInput(a, input); len(problems) > 0 {
		keys := make([]string, 0, len(problems))
		for k := range problems {
			keys = append(keys, k+" "+problems[k])
		}
		sort.Strings(keys)
		return connectors.Result{}, connectors.BadInput(fmt.Errorf("input: %s", strings.Join(keys, "; ")))
	}
	return c.Execute(ctx, connectors.Request{Action: d.Action, Input: input, Credentials: d.Credentials,
		HTTP: client, IdempotencyKey: "inline-test"})
}

func (tc *testCase) check(got *seen, res connectors.Result, err error) error {
	d := tc.def
	var fails []string
	fail := func(format string, args ...any) { fails = append(fails, fmt.Sprintf(format, args...)) }
	e := d.Expect
	if got == nil && (e.Method != "" || e.Path != "" || e.Query != nil || e.Headers != nil || e.Body != nil) {
		fail("no request was sent (%v)", err)
	}
	if got != nil {
		if e.Method != "" && !strings.EqualFold(e.Method, got.method) {
			fail("method %s, want %s", got.method, strings.ToUpper(e.Method))
		}
		if e.Path != "" && e.Path != got.path {
			fail("path %s, want %s", got.path, e.Path)
		}
		if e.Query != nil {
			want := url.Values{}
			for k, v := range normalize(e.Query).(map[string]any) {
				for _, s := range queryValues(v) {
					want.Add(k, s)
				}
			}
			if !reflect.DeepEqual(want, got.query) {
				fail("query %s, want %s", got.query.Encode(), want.Encode())
			}
		}
		for k, v := range e.Headers {
			if g := got.header.Get(k); g != v {
				fail("header %s: %q, want %q", k, g, v)
			}
		}
		if e.Body != nil {
			var sent any
			if strings.HasPrefix(got.header.Get("Content-Type"), "application/x-www-form-urlencoded") {
				vals, _ := url.ParseQuery(string(got.body))
				form := map[string]any{}
				for k, vs := range vals {
					if len(vs) == 1 {
						form[k] = vs[0]
					} else {
						form[k] = toAnySlice(vs)
					}
				}
				sent = form
			} else if jerr := json.Unmarshal(got.body, &sent); jerr != nil {
				fail("body is not JSON: %q", truncate(string(got.body)))
				sent = nil
			}
			if want := normalize(e.Body); sent != nil && !reflect.DeepEqual(want, sent) {
				fail("body %s, want %s", compact(sent), compact(want))
			}
		}
	}
	if d.Error != nil {
		switch {
		case err == nil:
			fail("the action succeeded, want an error")
		case d.Error.Kind != "" && string(connectors.KindOf(err)) != d.Error.Kind:
			fail("error kind %s, want %s (%v)", connectors.KindOf(err), d.Error.Kind, err)
		case d.Error.Contains != "" && !strings.Contains(err.Error(), d.Error.Contains):
			fail("error %q does not contain %q", err, d.Error.Contains)
		}
	} else if err != nil {
		fail("the action failed: %v", err)
	} else if d.Output != nil {
		if got, want := normalize(res.Output), normalize(d.Output); !reflect.DeepEqual(got, want) {
			fail("output %s, want %s", compact(got), compact(want))
		}
	}
	if len(fails) == 0 {
		return nil
	}
	return errors.New(strings.Join(fails, "; "))
}

// normalize passes v through JSON so numbers compare as float64 whatever
// YAML or the connector produced.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}

func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return truncate(string(b))
}

func truncate(s string) string {
	if len(s) > 500 {
		return s[:500] + "…"
	}
	return s
}

func toAnySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// Load parses a file and runs its inline tests: what the loader, the admin
// API and 'switchboard connectors test' accept. A failing test refuses the
// file with a problem naming the test's line.
func Load(ctx context.Context, name string, data []byte) (*Connector, error) {
	c, err := Parse(name, data)
	if err != nil {
		return nil, err
	}
	if err := TestErrors(name, c.RunTests(ctx)); err != nil {
		return nil, err
	}
	return c, nil
}

// TestErrors turns failed test results into an *Error (nil when all passed).
func TestErrors(name string, results []TestResult) error {
	var probs []*Problem
	for _, r := range results {
		if r.Err != nil {
			probs = append(probs, &Problem{File: name, Line: r.Line, Path: r.Path,
				Message: fmt.Sprintf("inline test %q failed: %v", r.Name, r.Err)})
		}
	}
	if probs == nil {
		return nil
	}
	return &Error{File: name, Problems: probs}
}
