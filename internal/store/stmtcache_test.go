package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

func openCachedSQLite(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{SQLitePath: filepath.Join(t.TempDir(), "c.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// cached reports the statements the (only) SQLite connection holds prepared.
func cached(t *testing.T, db *sql.DB) map[string]bool {
	t.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out := map[string]bool{}
	if err := c.Raw(func(dc any) error {
		cc, ok := dc.(*cachingConn)
		if !ok {
			return fmt.Errorf("connection is %T, not the caching one", dc)
		}
		for q, el := range cc.byQuery {
			out[q] = el.Value.(*cachedStmt).busy
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSQLiteStatementsArePreparedOnceAndReusedSafely(t *testing.T) {
	s := openCachedSQLite(t)
	db := s.SQLDB()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (n INTEGER)"); err != nil {
		t.Fatal(err)
	}
	const ins = "INSERT INTO t (n) VALUES (?)"
	for i := range 5 {
		if _, err := db.ExecContext(ctx, ins, i); err != nil {
			t.Fatal(err)
		}
	}
	if busy, ok := cached(t, db)[ins]; !ok || busy {
		t.Fatalf("insert cached=%v busy=%v, want cached once and free", ok, busy)
	}

	// The same statement used again while its rows are open (a nested
	// query in one transaction) gets a statement of its own.
	const sel = "SELECT n FROM t WHERE n >= ? ORDER BY n"
	err := s.InTx(ctx, func(_ *Store, tx *sql.Tx) error {
		outer, err := tx.QueryContext(ctx, sel, 3)
		if err != nil {
			return err
		}
		defer outer.Close()
		var seen []int
		for outer.Next() {
			var n int
			if err := outer.Scan(&n); err != nil {
				return err
			}
			inner, err := tx.QueryContext(ctx, sel, 0)
			if err != nil {
				return err
			}
			count := 0
			for inner.Next() {
				count++
			}
			inner.Close()
			if count != 5 {
				return fmt.Errorf("inner query saw %d rows, want 5", count)
			}
			seen = append(seen, n)
		}
		if fmt.Sprint(seen) != "[3 4]" {
			return fmt.Errorf("outer query saw %v, want [3 4]", seen)
		}
		return outer.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	got := cached(t, db)
	if busy, ok := got[sel]; !ok || busy {
		t.Fatalf("select cached=%v busy=%v, want cached and free after its rows closed", ok, busy)
	}

	// A cached statement follows a schema change.
	if _, err := db.ExecContext(ctx, "ALTER TABLE t ADD COLUMN m INTEGER NOT NULL DEFAULT 7"); err != nil {
		t.Fatal(err)
	}
	var n, m int
	if err := db.QueryRowContext(ctx, "SELECT n, m FROM t WHERE n >= ? ORDER BY n", 4).Scan(&n, &m); err != nil || n != 4 || m != 7 {
		t.Fatalf("after ALTER: n=%d m=%d err=%v", n, m, err)
	}

	// The cache is bounded.
	for i := range stmtCacheSize + 20 {
		if _, err := db.ExecContext(ctx, fmt.Sprintf("SELECT %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := cached(t, db); len(got) > stmtCacheSize {
		t.Fatalf("%d statements cached, want at most %d", len(got), stmtCacheSize)
	}
}
