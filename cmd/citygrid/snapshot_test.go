package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"citygrid/caseindex"
	"citygrid/grid"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
	"citygrid/snapshot"
)

func TestSnapshotDir(t *testing.T) {
	tests := []struct{ flag, dataDir, want string }{
		{"", filepath.Join(".citygrid", "pgdata"), filepath.Join(".citygrid", "snapshots")},
		{"", "/var/lib/citygrid/wt-1a2b3c4d5e6f", "/var/lib/citygrid/wt-1a2b3c4d5e6f.snapshots"},
		{"", "/var/lib/citygrid/wt-1a2b3c4d5e6f/", "/var/lib/citygrid/wt-1a2b3c4d5e6f.snapshots"},
		{"/srv/snap", ".citygrid/pgdata", "/srv/snap"},
		{"none", ".citygrid/pgdata", ""},
	}
	for _, tt := range tests {
		cfg := &Config{SnapshotDir: tt.flag, DataDir: tt.dataDir}
		if got := cfg.snapshotDir(); got != tt.want {
			t.Errorf("snapshotDir(-snapshot-dir %q, -data-dir %q) = %q, want %q", tt.flag, tt.dataDir, got, tt.want)
		}
	}
}

// TestSnapshotsAcrossRestarts runs serve's snapshot steps against the
// database three times: the first start loads in full and writes a
// snapshot (at once, and again at shutdown); the second restores it and
// replays the tail from its position; the third finds the database's
// identity changed (reset since) and loads in full, saying why.
func TestSnapshotsAcrossRestarts(t *testing.T) {
	tx := dbtest.Tx(t)
	ctx := context.Background()
	if _, err := tx.Exec(ctx, `INSERT INTO cases (source, external_id, category, geom, h3, status, reported_at, due_at)
SELECT 'patrol', 'snap-' || i, 'E0101', ST_SetSRID(ST_MakePoint(-33 + random()*0.01, 13 + random()*0.01), 4326), 0, 'reported', now(), now() + interval '3 days'
FROM generate_series(1, 2000) i`); err != nil {
		t.Fatal(err)
	}
	caseStore, gridStore := postgres.NewCaseStore(tx), postgres.NewGridStore(tx)
	cfg := &Config{SnapshotDir: t.TempDir(), SnapshotEvery: time.Hour}
	type start struct {
		cases    *caseindex.Index
		replayed []uint64
		full     int
		log      string
	}
	run := func(database string) start {
		t.Helper()
		var s start
		var log bytes.Buffer
		e := &env{stdout: io.Discard, stderr: io.Discard, logger: slog.New(slog.NewTextHandler(&log, nil))}
		feed := snapshotFeed{
			Database: database,
			Position: func() uint64 { return 42 },
			ReplayFrom: func(_ context.Context, pos uint64) error {
				s.replayed = append(s.replayed, pos)
				return nil
			},
			Bounds: func(context.Context) (uint64, uint64, error) { return 40, 50, nil },
		}
		runCtx, cancel := context.WithCancel(ctx)
		snaps, err := startSnapshots(runCtx, cfg, e, feed, grid.NewIndex(grid.LocatorOptions{}), gridStore)
		if err != nil {
			t.Fatal(err)
		}
		if err := snaps.rebuildGrids(runCtx); err != nil {
			t.Fatal(err)
		}
		s.cases = caseindex.New()
		fullLoad := func(ctx context.Context) error { s.full++; return caseStore.LoadCaseIndex(ctx, s.cases) }
		if err := snaps.loadCases(runCtx, s.cases, fullLoad); err != nil {
			t.Fatal(err)
		}
		cancel()
		snaps.close()
		s.log = log.String()
		return s
	}
	first := run("db-1")
	if first.full != 1 || first.cases.Len() < 2000 {
		t.Fatalf("first start: %d full loads, %d cases; want 1, ≥ 2000", first.full, first.cases.Len())
	}
	if _, err := os.Stat(filepath.Join(cfg.SnapshotDir, snapshot.FileName)); err != nil {
		t.Fatalf("no snapshot after the first start: %v", err)
	}
	second := run("db-1")
	if second.full != 0 || fmt.Sprint(second.replayed) != "[42]" || second.cases.Len() != first.cases.Len() {
		t.Errorf("second start: %d full loads, replayed %v, %d cases; want 0, [42], %d", second.full, second.replayed, second.cases.Len(), first.cases.Len())
	}
	if !strings.Contains(second.log, "case index restored from the snapshot") {
		t.Errorf("second start's log does not say it restored the snapshot:\n%s", second.log)
	}
	third := run("db-1-reset")
	if third.full != 1 || len(third.replayed) != 0 {
		t.Errorf("after a reset: %d full loads, replayed %v; want 1, none", third.full, third.replayed)
	}
	if !strings.Contains(third.log, "full load from the database") || !strings.Contains(third.log, "another database") {
		t.Errorf("after a reset, the log does not say why it loaded in full:\n%s", third.log)
	}
}
