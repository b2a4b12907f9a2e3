package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
)

// TestConnectionSecretNeverLeaks uses a Slack bot token through a real run
// and then looks for it everywhere a person or an attacker could: API
// answers, the server log, run and delivery records, and the SQLite files.
func TestConnectionSecretNeverLeaks(t *testing.T) {
	const token = "xoxb-9f8e7d6c5b4a-TOPSECRET"
	var mu sync.Mutex
	var authSeen string
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		authSeen = r.Header.Get("Authorization")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		// A careless vendor echoing the token must not put it in our records.
		io.WriteString(w, `{"ok":true,"channel":"C1","ts":"1.2","message":{"text":"echo `+token+`"}}`)
	}))
	defer slack.Close()

	in := newInstance(t, store.SQLite, "SWITCHBOARD_LOG_LEVEL=debug")
	in.start()
	status, conn, raw := in.postJSON(t, "/api/v1/connections", map[string]any{
		"name": "sales-slack", "connector": "slack",
		"fields": map[string]string{"bot_token": token, "base_url": slack.URL + "/api"}})
	if status != 201 {
		t.Fatalf("create connection: %d %s", status, raw)
	}
	if conn["secret_set"].(map[string]any)["bot_token"] != true {
		t.Fatalf("connection view does not say the token is set: %s", raw)
	}
	doc := `{"schema":"switchboard/v1","name":"to slack","trigger":{"type":"webhook"},"steps":[
	 {"id":"ping","type":"action","action":"slack.post_message","connection":"sales-slack",
	  "input":{"channel":"#sales","text":"order {{ trigger.body.id }}"}}]}`
	status, wf, raw := in.postJSONRaw(t, "/api/v1/workflows", doc)
	if status != 201 {
		t.Fatalf("create workflow: %d %s", status, raw)
	}
	_, runID := postHook(t, wf["webhook_url"].(string), `{"id":42}`)
	d := in.waitRun(runID, 30*time.Second)
	if d.State != "succeeded" {
		t.Fatalf("run = %+v", d)
	}
	mu.Lock()
	if authSeen != "Bearer "+token {
		t.Fatalf("Slack got Authorization %q", authSeen)
	}
	mu.Unlock()

	answers := []string{
		raw,
		in.getRaw(t, "/api/v1/connections"),
		in.getRaw(t, "/api/v1/connections/"+conn["id"].(string)),
		in.getRaw(t, "/api/v1/runs/"+runID),
		in.getRaw(t, "/api/v1/workflows/"+wf["id"].(string)),
	}
	for i, a := range answers {
		if strings.Contains(a, token) {
			t.Fatalf("API answer %d contains the token: %.300s", i, a)
		}
	}
	if !strings.Contains(answers[3], "[redacted]") {
		t.Fatalf("the run record shows no redaction where the token was: %.500s", answers[3])
	}
	in.cmd.Process.Signal(os.Interrupt)
	in.cmd.Wait()
	in.mu.Lock()
	logs := in.logs.String()
	in.mu.Unlock()
	if strings.Contains(logs, token) || strings.Contains(logs, "TOPSECRET") {
		t.Fatal("the server log contains the token")
	}
	if f := in.dbFileHolding(t, "TOPSECRET"); f != "" {
		t.Fatalf("%s holds the token in clear text", f)
	}
}
