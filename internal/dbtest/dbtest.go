// Package dbtest gives tests a real PostgreSQL + PostGIS: the server named by
// CITYGRID_TEST_DATABASE_URL, or else a throwaway private cluster (one per
// test binary) started with pglocal, the launcher the service uses. A test
// that needs the database fails, with the reason, when none can be had; it
// never skips.
//
// The database is set up on first use (the first Pool, URL or Tx call), so
// a package whose selected tests don't touch it pays nothing. Set
// CITYGRID_TEST_DB_DEBUG=1 to see pglocal's commands on stderr.
//
// Tests of package postgres itself must be in package postgres_test to use
// dbtest (dbtest imports postgres).
package dbtest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"citygrid/internal/pglocal"
	"citygrid/postgres"
)

// startTimeout bounds cluster start plus setup.
const startTimeout = 3 * time.Minute

var (
	mainCalled bool
	setupFn    func(ctx context.Context, pool *pgxpool.Pool) error

	once    sync.Once
	pool    *pgxpool.Pool
	url     string
	local   *pglocal.Cluster
	initErr error
	// startup is how long getting the database ready took (cluster start,
	// database + PostGIS, setup).
	startup time.Duration
)

// Main is called from TestMain: it runs the tests with a shared database
// (started on first use: a throwaway cluster, unless
// CITYGRID_TEST_DATABASE_URL names one), runs setup once on it before the
// first test gets it, stops the cluster and exits.
func Main(m *testing.M, setup func(ctx context.Context, pool *pgxpool.Pool) error) {
	mainCalled = true
	setupFn = setup
	code := m.Run()
	if pool != nil {
		pool.Close()
	}
	if local != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := local.Stop(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "dbtest: stop test cluster:", err)
			if code == 0 {
				code = 1
			}
		}
		cancel()
	}
	os.Exit(code)
}

// MainMigrated is Main with citygrid's migrations as the setup: what
// every package testing against the database wants.
func MainMigrated(m *testing.M) {
	Main(m, func(ctx context.Context, pool *pgxpool.Pool) error {
		_, err := postgres.Migrate(ctx, pool)
		return err
	})
}

func initialise() {
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	initErr = connect(ctx)
	startup = time.Since(t0)
	if initErr != nil {
		initErr = fmt.Errorf("dbtest: no test database: %w", initErr)
	}
}

func connect(ctx context.Context) error {
	url = os.Getenv("CITYGRID_TEST_DATABASE_URL")
	if url == "" {
		// The cluster lives right in the temp dir, so that Stop (which
		// removes an ephemeral data dir) leaves nothing behind.
		dir, err := os.MkdirTemp("", "citygrid-dbtest-")
		if err != nil {
			return err
		}
		level := slog.LevelWarn
		if os.Getenv("CITYGRID_TEST_DB_DEBUG") != "" {
			level = slog.LevelDebug
		}
		logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
		local, err = pglocal.Start(ctx, pglocal.Config{DataDir: dir, Ephemeral: true, Logger: logger})
		if err != nil {
			os.RemoveAll(dir)
			return err
		}
		url = local.URL()
	}
	var err error
	if pool, err = pgxpool.New(ctx, url); err != nil {
		return err
	}
	if err := pool.Ping(ctx); err != nil {
		return fmt.Errorf("connect %s: %w", url, err)
	}
	if setupFn != nil {
		if err := setupFn(ctx, pool); err != nil {
			return fmt.Errorf("setup: %w", err)
		}
	}
	return nil
}

// Pool returns the shared pool. It fails the test when TestMain does not
// use Main or when there is no database.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	if !mainCalled {
		t.Fatal("dbtest: the package's TestMain must call dbtest.Main(m, setup)")
	}
	once.Do(initialise)
	if initErr != nil {
		t.Fatal(initErr)
	}
	return pool
}

// URL returns the connection URL of the shared database.
func URL(t testing.TB) string {
	t.Helper()
	Pool(t)
	return url
}

// Tx begins a transaction on the shared pool, rolled back when the test
// ends, so tests leave nothing behind and can run in parallel.
func Tx(t testing.TB) pgx.Tx {
	t.Helper()
	tx, err := Pool(t).Begin(context.Background())
	if err != nil {
		t.Fatal("dbtest: begin:", err)
	}
	t.Cleanup(func() { tx.Rollback(context.Background()) })
	return tx
}

