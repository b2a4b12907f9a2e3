package http

import (
	"context"
	"errors"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/connectors/connectortest"
)

func TestRequestBuildsWhatItIsGiven(t *testing.T) {
	connectortest.CheckSpec(t, Connector{})
	var got *nethttp.Request
	var body string
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		got = r.Clone(context.Background())
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":7}`)
	}))
	defer srv.Close()
	res, err := connectortest.Run(context.Background(), Connector{}, "request", map[string]any{
		"method": "POST", "url": srv.URL + "/orders?x=1", "query": map[string]any{"page": 2.0},
		"headers": map[string]any{"X-Trace": "abc"}, "form": map[string]any{"name": "Ada"},
	}, map[string]string{"bearer_token": "tok"}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if got.Method != "POST" || got.URL.Path != "/orders" || got.URL.Query().Get("x") != "1" || got.URL.Query().Get("page") != "2" {
		t.Fatalf("request %s %s", got.Method, got.URL)
	}
	if got.Header.Get("X-Trace") != "abc" || got.Header.Get("Authorization") != "Bearer tok" ||
		got.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || body != "name=Ada" {
		t.Fatalf("headers %v body %q", got.Header, body)
	}
	if got.Header.Get("Idempotency-Key") != "test-key" {
		t.Fatal("no Idempotency-Key on a POST")
	}
	out := res.Output.(map[string]any)
	if out["status"] != 200 || out["body"].(map[string]any)["id"] != 7.0 {
		t.Fatalf("output %v", out)
	}
}

func TestStatusesMapToErrorKindsAndRetryAfter(t *testing.T) {
	cases := []struct {
		status     int
		retryAfter string
		kind       connectors.ErrorKind
		after      time.Duration
	}{
		{429, "7", connectors.KindRateLimited, 7 * time.Second},
		{503, "", connectors.KindRateLimited, 0},
		{500, "", connectors.KindRetryable, 0},
		{408, "", connectors.KindRetryable, 0},
		{404, "", connectors.KindPermanent, 0},
		{422, "", connectors.KindPermanent, 0},
	}
	for _, c := range cases {
		srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
			if c.retryAfter != "" {
				w.Header().Set("Retry-After", c.retryAfter)
			}
			w.WriteHeader(c.status)
		}))
		_, err := connectortest.Run(context.Background(), Connector{}, "request", map[string]any{"url": srv.URL}, nil, srv.Client())
		srv.Close()
		if connectors.KindOf(err) != c.kind || connectors.RetryAfterOf(err) != c.after {
			t.Errorf("%d: err = %v, want %s after %s", c.status, err, c.kind, c.after)
		}
	}
	if d := connectors.RetryAfter(time.Now().Add(90*time.Second).UTC().Format(nethttp.TimeFormat), time.Now()); d < 80*time.Second || d > 91*time.Second {
		t.Fatalf("HTTP-date Retry-After = %s", d)
	}
}

func TestFailOnStatusFalseReturnsTheResponse(t *testing.T) {
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.WriteHeader(404)
		io.WriteString(w, "nope")
	}))
	defer srv.Close()
	res, err := connectortest.Run(context.Background(), Connector{}, "request", map[string]any{"url": srv.URL, "fail_on_status": false}, nil, srv.Client())
	if err != nil || res.Output.(map[string]any)["status"] != 404 || res.Output.(map[string]any)["body"] != "nope" {
		t.Fatalf("%v %v", res, err)
	}
}

func TestTimeoutIsRetryable(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := connectortest.Run(ctx, Connector{}, "request", map[string]any{"url": srv.URL}, nil, srv.Client())
	if connectors.KindOf(err) != connectors.KindRetryable || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a retryable deadline error", err)
	}
	if _, err := connectortest.Run(context.Background(), Connector{}, "request", map[string]any{"url": "ftp://x"}, nil, nil); connectors.KindOf(err) != connectors.KindBadInput {
		t.Fatalf("ftp URL: %v", err)
	}
}
