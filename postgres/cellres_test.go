package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/geo"
	"citygrid/grid"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

// TestOneCellPerCase: at resolutions 7 to 11, the cell a case is counted in
// by hotspots (Index.Count) and map clusters (Index.Clusters) is the one
// cell whose h3= area query returns it. Half the points lie within a
// millimetre of a cell vertex at the resolution tested, where the rule of
// coarser cells (the stored cell's parent, not the containing cell) matters.
func TestOneCellPerCase(t *testing.T) {
	e := newCaseEnv(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 11))
	const x0, y0, side = 120.3505, 36.0705, 0.019
	var points []orb.Point
	for range 300 {
		points = append(points, orb.Point{x0 + rng.Float64()*side, y0 + rng.Float64()*side})
	}
	for res := 7; res <= caseindex.MaxRes; res++ {
		for range 60 {
			c, err := geo.CellAt(orb.Point{x0 + rng.Float64()*side, y0 + rng.Float64()*side}, res)
			if err != nil {
				t.Fatal(err)
			}
			ring := c.Boundary()
			v := ring[rng.IntN(len(ring)-1)]
			p := orb.Point{v[0] + (rng.Float64()-0.5)*2e-8, v[1] + (rng.Float64()-0.5)*2e-8}
			if p[0] > x0 && p[0] < x0+side && p[1] > y0 && p[1] < y0+side {
				points = append(points, p)
			}
		}
	}
	batch := make([]*cases.Case, len(points))
	for i, p := range points {
		batch[i] = e.prepare(t, input("prop", fmt.Sprint(i), "E0101", p[0], p[1]))
	}
	if _, err := e.cases.InsertCases(ctx, batch); err != nil {
		t.Fatal(err)
	}
	index := caseindex.New()
	if err := e.cases.LoadCaseIndex(ctx, index); err != nil {
		t.Fatal(err)
	}
	stored, _, err := e.cases.FindCases(ctx, cases.Filter{Area: cases.Area{Bound: &orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}}, Limit: 10000, Now: testNow})
	if err != nil || len(stored) != len(points) {
		t.Fatalf("stored %d of %d cases: %v", len(stored), len(points), err)
	}
	for res := 7; res <= caseindex.MaxRes; res++ {
		t.Run(fmt.Sprintf("res%d", res), func(t *testing.T) {
			want := map[geo.Cell][]int64{} // by the index's cell rule
			for _, c := range stored {
				cell, err := caseindex.Cell(c.Location, res)
				if err != nil {
					t.Fatal(err)
				}
				want[cell] = append(want[cell], c.ID)
			}
			study := map[geo.Cell]int32{}
			for cell := range want {
				study[cell] = int32(len(study))
			}
			counts := make([]float64, len(study))
			index.Count(caseindex.Filter{}, res, study, counts)
			clusters := index.Clusters(res, func(geo.Cell) bool { return true }, caseindex.Filter{}, testNow)
			if len(clusters) != len(want) {
				t.Errorf("%d clusters, %d cells hold cases", len(clusters), len(want))
			}
			var bad []string
			for cell, ids := range want {
				got, _, err := e.cases.FindCases(ctx, cases.Filter{Area: cases.Area{Cells: []geo.Cell{cell}}, Limit: 10000, Now: testNow})
				if err != nil {
					t.Fatal(err)
				}
				n := len(ids)
				cl := clusters[cell]
				if len(got) != n || int(counts[study[cell]]) != n || cl == nil || cl.Count != n {
					bad = append(bad, fmt.Sprintf("%s: h3= returns %d, Count %v, Clusters %v, want %d", cell, len(got), counts[study[cell]], cl, n))
				}
			}
			if len(bad) > 0 {
				t.Errorf("%d of %d cells disagree:\n%s", len(bad), len(want), strings.Join(bad[:min(len(bad), 10)], "\n"))
			}
		})
	}
}

// TestCaseStatusOpenMatchesGo ties the SQL definition of "open" (migration
// 005's case_status_open) to cases.Status.Open.
func TestCaseStatusOpenMatchesGo(t *testing.T) {
	tx := dbtest.Tx(t)
	for _, s := range cases.Statuses {
		var open bool
		if err := tx.QueryRow(context.Background(), `SELECT case_status_open($1)`, string(s)).Scan(&open); err != nil {
			t.Fatal(err)
		}
		if open != s.Open() {
			t.Errorf("case_status_open(%q) = %t, cases.Status.Open() = %t", s, open, s.Open())
		}
	}
}

// TestCheckCellRes: a database that records another stored resolution is
// refused with a message that says what is wrong.
func TestCheckCellRes(t *testing.T) {
	tx := dbtest.Tx(t)
	ctx := context.Background()
	if err := postgres.CheckCellRes(ctx, tx); err != nil {
		t.Fatalf("a fresh database: %v", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE stored_cell_resolution SET res = $1`, grid.CellRes+1); err != nil {
		t.Fatal(err)
	}
	err := postgres.CheckCellRes(ctx, tx)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("resolution %d", grid.CellRes+1)) {
		t.Fatalf("CheckCellRes at another resolution = %v, want a refusal naming it", err)
	}
}
