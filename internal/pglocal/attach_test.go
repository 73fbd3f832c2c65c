package pglocal_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"citygrid/internal/pglocal"
)

// TestAttach: a second process attaches to the server a live process runs
// from the data dir, and its Stop leaves that server running; with no
// server, or a server whose owner died, there is nothing to attach to.
func TestAttach(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "pgdata")
	cfg := pglocal.Config{DataDir: dir, Ephemeral: true, Logger: testLogger(t)}

	if _, err := pglocal.Attach(ctx, cfg); !errors.Is(err, pglocal.ErrNotRunning) {
		t.Fatalf("Attach before any server: err = %v, want ErrNotRunning", err)
	}
	owner := start(t, cfg)

	a, err := pglocal.Attach(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Attached() || a.Owner() != os.Getpid() || a.Port() != owner.Port() || a.URL() != owner.URL() {
		t.Errorf("Attach = attached %v, owner %d, %s; want attached, owner %d (this process), %s", a.Attached(), a.Owner(), a.URL(), os.Getpid(), owner.URL())
	}
	conn, err := pgx.Connect(ctx, a.URL())
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `CREATE TABLE attached_here (v int)`)
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Stop(ctx); err != nil {
		t.Fatalf("Stop of an attached cluster: %v", err)
	}
	var n int
	if err := queryRow(t, owner.URL(), `SELECT count(*) FROM pg_tables WHERE tablename = 'attached_here'`).Scan(&n); err != nil {
		t.Fatalf("the owner's server after the attached Stop: %v", err)
	}
	if n != 1 {
		t.Errorf("the attached process's table is not in the owner's database")
	}
	if _, err := os.Stat(filepath.Join(dir, "citygrid.owner")); err != nil {
		t.Errorf("the attached Stop touched the owner file: %v", err)
	}

	// A server left by a dead owner is Start's to restart, not ours to use.
	ownerFile := filepath.Join(dir, "citygrid.owner")
	saved, err := os.ReadFile(ownerFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ownerFile, []byte("999999999 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := pglocal.Attach(ctx, cfg); !errors.Is(err, pglocal.ErrNotRunning) {
		t.Errorf("Attach with a dead owner: err = %v, want ErrNotRunning", err)
	}
	if err := os.WriteFile(ownerFile, saved, 0o644); err != nil {
		t.Fatal(err)
	}

	if err := owner.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := pglocal.Attach(ctx, cfg); !errors.Is(err, pglocal.ErrNotRunning) {
		t.Errorf("Attach after the owner stopped: err = %v, want ErrNotRunning", err)
	}
}
