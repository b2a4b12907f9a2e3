// Package store is the only package that touches GORM: models, queries,
// transactions, opening SQLite or PostgreSQL, and applying migrations.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/libtnb/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	msqlite "modernc.org/sqlite" // the pure-Go SQLite driver
)

// ErrNotFound is returned (wrapped) when a row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned (wrapped) when a write collides with existing data.
var ErrConflict = errors.New("conflict")

// Dialects.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Options says which database to open.
type Options struct {
	// DatabaseURL selects PostgreSQL (postgres://…); empty means SQLite.
	DatabaseURL string
	// SQLitePath is the database file when DatabaseURL is empty.
	SQLitePath string
	// MaxConns sizes the PostgreSQL pool (default 20).
	MaxConns int32
	Logger   *slog.Logger
}

// Store is a handle on the database. A Store made by InTx is bound to that
// transaction.
type Store struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	pool    *pgxpool.Pool
	dialect string
	hooks   *Hooks
	sealer  DocumentSealer
	lookups *lookups
	// txChanged is set (in a Store bound to a transaction) when the
	// transaction changed a workflow: the lookups are forgotten again once
	// it has ended.
	txChanged *bool
}

// DocumentSealer seals the secrets inside workflow documents at rest (inline
// webhook secrets, Basic passwords): SealDocument before a version is
// written, OpenDocument after one is read. The store knows neither the
// documents' shape nor the keys, so the wiring sets it once at start.
type DocumentSealer interface {
	SealDocument(workflowID string, doc []byte) ([]byte, error)
	OpenDocument(workflowID string, doc []byte) ([]byte, error)
}

// SetDocumentSealer installs the sealer (nil: documents stored as given).
func (s *Store) SetDocumentSealer(d DocumentSealer) { s.sealer = d }

// Hooks let a package above the store add rows to a write in the same
// transaction (the events outbox). Set them once at start, before use.
type Hooks struct {
	// RunFinished is called inside FinishRun's transaction when a run has
	// just become succeeded, failed or canceled, with a Store bound to that
	// transaction. Wanted reports cheaply, before any transaction, whether
	// anyone listens for a run ending in that state.
	RunFinished func(ctx context.Context, tx *Store, r *Run) error
	RunWanted   func(ctx context.Context, s *Store, state string) (bool, error)
}

// SetHooks installs hooks (nil removes them).
func (s *Store) SetHooks(h *Hooks) { s.hooks = h }

// Open connects, checks the connection and returns the store. It does not
// migrate.
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.DatabaseURL != "" {
		return openPostgres(ctx, o)
	}
	return openSQLite(ctx, o)
}

func gormConfig() *gorm.Config {
	return &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		TranslateError:         true,
	}
}

func openSQLite(ctx context.Context, o Options) (*Store, error) {
	if o.SQLitePath == "" {
		return nil, errors.New("opening SQLite: no database path")
	}
	if err := ownerOnlyFiles(o.SQLitePath); err != nil {
		return nil, err
	}
	// One connection and BEGIN IMMEDIATE: the only settings without "database
	// is locked" under concurrent writers (see TOOLCHAIN.md). auto_vacuum must
	// be set before the first table exists; it lets retention give disk back.
	dsn := "file:" + o.SQLitePath + "?_pragma=auto_vacuum(incremental)&_pragma=journal_mode(WAL)" +
		"&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	conn, err := msqlite.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("opening SQLite %s: %w", o.SQLitePath, err)
	}
	sqlDB := sql.OpenDB(stmtCacheConnector{inner: conn})
	sqlDB.SetMaxOpenConns(1)
	sqlDB.SetConnMaxLifetime(0)
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("opening SQLite %s: %w", o.SQLitePath, err)
	}
	var version string
	if err := sqlDB.QueryRowContext(ctx, "select sqlite_version()").Scan(&version); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("reading SQLite version: %w", err)
	}
	if !versionAtLeast(version, 3, 45) {
		sqlDB.Close()
		return nil, fmt.Errorf("SQLite %s is too old: the queue needs 3.45 or newer", version)
	}
	for _, side := range []string{"-wal", "-shm"} {
		// SQLite gives these the database file's mode; older files may be wider.
		if err := os.Chmod(o.SQLitePath+side, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			sqlDB.Close()
			return nil, fmt.Errorf("restricting %s: %w", o.SQLitePath+side, err)
		}
	}
	db, err := gorm.Open(sqlite.New(sqlite.Config{Conn: sqlDB}), gormConfig())
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("opening GORM on SQLite: %w", err)
	}
	return &Store{db: db, sqlDB: sqlDB, dialect: SQLite, lookups: newLookups()}, nil
}

func versionAtLeast(v string, major, minor int) bool {
	var ma, mi int
	if _, err := fmt.Sscanf(v, "%d.%d", &ma, &mi); err != nil {
		return false
	}
	return ma > major || (ma == major && mi >= minor)
}

