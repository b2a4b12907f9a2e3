package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/webhooksig"
)

// benchInstance starts the real binary for a benchmark on the dialect.
func benchInstance(b *testing.B, dialect string, extraEnv ...string) (*instance, string) {
	return benchInstanceVerify(b, dialect, "", extraEnv...)
}

// benchInstanceVerify is benchInstance with a trigger.webhook.verify block.
func benchInstanceVerify(b *testing.B, dialect, verifyJSON string, extraEnv ...string) (*instance, string) {
	b.Helper()
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"ok":true}`)
	}))
	b.Cleanup(rcv.Close)
	in := newInstance(b, dialect, extraEnv...)
	trig := `{"type":"webhook"}`
	if verifyJSON != "" {
		trig = `{"type":"webhook","webhook":{"verify":` + verifyJSON + `,"rate_limit":100000}}`
	} else {
		trig = `{"type":"webhook","webhook":{"rate_limit":100000}}`
	}
	doc := `{"schema":"switchboard/v1","name":"bench","trigger":` + trig + `,"steps":[
	{"id":"big","type":"filter","if":"trigger.body.total > 100"},
	{"id":"msg","type":"map","fields":{"text":"Order #{{ trigger.body.id }}"}},
	{"id":"notify","type":"action","action":"http.request","input":{"method":"POST","url":"` + rcv.URL + `","json":"{{ steps.msg }}"}}]}`
	file := filepath.Join(b.TempDir(), "wf.json")
	os.WriteFile(file, []byte(doc), 0o600)
	out, err := in.cli("workflow", "import", file)
	if err != nil {
		b.Fatalf("import: %v %s", err, out)
	}
	hook := ""
	for _, line := range strings.Split(out, "\n") {
		if u, ok := strings.CutPrefix(line, "webhook URL: "); ok {
			hook = u
		}
	}
	in.start()
	return in, hook
}

// BenchmarkWebhookAccepted measures accepted webhooks per second with 16
// concurrent senders (API role: only the durable accept is measured).
func BenchmarkWebhookAccepted(b *testing.B) {
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		b.Run(dialect, func(b *testing.B) {
			_, hook := benchInstance(b, dialect, "SWITCHBOARD_ROLE=api")
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
			b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Post(hook, "application/json", strings.NewReader(`{"id":1,"total":250}`))
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 202 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "accepted/s")
		})
	}
}

// BenchmarkWebhookAcceptedHMAC is BenchmarkWebhookAccepted with Standard
// Webhooks signature verification and a unique webhook-id per request (so
// dedupe keys are claimed too).
func BenchmarkWebhookAcceptedHMAC(b *testing.B) {
	const secret = "whsec_c2VjcmV0LWtleS1mb3Itc3dpdGNoYm9hcmQ="
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		b.Run(dialect, func(b *testing.B) {
			_, hook := benchInstanceVerify(b, dialect, `{"scheme":"standard-webhooks","secrets":["`+secret+`"]}`, "SWITCHBOARD_ROLE=api")
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
			var seq atomic.Int64
			body := []byte(`{"id":1,"total":250}`)
			b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					h, err := webhooksig.Sign(webhooksig.Config{Scheme: webhooksig.SchemeStandardWebhooks}, secret, body, time.Now(),
						fmt.Sprintf("msg_%d", seq.Add(1)))
					if err != nil {
						b.Error(err)
						return
					}
					req, _ := http.NewRequest("POST", hook, bytes.NewReader(body))
					req.Header = h
					req.Header.Set("Content-Type", "application/json")
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 202 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "accepted/s")
		})
	}
}

// BenchmarkWebhookToSuccess measures, one run at a time, the time from
// sending the webhook to the run being recorded as succeeded.
func BenchmarkWebhookToSuccess(b *testing.B) {
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		b.Run(dialect, func(b *testing.B) {
			in, hook := benchInstance(b, dialect)
			var lat []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				resp, err := http.Post(hook, "application/json", strings.NewReader(`{"id":1,"total":250}`))
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				for {
					var list struct {
						Items []struct{ State string } `json:"items"`
					}
					in.getJSON(b, "/api/v1/runs?limit=1", &list)
					if len(list.Items) == 1 && list.Items[0].State == "succeeded" {
						break
					}
					time.Sleep(time.Millisecond)
				}
				lat = append(lat, time.Since(start))
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*9/10].Microseconds())/1000, "p90-ms")
		})
	}
}
