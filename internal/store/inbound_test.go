package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// A request's body is stored once, as bytes, when its text is just those
// bytes as text; every read still returns both.
func TestInboxStoresTheBodyOnceAndReturnsItAsTextAndBytes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := context.Background()
		tok := "tok-inbox"
		w := &store.Workflow{Name: "wf", Active: true, TriggerType: "webhook", WebhookToken: &tok}
		_, err := s.CreateWorkflow(ctx, w, store.JSON(`{"name":"wf"}`))
		storetest.Must(t, err, "create")
		raw := []byte("{\"a\":\"b\x00\xff\"}")
		text := store.CleanText(string(raw))
		cases := []*store.InboundRequest{
			{Body: text, BodyRaw: raw},                       // text derived from the bytes
			{Body: "capped elsewhere", BodyRaw: []byte("x")}, // a text of its own is kept
			{}, // no body
		}
		for _, in := range cases {
			in.WorkflowID, in.ReceivedAt, in.Method, in.Path, in.Verdict = w.ID, time.Now().UTC(), "POST", "/hooks/x", store.VerdictRejected
			wantBody := in.Body
			storetest.Must(t, s.CreateInbound(ctx, in), "record")
			if in.Body != wantBody {
				t.Fatalf("the caller's request changed: body %q, want %q", in.Body, wantBody)
			}
		}
		var stored string
		q := "SELECT body FROM inbound_requests WHERE id = $1"
		if dialect == store.SQLite {
			q = "SELECT body FROM inbound_requests WHERE id = ?"
		}
		storetest.Must(t, s.SQLDB().QueryRowContext(ctx, q, cases[0].ID).Scan(&stored), "stored body")
		if stored != "" {
			t.Fatalf("body text stored next to its bytes: %q", stored)
		}
		rows, _, err := s.ListInbound(ctx, store.InboxFilter{WorkflowID: w.ID})
		storetest.Must(t, err, "list")
		byID := map[string]store.InboundRequest{}
		for _, r := range rows {
			byID[r.ID] = r
		}
		for _, in := range cases {
			got, ok := byID[in.ID]
			one, err := s.GetInbound(ctx, w.ID, in.ID)
			storetest.Must(t, err, "get")
			if !ok || got.Body != in.Body || string(got.BodyRaw) != string(in.BodyRaw) || one.Body != in.Body || string(one.BodyRaw) != string(in.BodyRaw) {
				t.Fatalf("read back %q/%q (list) and %q/%q (get), want %q/%q", got.Body, got.BodyRaw, one.Body, one.BodyRaw, in.Body, in.BodyRaw)
			}
		}
	})
}
