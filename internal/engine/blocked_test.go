package engine_test

import (
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// A call to a private address fails at once (no retry can help) with an error that says, in
// words, that the address is private and which setting an operator changes.
func TestBlockedPrivateAddressSaysWhichSettingOpensIt(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect) // allows 127.0.0.1 only
		run := b.waitFinal(t, b.trigger(t, `{"schema":"switchboard/v1","name":"internal","trigger":{"type":"webhook"},"steps":[
		 {"id":"ping","type":"action","action":"http.request","retry":{"max_attempts":3},
		  "input":{"method":"GET","url":"http://10.1.2.3:8080/health"}}]}`, map[string]any{}))
		if run.State != store.RunFailed {
			t.Fatalf("run %s, want failed", run.State)
		}
		for _, want := range []string{"10.1.2.3 is a private, loopback or internal address", "SWITCHBOARD_OUTBOUND_ALLOW"} {
			if !strings.Contains(run.Error, want) {
				t.Fatalf("run error %q does not say %q", run.Error, want)
			}
		}
		if s := b.steps(t, run.ID)["ping/"]; s.Attempts != 1 {
			t.Fatalf("blocked call tried %d times, want once", s.Attempts)
		}
	})
}
