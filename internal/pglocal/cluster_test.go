package pglocal_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"citygrid/internal/pglocal"
)

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("CITYGRID_TEST_DB_DEBUG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func start(t *testing.T, cfg pglocal.Config) *pglocal.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t0 := time.Now()
	l, err := pglocal.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("started %s in %v", l.URL(), time.Since(t0).Round(time.Millisecond))
	t.Cleanup(func() { l.Stop(context.Background()) })
	return l
}

func queryRow(t *testing.T, url, sql string, args ...any) pgx.Row {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return conn.QueryRow(ctx, sql, args...)
}

func TestStartPersistsAcrossRestarts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "pgdata") // parents created too
	cfg := pglocal.Config{DataDir: dir, Logger: testLogger(t)}

	first := start(t, cfg)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, first.URL())
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `CREATE TABLE kept (v text); INSERT INTO kept VALUES ('a'), ('b')`)
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := first.Stop(context.Background()); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err != nil {
		t.Fatalf("non-ephemeral Stop removed the cluster: %v", err)
	}

	second := start(t, cfg)
	var n int
	if err := queryRow(t, second.URL(), `SELECT count(*) FROM kept`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("kept has %d rows after restart, want 2", n)
	}
	var ver string
	if err := queryRow(t, second.URL(), `SELECT extversion FROM pg_extension WHERE extname = 'postgis'`).Scan(&ver); err != nil {
		t.Fatalf("postgis extension: %v", err)
	}
	if err := second.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A server whose owner still runs is in use; one left running by a process
// that died without Stop is stopped and started again.
func TestStartLeftoverServer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pgdata")
	cfg := pglocal.Config{DataDir: dir, Logger: testLogger(t)}
	first := start(t, cfg)

	_, err := pglocal.Start(context.Background(), cfg)
	if !errors.Is(err, pglocal.ErrInUse) || !strings.Contains(err.Error(), "is in use") {
		t.Fatalf("second start while the owner runs: err = %v, want in use", err)
	}

	// Make the owner a dead process, as if it had been killed.
	if err := os.WriteFile(filepath.Join(dir, "citygrid.owner"), []byte("999999999 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l := start(t, cfg)
	var one int
	if err := queryRow(t, l.URL(), `SELECT 1`).Scan(&one); err != nil {
		t.Fatal(err)
	}
	if l.Port() != first.Port() {
		if conn, err := pgx.Connect(context.Background(), first.URL()); err == nil {
			conn.Close(context.Background())
			t.Error("the leftover server still answers on its old port")
		}
	}
}

func TestStartEphemeralStopRemovesDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pgdata")
	l := start(t, pglocal.Config{DataDir: dir, Ephemeral: true, Logger: testLogger(t)})
	var fsync string
	if err := queryRow(t, l.URL(), `SHOW fsync`).Scan(&fsync); err != nil {
		t.Fatal(err)
	}
	if fsync != "off" {
		t.Errorf("fsync = %s in an ephemeral cluster", fsync)
	}
	if err := l.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data dir after Stop: %v, want it gone", err)
	}
}