// isolated numbers the schemas made by Isolated within this test binary.
var isolated atomic.Int64

// Isolated returns a pool on the shared database whose search_path puts a
// fresh schema before public; the schema holds empty copies of the named
// public tables, with their columns, defaults, checks, indexes and
// constraint names (CREATE TABLE ... LIKE ... INCLUDING ALL; foreign keys
// are not copied). It is for tests that must commit, for instance to make
// two transactions race for a key: what they commit there stays out of
// sight of the tests running meanwhile. The schema is dropped when the test
// ends. tables are names written in the test, never input.
func Isolated(t testing.TB, tables ...string) *pgxpool.Pool {
	t.Helper()
	shared := Pool(t)
	ctx := context.Background()
	schema := fmt.Sprintf("dbtest_isolated_%d_%d", os.Getpid(), isolated.Add(1))
	quoted := pgx.Identifier{schema}.Sanitize()
	if _, err := shared.Exec(ctx, `CREATE SCHEMA `+quoted); err != nil {
		t.Fatal("dbtest: isolated schema:", err)
	}
	t.Cleanup(func() {
		if _, err := shared.Exec(context.Background(), `DROP SCHEMA `+quoted+` CASCADE`); err != nil {
			t.Error("dbtest: drop isolated schema:", err)
		}
	})
	for _, table := range tables {
		sql := fmt.Sprintf(`CREATE TABLE %s (LIKE %s INCLUDING ALL)`, pgx.Identifier{schema, table}.Sanitize(), pgx.Identifier{"public", table}.Sanitize())
		if _, err := shared.Exec(ctx, sql); err != nil {
			t.Fatalf("dbtest: isolated copy of %s: %v", table, err)
		}
		ownSequences(t, shared, schema, table)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal("dbtest:", err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema + ", public"
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal("dbtest: isolated pool:", err)
	}
	t.Cleanup(p.Close) // runs before the schema is dropped
	return p
}

// BackendPID returns the server process ID of the connection tx runs on.
func BackendPID(t testing.TB, tx pgx.Tx) int {
	t.Helper()
	var pid int
	if err := tx.QueryRow(context.Background(), `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal("dbtest: backend pid:", err)
	}
	return pid
}

// WaitBlocked waits until some other session waits for a lock held by the
// server process pid (see BackendPID), and fails the test after ten
// seconds. It lets a test order a race: start the second writer, wait
// until it is queued behind the first, then let the first commit.
func WaitBlocked(t testing.TB, pid int) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		err := Pool(t).QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE $1::int = ANY (pg_blocking_pids(pid))`, pid).Scan(&n)
		if err != nil {
			t.Fatal("dbtest: wait for a blocked session:", err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("dbtest: no session waited for process %d within 10 s", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// serialColumnsSQL lists the columns of a table whose default draws from a
// sequence (serial columns).
const serialColumnsSQL = `
SELECT a.attname FROM pg_attribute a
JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = $1::regclass AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%'`

// ownSequences gives an isolated copy's serial columns a sequence of their
// own: LIKE copies the default, which draws from the original's sequence,
// and pg_get_serial_sequence on the copy would find none.
func ownSequences(t testing.TB, db *pgxpool.Pool, schema, table string) {
	t.Helper()
	ctx := context.Background()
	rows, err := db.Query(ctx, serialColumnsSQL, pgx.Identifier{schema, table}.Sanitize())
	if err != nil {
		t.Fatal("dbtest: serial columns:", err)
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal("dbtest: serial columns:", err)
	}
	for _, col := range cols {
		seq := pgx.Identifier{schema, table + "_" + col + "_seq"}.Sanitize()
		tbl := pgx.Identifier{schema, table}.Sanitize()
		column := pgx.Identifier{col}.Sanitize()
		for _, sql := range []string{
			`CREATE SEQUENCE ` + seq + ` OWNED BY ` + tbl + `.` + column,
			`ALTER TABLE ` + tbl + ` ALTER COLUMN ` + column + ` SET DEFAULT nextval('` + seq + `')`,
		} {
			if _, err := db.Exec(ctx, sql); err != nil {
				t.Fatalf("dbtest: sequence of %s.%s: %v", table, col, err)
			}
		}
	}
}
