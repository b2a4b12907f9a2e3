package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// On PostgreSQL a run's execution write (its lease or new state, with the
// step records and deliveries since the last one) was a transaction of five
// round trips: BEGIN, the run's UPDATE, two INSERTs, COMMIT. AdvanceAndSave
// sends it as one statement (its columns must follow the models: the store
// test compares every field written here with what is read back) (a statement is its own transaction): the
// records are written by data-modifying WITH queries only when the run's
// conditional UPDATE matched, so a lost lease still writes nothing.

// OneStatementWrites reports whether AdvanceAndSave is one round trip
// (PostgreSQL, outside a transaction).
func (s *Store) OneStatementWrites() bool { return s.pool != nil && s.txChanged == nil }

// AdvanceAndSave is AdvanceRun then SaveRecords, atomically; ErrLeaseLost
// (nothing written) when the run is final or leased by another process.
func (s *Store) AdvanceAndSave(ctx context.Context, a Advance, steps []*StepRun, dels []*Delivery) error {
	if !s.OneStatementWrites() {
		return s.InTx(ctx, func(tx *Store, _ *sql.Tx) error {
			if err := tx.AdvanceRun(ctx, a); err != nil {
				return err
			}
			return tx.SaveRecords(ctx, steps, dels)
		})
	}
	var b strings.Builder
	var args []any
	arg := func(v any, cast string) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args)) + "::" + cast
	}
	now := a.Now.UTC()
	b.WriteString("WITH adv AS (UPDATE runs SET state = " + arg(a.State, "text"))
	switch {
	case a.State == RunRunning:
		b.WriteString(", lease_owner = " + arg(a.Owner, "text") + ", lease_until = " + arg(a.LeaseUntil.UTC(), "timestamptz"))
	case RunFinal(a.State):
		b.WriteString(", error = " + arg(a.Error, "text") + ", finished_at = " + arg(now, "timestamptz"))
		fallthrough
	default:
		b.WriteString(", lease_owner = NULL, lease_until = NULL")
	}
	if a.Claim {
		b.WriteString(", attempt = attempt + 1, started_at = COALESCE(started_at, " + arg(now, "timestamptz") + ")")
	}
	b.WriteString(" WHERE id = " + arg(a.ID, "text") + " AND state NOT IN ('succeeded', 'failed', 'filtered', 'canceled')")
	if a.Claim {
		owner := arg(a.Owner, "text")
		b.WriteString(" AND (lease_owner IS NULL OR lease_owner = " + owner + " OR lease_until < " + arg(now, "timestamptz") + ")")
	} else {
		b.WriteString(" AND lease_owner = " + arg(a.Owner, "text"))
	}
	b.WriteString(" RETURNING id)")
	if len(steps) > 0 {
		b.WriteString(", st AS (INSERT INTO step_runs (id, run_id, step_id, item_key, seq, state, input, output, error, attempts, started_at, finished_at) SELECT v.* FROM (VALUES ")
		for i, sr := range steps {
			if sr.ID == "" {
				sr.ID = NewID()
			}
			if i > 0 {
				b.WriteString(", ")
			}
			in, _ := sr.Input.Value()
			out, _ := sr.Output.Value()
			b.WriteString("(" + strings.Join([]string{arg(sr.ID, "text"), arg(sr.RunID, "text"), arg(sr.StepID, "text"),
				arg(sr.ItemKey, "text"), arg(sr.Seq, "int"), arg(sr.State, "text"), arg(in, "jsonb"), arg(out, "jsonb"),
				arg(sr.Error, "text"), arg(sr.Attempts, "int"), arg(sr.StartedAt.UTC(), "timestamptz"),
				arg(utcPtr(sr.FinishedAt), "timestamptz")}, ", ") + ")")
		}
		b.WriteString(") AS v WHERE EXISTS (SELECT 1 FROM adv) ON CONFLICT (run_id, step_id, item_key) DO UPDATE SET " +
			"state = EXCLUDED.state, input = EXCLUDED.input, output = EXCLUDED.output, error = EXCLUDED.error, " +
			"attempts = EXCLUDED.attempts, started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at, seq = EXCLUDED.seq)")
	}
	if len(dels) > 0 {
		b.WriteString(", dl AS (INSERT INTO deliveries (id, state, run_id, step_id, item_key, attempt, method, url, request_headers, " +
			"request_body, status, response_headers, response_body, latency_ms, error, error_kind, created_at) SELECT v.* FROM (VALUES ")
		for i, d := range dels {
			if d.ID == "" {
				d.ID = NewID()
			}
			if d.State == "" {
				d.State = DeliveryCompleted
			}
			if i > 0 {
				b.WriteString(", ")
			}
			reqH, _ := d.RequestHeaders.Value()
			respH, _ := d.ResponseHeaders.Value()
			b.WriteString("(" + strings.Join([]string{arg(d.ID, "text"), arg(d.State, "text"), arg(d.RunID, "text"),
				arg(d.StepID, "text"), arg(d.ItemKey, "text"), arg(d.Attempt, "int"), arg(d.Method, "text"), arg(d.URL, "text"),
				arg(reqH, "jsonb"), arg(d.RequestBody, "text"), arg(d.Status, "int"), arg(respH, "jsonb"),
				arg(d.ResponseBody, "text"), arg(d.LatencyMS, "int"), arg(d.Error, "text"), arg(d.ErrorKind, "text"),
				arg(d.CreatedAt.UTC(), "timestamptz")}, ", ") + ")")
		}
		b.WriteString(") AS v WHERE EXISTS (SELECT 1 FROM adv) ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, " +
			"status = EXCLUDED.status, response_headers = EXCLUDED.response_headers, response_body = EXCLUDED.response_body, " +
			"latency_ms = EXCLUDED.latency_ms, error = EXCLUDED.error, error_kind = EXCLUDED.error_kind)")
	}
	b.WriteString(" SELECT count(*) FROM adv")
	var n int
	if err := s.pool.QueryRow(ctx, b.String(), args...).Scan(&n); err != nil {
		return fmt.Errorf("updating run %s: %w", a.ID, err)
	}
	if n != 1 {
		return fmt.Errorf("run %s: %w", a.ID, ErrLeaseLost)
	}
	return nil
}

func utcPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}
