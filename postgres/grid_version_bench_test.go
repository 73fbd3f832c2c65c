package postgres_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/ewkb"

	"citygrid/demo"
	"citygrid/grid"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

// demoDraft is the demo district as a draft with every unit grid renamed
// and the first street's grids recoded: a version that changes owners'
// codes but not where anything lies, so that every case is looked at.
func demoDraft(grids []*grid.Grid) grid.DraftInput {
	in := grid.DraftInput{}
	for i, g := range grids {
		gi := grid.GridInput{Index: i, Code: g.Code, Name: g.Name, Level: g.Level, Parent: g.Parent, Unit: g.Unit,
			UnitsByCategory: g.UnitsByCategory, Geometry: g.Geometry}
		if g.Level == grid.LevelGrid {
			gi.Name += "′"
		}
		in.Grids = append(in.Grids, gi)
	}
	return in
}

// BenchmarkGridVersions compares, in one run: as-of locate against a past
// version's locator (once built) with locate against the one in force;
// and a preview (every open case located in memory under the draft)
// with the straightforward SQL re-attribution (UPDATE … FROM with
// ST_Covers against the draft's grids, rolled back), over
// CITYGRID_BENCH_CASES open cases (default 100,000).
//
//	go test ./postgres -run '^$' -bench GridVersions
func BenchmarkGridVersions(b *testing.B) {
	tx := dbtest.Tx(b)
	ctx := context.Background()
	grids, units := loadDemo(b, tx)
	district, err := demo.District()
	if err != nil {
		b.Fatal(err)
	}
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("CITYGRID_BENCH_CASES")); err == nil && v > 0 {
		n = v
	}
	pts := pointsIn(district, n)
	rows := make([][]any, len(pts))
	for i, p := range pts {
		rows[i] = []any{"bench", strconv.Itoa(i), "E0501", mustEWKB(b, p), int64(0), "", "", "accepted",
			time.Now().Add(-time.Hour), time.Now().Add(time.Hour)}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"cases"}, []string{"source", "external_id", "category", "geom", "h3", "grid", "unit", "status", "reported_at", "due_at"},
		pgx.CopyFromRows(rows)); err != nil {
		b.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `ANALYZE cases`); err != nil {
		b.Fatal(err)
	}
	vs := postgres.NewVersionStore(tx)
	v, err := vs.CreateDraft(ctx, demoDraft(grids))
	if err != nil || len(v.Rejected) > 0 {
		b.Fatalf("draft: %v %+v", err, v)
	}
	past, err := grid.NewLocator(grids, units, grid.LocatorOptions{})
	if err != nil {
		b.Fatal(err)
	}
	draftGrids, err := vs.VersionGrids(ctx, v.ID)
	if err != nil {
		b.Fatal(err)
	}
	current, err := grid.NewLocator(draftGrids, units, grid.LocatorOptions{})
	if err != nil {
		b.Fatal(err)
	}
	vs.Current = func() *grid.Locator { return past } // as the service does: its index
	b.Run("locate/current", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := current.Locate(pts[i%len(pts)], "E0501"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("locate/as-of-past", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := past.Locate(pts[i%len(pts)], "E0501"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("preview/memory", func(b *testing.B) {
		for b.Loop() {
			if _, err := vs.Preview(ctx, v.ID, time.Now()); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n), "cases")
	})
	b.Run("reattribute/sql-update-from-st_covers", func(b *testing.B) {
		for b.Loop() {
			sp, err := tx.Begin(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := sp.Exec(ctx, `UPDATE cases c SET grid = g.code FROM grid_version_grids g
WHERE g.version_id = $1 AND g.level = 4 AND ST_Covers(g.geom, c.geom) AND c.status NOT IN ('closed', 'rejected')`, v.ID); err != nil {
				b.Fatal(err)
			}
			_ = sp.Rollback(ctx)
		}
		b.ReportMetric(float64(n), "cases")
	})
}

func mustEWKB(b *testing.B, p orb.Point) []byte {
	out, err := ewkb.Marshal(p, 4326)
	if err != nil {
		b.Fatal(err)
	}
	return out
}
