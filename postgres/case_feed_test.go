package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"citygrid/cases"
	"citygrid/internal/dbtest"
	"citygrid/position"
	"citygrid/postgres"
)

// feedPool is a pool on a schema of its own holding cases and the change
// feed's tables with migration 011's triggers: the feed tests must commit.
func feedPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := dbtest.Isolated(t, "cases", "case_events", "case_changes", "case_change_log")
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO case_change_log DEFAULT VALUES`,
		// The function names case_changes unqualified: the schema's copy.
		`CREATE TRIGGER cases_log_insert AFTER INSERT ON cases
		 REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION public.case_changes_log()`,
		`CREATE TRIGGER cases_log_update AFTER UPDATE ON cases
		 REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION public.case_changes_log()`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return pool
}

// insertRawCase stores a case with plain SQL in tx and returns its id.
func insertRawCase(t *testing.T, tx pgx.Tx, extID string) int64 {
	t.Helper()
	var id int64
	if err := tx.QueryRow(context.Background(), `INSERT INTO cases (source, external_id, category, geom, h3, status, reported_at, due_at)
VALUES ('patrol', $1, 'E0101', ST_SetSRID(ST_MakePoint(120.36, 36.08), 4326), 0, 'reported', now(), now() + interval '3 days') RETURNING id`, extID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// readUntil reads the feed from from until its horizon passes p (other
// tests' open transactions may hold it back a moment).
func readUntil(t *testing.T, store *postgres.CaseStore, from, p uint64) []int64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ids, horizon, gap, err := store.ReadChanges(context.Background(), from)
		if err != nil || gap {
			t.Fatalf("ReadChanges(%d): gap %v, %v", from, gap, err)
		}
		if horizon >= p {
			return ids
		}
		if time.Now().After(deadline) {
			t.Fatalf("the feed's horizon stayed at %d, below %d, for 10 s", horizon, p)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestChangeFeedOutOfOrderCommits: of two transactions, the one that wrote
// its change first commits last. A cursor on the log's sequence moves past
// the first's row before it is visible and never reads it; the feed
// (by transaction id, below the snapshot's xmin) waits for it and misses
// nothing.
func TestChangeFeedOutOfOrderCommits(t *testing.T) {
	ctx := context.Background()
	pool := feedPool(t)
	store := postgres.NewCaseStore(pool)
	_, start, _, err := store.ReadChanges(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}

	first, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback(ctx)             //nolint:errcheck
	a := insertRawCase(t, first, "ooo-a") // takes the lower sequence number and xid

	second, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := insertRawCase(t, second, "ooo-b")
	var bPos uint64
	if err := second.QueryRow(ctx, `SELECT pg_current_xact_id()::text::bigint + 1`).Scan(&bPos); err != nil {
		t.Fatal(err)
	}
	if err := second.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	// The sequence cursor: it sees b's row, and moves past a's.
	var cursor int64
	if err := pool.QueryRow(ctx, `SELECT max(seq) FROM case_changes`).Scan(&cursor); err != nil {
		t.Fatal(err)
	}
	// The feed: nothing of b's yet, since a's transaction, below it, runs.
	ids, horizon, _, err := store.ReadChanges(ctx, start)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(ids, b) || horizon >= bPos {
		t.Fatalf("while the first transaction runs the feed read %v up to %d: past it, to the second's change (position %d)", ids, horizon, bPos)
	}

	if err := first.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var missed []int64
	rows, _ := pool.Query(ctx, `SELECT case_id FROM case_changes WHERE seq > $1`, cursor)
	missed, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(missed, a) {
		t.Fatalf("the sequence cursor read case %d after all: the reproduction is broken", a)
	}
	t.Logf("a cursor on the sequence, at %d, misses case %d for good", cursor, a)

	ids = readUntil(t, store, start, bPos)
	if want := []int64{a, b}; !slices.Equal(ids, want) {
		t.Errorf("the feed read %v, want %v (both, in the order of their transactions)", ids, want)
	}
}

// TestChangeFeedPruneGap: pruning moves the log's start; a reader behind it
// is told of the gap, one after it is not.
func TestChangeFeedPruneGap(t *testing.T) {
	ctx := context.Background()
	pool := feedPool(t)
	store := postgres.NewCaseStore(pool)
	_, start, _, err := store.ReadChanges(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	insertRawCase(t, tx, "gap-a")
	var pos uint64
	if err := tx.QueryRow(ctx, `SELECT pg_current_xact_id()::text::bigint + 1`).Scan(&pos); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	readUntil(t, store, start, pos)
	if n, err := store.PruneChanges(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("PruneChanges(1h) of a fresh log = %d, %v; want nothing pruned", n, err)
	}
	if _, err := pool.Exec(ctx, `UPDATE case_changes SET at = now() - interval '2 hours'`); err != nil {
		t.Fatal(err)
	}
	if n, err := store.PruneChanges(ctx, time.Hour); err != nil || n != 1 {
		t.Fatalf("PruneChanges(1h) = %d, %v; want the one row", n, err)
	}
	if _, _, gap, err := store.ReadChanges(ctx, start); err != nil || !gap {
		t.Errorf("a reader from before the pruned row: gap %v (%v), want a gap", gap, err)
	}
	if _, _, gap, err := store.ReadChanges(ctx, pos); err != nil || gap {
		t.Errorf("a reader from after it: gap %v (%v), want none", gap, err)
	}
	x, p, err := store.LoadCases(ctx)
	if err != nil || x.Len() != 1 || p < pos {
		t.Errorf("LoadCases = %d cases at %d (%v), want the case at %d or later", x.Len(), p, err, pos)
	}
	id, err := store.DatabaseIdentity(ctx)
	if err != nil || len(id) < 40 {
		t.Errorf("DatabaseIdentity = %q, %v", id, err)
	}
}

// TestWritesNotePositions: every write notes the position it produced in
// the request's note, and a bulk batch gives its stored cases their ids.
func TestWritesNotePositions(t *testing.T) {
	t.Parallel()
	e := newCaseEnv(t)
	ctx, note := position.WithNote(context.Background())
	c, _, err := e.cases.CreateCase(ctx, e.prepare(t, input("patrol", "pos-1", "E0101", 120.365, 36.075)), "")
	if err != nil {
		t.Fatal(err)
	}
	created, ok := note.Max()
	if !ok || created == 0 {
		t.Fatalf("CreateCase noted no position")
	}
	st := cases.StatusAccepted
	uctx, unote := position.WithNote(context.Background())
	if _, err := e.cases.UpdateCase(uctx, c.ID, cases.Update{Status: &st, IfVersion: 1, Now: testNow, Calendar: e.cal}); err != nil {
		t.Fatal(err)
	}
	if p, ok := unote.Max(); !ok || p != created { // one test transaction: one xid
		t.Errorf("UpdateCase noted %d, %v; want %d", p, ok, created)
	}
	batch := []*cases.Case{e.prepare(t, input("patrol", "pos-1", "E0101", 120.365, 36.075)), e.prepare(t, input("patrol", "pos-2", "E0101", 120.365, 36.075))}
	bctx, bnote := position.WithNote(context.Background())
	n, err := e.cases.InsertCases(bctx, batch)
	if err != nil || n != 1 {
		t.Fatalf("InsertCases = %d, %v; want 1 (one duplicate)", n, err)
	}
	if batch[0].ID != 0 || batch[1].ID == 0 || batch[1].Version != 1 {
		t.Errorf("ids after the batch: duplicate %d, new %d (v%d); want 0 and an id at v1", batch[0].ID, batch[1].ID, batch[1].Version)
	}
	if _, ok := bnote.Max(); !ok {
		t.Error("InsertCases noted no position")
	}
}
