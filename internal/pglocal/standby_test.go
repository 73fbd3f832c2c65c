package pglocal_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"citygrid/internal/pglocal"
)

// TestStandbyFollowsPrimary: a standby made by StartStandby is read-only,
// has what the primary had, follows what it writes next, holds still while
// its replay is paused, and keeps following across a restart of the
// primary.
func TestStandbyFollowsPrimary(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	primary := start(t, pglocal.Config{DataDir: filepath.Join(dir, "primary"), Ephemeral: true, Logger: testLogger(t)})
	exec(t, primary.URL(), `CREATE TABLE marks (n int)`, `INSERT INTO marks VALUES (1)`)

	standby, err := pglocal.StartStandby(ctx, primary, pglocal.Config{DataDir: filepath.Join(dir, "standby"), Ephemeral: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { standby.Stop(context.Background()) })
	if standby.Port() == primary.Port() {
		t.Fatal("standby on the primary's port")
	}
	var inRecovery bool
	if err := queryRow(t, standby.URL(), `SELECT pg_is_in_recovery()`).Scan(&inRecovery); err != nil || !inRecovery {
		t.Fatalf("standby in recovery: %v, %v", inRecovery, err)
	}
	waitMarks(t, standby.URL(), 1)
	if _, err := connect(t, standby.URL()).Exec(ctx, `INSERT INTO marks VALUES (9)`); err == nil {
		t.Fatal("the standby took a write")
	}

	exec(t, primary.URL(), `INSERT INTO marks VALUES (2)`)
	waitMarks(t, standby.URL(), 2)

	exec(t, standby.URL(), `SELECT pg_wal_replay_pause()`)
	var xid uint64 // the transaction of mark 3
	if err := queryRow(t, primary.URL(), `INSERT INTO marks VALUES (3) RETURNING pg_current_xact_id()::text::bigint`).Scan(&xid); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	standbyConn := connect(t, standby.URL())
	if n := countMarks(t, standbyConn); n != 2 {
		t.Fatalf("paused standby has %d marks, want 2", n)
	}
	// A standby's snapshots tell which transactions it has replayed: the
	// horizon citygrid's positions are compared with.
	horizon := func() uint64 {
		var h uint64
		if err := standbyConn.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint`).Scan(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	if h := horizon(); h > xid {
		t.Fatalf("paused standby's horizon %d is past transaction %d it has not replayed", h, xid)
	}
	exec(t, standby.URL(), `SELECT pg_wal_replay_resume()`)
	waitMarks(t, standby.URL(), 3)
	for deadline := time.Now().Add(5 * time.Second); horizon() <= xid; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("standby's horizon %d not past transaction %d after replaying it", horizon(), xid)
		}
	}

	if err := primary.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	exec(t, primary.URL(), `INSERT INTO marks VALUES (4)`)
	waitMarks(t, standby.URL(), 4)
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func exec(t *testing.T, url string, sqls ...string) {
	t.Helper()
	conn := connect(t, url)
	for _, sql := range sqls {
		if _, err := conn.Exec(context.Background(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

func countMarks(t *testing.T, conn *pgx.Conn) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM marks`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitMarks waits up to 10 s for the standby to have replayed n marks.
func waitMarks(t *testing.T, url string, n int) {
	t.Helper()
	conn := connect(t, url)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := countMarks(t, conn)
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("standby has %d marks after 10 s, want %d", got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
