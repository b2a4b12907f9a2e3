package store

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"reflect"
)

// The SQLite driver parses every statement it is given afresh: a third of
// the CPU of a run went to sqlite3_prepare. GORM's own PrepareStmt does not
// help here (a statement first met in a transaction is prepared on that
// transaction and dropped with it), so each SQLite connection keeps its
// recently used statements prepared, keyed by their text, for every caller
// of the *sql.DB (GORM and the queue alike). SQLite re-prepares a cached
// statement itself when the schema changes.

// stmtCacheSize bounds the statements kept per connection (statements with
// IN lists of varying length each have their own text).
const stmtCacheSize = 256

// stmtCacheConnector wraps a driver.Connector's connections in a statement cache.
type stmtCacheConnector struct{ inner driver.Connector }

func (c stmtCacheConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &cachingConn{Conn: conn, byQuery: map[string]*list.Element{}, lru: list.New()}, nil
}

func (c stmtCacheConnector) Driver() driver.Driver { return c.inner.Driver() }

// cachingConn is used by one goroutine at a time (database/sql's rule).
type cachingConn struct {
	driver.Conn
	byQuery map[string]*list.Element // of *cachedStmt
	lru     *list.List               // front: most recently used
}

type cachedStmt struct {
	query string
	st    driver.Stmt
	busy  bool // rows of it are open: a second use prepares its own
}

var (
	_ driver.ExecerContext      = (*cachingConn)(nil)
	_ driver.QueryerContext     = (*cachingConn)(nil)
	_ driver.ConnBeginTx        = (*cachingConn)(nil)
	_ driver.ConnPrepareContext = (*cachingConn)(nil)
	_ driver.Pinger             = (*cachingConn)(nil)
	_ driver.SessionResetter    = (*cachingConn)(nil)
	_ driver.Validator          = (*cachingConn)(nil)
)

// stmt returns the cached statement for query (prepared on first use), or
// nil when it is in use: the caller then prepares one of its own.
func (c *cachingConn) stmt(ctx context.Context, query string) (*cachedStmt, error) {
	if el, ok := c.byQuery[query]; ok {
		cs := el.Value.(*cachedStmt)
		if cs.busy {
			return nil, nil
		}
		c.lru.MoveToFront(el)
		return cs, nil
	}
	st, err := c.prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	cs := &cachedStmt{query: query, st: st}
	c.byQuery[query] = c.lru.PushFront(cs)
	for c.lru.Len() > stmtCacheSize {
		old := c.lru.Back()
		ocs := old.Value.(*cachedStmt)
		if ocs.busy {
			break // closed when its rows are (see cachedRows.Close)
		}
		c.lru.Remove(old)
		delete(c.byQuery, ocs.query)
		_ = ocs.st.Close()
	}
	return cs, nil
}

func (c *cachingConn) prepare(ctx context.Context, query string) (driver.Stmt, error) {
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query)
	}
	return c.Conn.Prepare(query)
}

// forget drops a statement whose use failed, so a broken one is not reused.
func (c *cachingConn) forget(cs *cachedStmt) {
	if el, ok := c.byQuery[cs.query]; ok && el.Value == cs {
		c.lru.Remove(el)
		delete(c.byQuery, cs.query)
	}
	_ = cs.st.Close()
}

// use returns the statement for query: the cached one (cs set), or one of
// its own for the caller to close when the cached one is in use.
func (c *cachingConn) use(ctx context.Context, query string) (driver.Stmt, *cachedStmt, error) {
	cs, err := c.stmt(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	if cs != nil {
		return cs.st, cs, nil
	}
	st, err := c.prepare(ctx, query)
	return st, nil, err
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	st, cs, err := c.use(ctx, query)
	if err != nil {
		return nil, err
	}
	res, err := st.(driver.StmtExecContext).ExecContext(ctx, args)
	if cs == nil {
		st.Close()
	} else if errors.Is(err, driver.ErrBadConn) {
		c.forget(cs)
	}
	return res, err
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	st, cs, err := c.use(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		if cs == nil {
			st.Close()
		} else if errors.Is(err, driver.ErrBadConn) {
			c.forget(cs)
		}
		return nil, err
	}
	if cs == nil {
		return &cachedRows{Rows: rows, done: func() { st.Close() }}, nil
	}
	cs.busy = true
	return &cachedRows{Rows: rows, done: func() {
		cs.busy = false
		if _, ok := c.byQuery[cs.query]; !ok || c.lru.Len() > stmtCacheSize {
			c.forget(cs) // evicted while its rows were open
		}
	}}, nil
}

// PrepareContext is an explicit prepare: the caller owns and closes it.
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.prepare(ctx, query)
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	return c.Conn.Begin() //nolint:staticcheck // fallback for drivers without BeginTx
}

func (c *cachingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *cachingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *cachingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *cachingConn) Close() error {
	for el := c.lru.Front(); el != nil; el = el.Next() {
		_ = el.Value.(*cachedStmt).st.Close()
	}
	c.byQuery, c.lru = map[string]*list.Element{}, list.New()
	return c.Conn.Close()
}

// cachedRows hands the statement back when the rows are closed and keeps
// the column-type details database/sql and GORM ask the driver's rows for.
type cachedRows struct {
	driver.Rows
	done   func()
	closed bool
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	if !r.closed {
		r.closed = true
		r.done()
	}
	return err
}

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *cachedRows) ColumnTypeNullable(i int) (bool, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *cachedRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}