func openPostgres(ctx context.Context, o Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(o.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("parsing DATABASE_URL: %w", err)
	}
	cfg.MaxConns = o.MaxConns
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 20
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to PostgreSQL at %s: %w", redactURL(o.DatabaseURL), err)
	}
	// GORM and River share one *sql.DB over the pgx pool, so an app row and a
	// queue job can commit in one transaction.
	sqlDB := stdlib.OpenDBFromPool(pool)
	db, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), gormConfig())
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("opening GORM on PostgreSQL: %w", err)
	}
	return &Store{db: db, sqlDB: sqlDB, pool: pool, dialect: Postgres, lookups: newLookups()}, nil
}

// redactURL hides the password of a database URL for messages.
func redactURL(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 {
		return u
	}
	userinfo := u[scheme+3 : at]
	if user, _, ok := strings.Cut(userinfo, ":"); ok {
		return u[:scheme+3] + user + ":***" + u[at:]
	}
	return u
}

// Dialect is SQLite or Postgres.
func (s *Store) Dialect() string { return s.dialect }

// SQLDB is the shared database/sql handle (for the queue).
func (s *Store) SQLDB() *sql.DB { return s.sqlDB }

// PgxPool is the PostgreSQL pool (for the queue's LISTEN); nil on SQLite.
func (s *Store) PgxPool() *pgxpool.Pool { return s.pool }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.sqlDB.PingContext(ctx)
}

// Close releases the database.
func (s *Store) Close() error {
	err := s.sqlDB.Close()
	if s.pool != nil {
		s.pool.Close()
	}
	return err
}

// InTx runs fn in one transaction. fn gets a Store bound to the transaction
// and the *sql.Tx under it, for inserting queue jobs in the same commit.
func (s *Store) InTx(ctx context.Context, fn func(tx *Store, sqlTx *sql.Tx) error) error {
	changed := s.txChanged
	if changed == nil {
		changed = new(bool)
		defer func() {
			if *changed { // committed or rolled back: read the rows afresh
				s.lookups.changed()
			}
		}()
	}
	return s.db.WithContext(ctx).Transaction(func(gtx *gorm.DB) error {
		sqlTx, ok := gtx.Statement.ConnPool.(*sql.Tx)
		if !ok {
			return fmt.Errorf("transaction is %T, not *sql.Tx", gtx.Statement.ConnPool)
		}
		return fn(&Store{db: gtx, sqlDB: s.sqlDB, pool: s.pool, dialect: s.dialect, hooks: s.hooks,
			sealer: s.sealer, lookups: s.lookups, txChanged: changed}, sqlTx)
	})
}

func notFound(err error, what string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return fmt.Errorf("%s: %w", what, ErrConflict)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// ownerOnlyFiles creates the database folder (0700, when it does not exist)
// and file (0600) so that only the user running Switchboard can read
// sessions, keys and sealed secrets; an existing database file is narrowed
// to 0600 too. An existing folder is left alone: it may be shared.
func ownerOnlyFiles(path string) error {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("creating database folder: %w", err)
		}
		if err := os.Chmod(dir, 0o700); err != nil { // MkdirAll honours the umask only downwards
			return fmt.Errorf("restricting database folder: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("creating database file: %w", err)
	}
	f.Close()
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("restricting database file: %w", err)
	}
	return nil
}

// Savepoint, RollbackToSavepoint and ReleaseSavepoint let one transaction
// hold independent parts (a shared commit of many requests); both databases
// speak the same SQL for them.
func (s *Store) Savepoint(ctx context.Context, name string) error {
	return s.statement(ctx, "SAVEPOINT "+name, "savepoint")
}

// RollbackToSavepoint undoes what followed the savepoint.
func (s *Store) RollbackToSavepoint(ctx context.Context, name string) error {
	return s.statement(ctx, "ROLLBACK TO SAVEPOINT "+name, "rollback to savepoint")
}

// ReleaseSavepoint keeps what followed the savepoint.
func (s *Store) ReleaseSavepoint(ctx context.Context, name string) error {
	return s.statement(ctx, "RELEASE SAVEPOINT "+name, "release savepoint")
}

// statement runs one SQL statement that returns no rows; what names it in the error.
func (s *Store) statement(ctx context.Context, sql, what string) error {
	if err := s.db.WithContext(ctx).Exec(sql).Error; err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// IsUnavailable reports whether err means the database could not be
// reached or is not accepting work right now (as opposed to an error of the
// statement itself), so the caller may answer "retry later".
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// 08: connection exceptions; 57P0x: shutting down, cannot connect
		// now; 53: insufficient resources (53100 disk full, too many
		// connections): all pass once the operator or time frees them.
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P") || strings.HasPrefix(pgErr.Code, "53")
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	// SQLite: another writer holds the file beyond the busy timeout, or the
	// disk (or max_page_count) is full: SQLite rolls the transaction back
	// whole, and the next one succeeds once there is room again.
	msg := err.Error()
	return strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_BUSY") ||
		strings.Contains(msg, "database or disk is full") || strings.Contains(msg, "SQLITE_FULL")
}
