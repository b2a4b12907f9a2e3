package store_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// Intake reads a token's workflow and its current version from memory; a
// change made through this process is seen at once, one made behind its back
// (another process) within the token lifetime; a version written in a
// transaction that rolls back is never remembered.
func TestWorkflowLookupsAreCachedAndForgottenOnChange(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := context.Background()
		var mu sync.Mutex
		now := time.Now()
		store.SetLookupClock(s, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		tok := "tok-lookups"
		w := &store.Workflow{Name: "one", Active: true, TriggerType: "webhook", WebhookToken: &tok}
		_, err := s.CreateWorkflow(ctx, w, store.JSON(`{"name":"one"}`))
		storetest.Must(t, err, "create")
		byToken := func() *store.Workflow {
			t.Helper()
			got, err := s.GetWorkflowByToken(ctx, tok)
			storetest.Must(t, err, "by token")
			return got
		}
		byToken()
		// Behind the store's back, as another process would.
		q := "UPDATE workflows SET name = 'elsewhere' WHERE id = $1"
		if dialect == store.SQLite {
			q = "UPDATE workflows SET name = 'elsewhere' WHERE id = ?"
		}
		_, err = s.SQLDB().ExecContext(ctx, q, w.ID)
		storetest.Must(t, err, "update behind the back")
		if got := byToken(); got.Name != "one" {
			t.Fatalf("name = %q right after a change elsewhere, want the remembered %q", got.Name, "one")
		}
		advance(1100 * time.Millisecond)
		if got := byToken(); got.Name != "elsewhere" {
			t.Fatalf("name = %q after the token lifetime, want %q", got.Name, "elsewhere")
		}

		// Changes through this process apply at once.
		storetest.Must(t, s.SetWorkflowActive(ctx, w.ID, false), "deactivate")
		if got := byToken(); got.Active {
			t.Fatal("still active right after deactivating")
		}
		v2, err := s.AddWorkflowVersion(ctx, w.ID, "two", "webhook", store.JSON(`{"name":"two"}`))
		storetest.Must(t, err, "version 2")
		got := byToken()
		if got.CurrentVersion != 2 || got.Name != "two" {
			t.Fatalf("workflow = %+v right after a new version, want version 2", got)
		}
		cur, err := s.GetCurrentVersion(ctx, got)
		storetest.Must(t, err, "current version")
		if cur.ID != v2.ID || !strings.Contains(string(cur.Document), `"two"`) {
			t.Fatalf("current version = %+v, want %s", cur, v2.ID)
		}
		// A change in a transaction: forgotten again once it commits.
		err = s.InTx(ctx, func(tx *store.Store, _ *sql.Tx) error {
			if err := tx.SetWorkflowActive(ctx, w.ID, true); err != nil {
				return err
			}
			if dialect == store.Postgres { // SQLite's one connection is the transaction's
				if got := byToken(); got.Active {
					t.Error("the uncommitted change is visible outside its transaction")
				}
			}
			return nil
		})
		storetest.Must(t, err, "tx")
		if got := byToken(); !got.Active {
			t.Fatal("not active after the transaction that activated it committed")
		}

		// A version read inside a transaction that rolls back is not kept.
		rollback := errors.New("roll back")
		err = s.InTx(ctx, func(tx *store.Store, _ *sql.Tx) error {
			v3, err := tx.AddWorkflowVersion(ctx, w.ID, "three", "webhook", store.JSON(`{"name":"three"}`))
			if err != nil {
				return err
			}
			wf, err := tx.GetWorkflow(ctx, w.ID)
			if err != nil {
				return err
			}
			if got, err := tx.GetCurrentVersion(ctx, wf); err != nil || got.ID != v3.ID {
				t.Errorf("in the transaction: current version %+v, %v; want %s", got, err, v3.ID)
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatalf("tx = %v", err)
		}
		v3, err := s.AddWorkflowVersion(ctx, w.ID, "three again", "webhook", store.JSON(`{"name":"three again"}`))
		storetest.Must(t, err, "version 3")
		got = byToken()
		cur, err = s.GetCurrentVersion(ctx, got)
		storetest.Must(t, err, "current version 3")
		if cur.ID != v3.ID || !strings.Contains(string(cur.Document), `"three again"`) {
			t.Fatalf("current version = %s %s, want %s (the rolled-back one must not be remembered)", cur.ID, cur.Document, v3.ID)
		}
		byID, err := s.GetVersion(ctx, v2.ID)
		storetest.Must(t, err, "version by id")
		if byID.Version != 2 {
			t.Fatalf("version by id = %+v", byID)
		}

		// A deleted workflow's token opens nothing.
		storetest.Must(t, s.DeleteWorkflow(ctx, w.ID), "delete")
		if _, err := s.GetWorkflowByToken(ctx, tok); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("by token after delete: %v, want not found", err)
		}

		// Whether anyone subscribes to run events is asked at every run's
		// end: remembered, and forgotten on a change here.
		wanted := func() bool {
			t.Helper()
			ok, err := s.AnySubscriber(ctx, "run.succeeded")
			storetest.Must(t, err, "any subscriber")
			return ok
		}
		if wanted() {
			t.Fatal("a subscriber before any subscription")
		}
		sub := &store.Subscription{URL: "https://example.com/hook", Events: store.JSON(`["run.succeeded"]`),
			Headers: store.JSON(`{}`), SecretSealed: "x", Enabled: true}
		storetest.Must(t, s.CreateSubscription(ctx, sub), "subscribe")
		if !wanted() {
			t.Fatal("no subscriber right after subscribing")
		}
		q = "UPDATE subscriptions SET enabled = false WHERE id = $1"
		if dialect == store.SQLite {
			q = "UPDATE subscriptions SET enabled = 0 WHERE id = ?"
		}
		_, err = s.SQLDB().ExecContext(ctx, q, sub.ID)
		storetest.Must(t, err, "disable behind the back")
		if !wanted() {
			t.Fatal("the remembered answer was not used")
		}
		advance(1100 * time.Millisecond)
		if wanted() {
			t.Fatal("still a subscriber after the lifetime of the answer")
		}
	})
}
