package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

func TestMigrationsApplyOnceAndReportStatus(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := context.Background()
		n, err := s.Migrate(ctx)
		storetest.Must(t, err, "second migrate")
		if n != 0 {
			t.Fatalf("second migrate applied %d migrations, want 0", n)
		}
		st, err := s.MigrationStatus(ctx)
		storetest.Must(t, err, "status")
		if len(st) == 0 || !st[0].Applied {
			t.Fatalf("status = %+v, want applied migrations", st)
		}
	})
}

func TestSQLiteIsRecentEnoughForTheQueue(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	var v string
	if err := s.SQLDB().QueryRow("select sqlite_version()").Scan(&v); err != nil {
		t.Fatal(err)
	}
	var major, minor int
	if _, err := fmt.Sscanf(v, "%d.%d", &major, &minor); err != nil || major < 3 || (major == 3 && minor < 45) {
		t.Fatalf("sqlite_version() = %s, want ≥ 3.45", v)
	}
}

func TestWorkflowVersionsAndRunRecords(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := context.Background()
		tok := "tok-" + dialect
		w := &store.Workflow{Name: "wf", Active: true, TriggerType: "webhook", WebhookToken: &tok}
		v1, err := s.CreateWorkflow(ctx, w, store.JSON(`{"name":"wf"}`))
		storetest.Must(t, err, "create")
		v2, err := s.AddWorkflowVersion(ctx, w.ID, "wf2", "webhook", store.JSON(`{"name":"wf2"}`))
		storetest.Must(t, err, "add version")
		if v1.Version != 1 || v2.Version != 2 {
			t.Fatalf("versions = %d, %d", v1.Version, v2.Version)
		}
		got, err := s.GetWorkflowByToken(ctx, tok)
		storetest.Must(t, err, "by token")
		if got.CurrentVersion != 2 || got.Name != "wf2" {
			t.Fatalf("workflow = %+v", got)
		}
		if _, err := s.GetWorkflowByToken(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown token: err = %v, want ErrNotFound", err)
		}
		old, err := s.GetVersion(ctx, v1.ID)
		storetest.Must(t, err, "get v1")
		if string(old.Document) != `{"name": "wf"}` && string(old.Document) != `{"name":"wf"}` {
			t.Fatalf("v1 document changed: %s", old.Document)
		}

		r := &store.Run{WorkflowID: w.ID, VersionID: v2.ID, Version: 2, TriggerType: "webhook", Trigger: store.JSON(`{"body":{"a":1}}`)}
		storetest.Must(t, s.CreateRun(ctx, r), "create run")
		started, err := s.StartRun(ctx, r.ID, 0)
		storetest.Must(t, err, "start")
		if started.State != store.RunRunning || started.Attempt != 1 || started.StartedAt == nil {
			t.Fatalf("started = %+v", started)
		}
		for i := 0; i < 2; i++ { // saved twice: still one row
			storetest.Must(t, s.SaveStepRun(ctx, &store.StepRun{RunID: r.ID, StepID: "a", State: store.StepSucceeded,
				Output: store.JSON(`{"x":1}`), Attempts: i + 1, StartedAt: *started.StartedAt}), "save step")
		}
		steps, err := s.ListStepRuns(ctx, r.ID)
		storetest.Must(t, err, "list steps")
		if len(steps) != 1 || steps[0].Attempts != 2 {
			t.Fatalf("steps = %+v, want one row with 2 attempts", steps)
		}
		changed, err := s.FinishRun(ctx, r.ID, store.RunCanceled, "")
		storetest.Must(t, err, "cancel")
		if !changed {
			t.Fatal("cancel did not change the run")
		}
		changed, err = s.FinishRun(ctx, r.ID, store.RunSucceeded, "")
		storetest.Must(t, err, "finish")
		if changed {
			t.Fatal("a canceled run was finished as succeeded")
		}
		runs, next, err := s.ListRuns(ctx, store.RunFilter{WorkflowID: w.ID})
		storetest.Must(t, err, "list runs")
		if len(runs) != 1 || next != "" || runs[0].Trigger != nil || runs[0].State != store.RunCanceled {
			t.Fatalf("runs = %+v next=%q (payload must not be read)", runs, next)
		}
	})
}

func TestListRunsPagesWithCursor(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := context.Background()
		w := &store.Workflow{Name: "wf", TriggerType: "webhook"}
		v, err := s.CreateWorkflow(ctx, w, store.JSON(`{}`))
		storetest.Must(t, err, "create")
		for i := 0; i < 5; i++ {
			storetest.Must(t, s.CreateRun(ctx, &store.Run{WorkflowID: w.ID, VersionID: v.ID, Version: 1, TriggerType: "webhook", Trigger: store.JSON(`{}`)}), "run")
		}
		seen := map[string]bool{}
		cursor := ""
		for pages := 0; pages < 10; pages++ {
			rs, next, err := s.ListRuns(ctx, store.RunFilter{WorkflowID: w.ID, Page: store.Page{Cursor: cursor, Limit: 2}})
			storetest.Must(t, err, "list")
			for _, r := range rs {
				if seen[r.ID] {
					t.Fatalf("run %s listed twice", r.ID)
				}
				seen[r.ID] = true
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if len(seen) != 5 {
			t.Fatalf("paged through %d runs, want 5", len(seen))
		}
	})
}

// A migration numbered below one already applied (numbers are reserved
// ahead for parallel work) is applied when it arrives, not refused.
func TestALowerMigrationArrivingLaterIsApplied(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := context.Background()
		// As if 00016 had not existed when the database was migrated.
		for _, q := range []string{
			"DROP INDEX workflow_versions_unsealed",
			"ALTER TABLE workflow_versions DROP COLUMN secrets_sealed",
			"ALTER TABLE deliveries DROP COLUMN error_kind",
			"DELETE FROM goose_db_version WHERE version_id = 16",
		} {
			_, err := s.SQLDB().ExecContext(ctx, q)
			storetest.Must(t, err, "%s", q)
		}
		n, err := s.Migrate(ctx)
		storetest.Must(t, err, "migrate with 00016 arriving after 00019")
		if n != 1 {
			t.Fatalf("applied %d migrations, want 00016 alone", n)
		}
		_, err = s.SQLDB().ExecContext(ctx, "SELECT secrets_sealed FROM workflow_versions")
		storetest.Must(t, err, "the column 00016 adds")
	})
}
