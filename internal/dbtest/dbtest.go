// Package dbtest gives tests a real PostgreSQL + PostGIS: the server named by
// CITYGRID_TEST_DATABASE_URL, or else a throwaway private cluster started
// once per test binary with the same launcher the service uses. A test that
// needs the database fails, with the reason, when none can be had; it never
// skips.
package dbtest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"citygrid/postgres"
)

var (
	pool    *pgxpool.Pool
	url     string
	initErr error
	started bool
)

// Main runs the package's tests with a database: it starts the cluster (or
// connects), runs setup once (migrations, typically), runs the tests, stops
// the cluster and exits.
func Main(m *testing.M, setup func(ctx context.Context, pool *pgxpool.Pool) error) {
	started = true
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	var local *postgres.Local
	url = os.Getenv("CITYGRID_TEST_DATABASE_URL")
	if url == "" {
		local, initErr = startLocal(ctx)
		if local != nil {
			url = local.URL()
		}
	}
	if initErr == nil {
		pool, initErr = pgxpool.New(ctx, url)
	}
	if initErr == nil && setup != nil {
		initErr = setup(ctx, pool)
	}
	cancel()
	if initErr != nil {
		initErr = fmt.Errorf("test database: %w", initErr)
		fmt.Fprintln(os.Stderr, initErr)
	}
	code := m.Run()
	if pool != nil {
		pool.Close()
	}
	if local != nil {
		if err := local.Stop(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

// startLocal starts an ephemeral cluster in a directory every user can pass
// through: as root the cluster runs as the postgres user, and os.MkdirTemp
// makes 0700 directories.
func startLocal(ctx context.Context) (*postgres.Local, error) {
	base, err := os.MkdirTemp("", "citygrid-test-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(base, 0o755); err != nil {
		return nil, err
	}
	l, err := postgres.StartLocal(ctx, postgres.LocalConfig{DataDir: base + "/pgdata", Ephemeral: true})
	if err != nil {
		_ = os.RemoveAll(base)
		return nil, err
	}
	return l, nil
}

// Pool returns the shared pool, failing t when there is no database.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	if !started {
		t.Fatal("dbtest: the package's TestMain must call dbtest.Main")
	}
	if initErr != nil {
		t.Fatal(initErr)
	}
	return pool
}

// URL returns the connection URL of the test database.
func URL(t testing.TB) string {
	Pool(t)
	return url
}

// Tx begins a transaction that is rolled back when t ends, so tests leave
// nothing behind and can run in parallel.
func Tx(t testing.TB) pgx.Tx {
	t.Helper()
	tx, err := Pool(t).Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	return tx
}
