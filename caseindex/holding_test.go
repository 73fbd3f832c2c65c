package caseindex

import (
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid/cases"
	"citygrid/geo"
)

// TestCellsHolding: the cells an area query under a scope reads are those
// holding a case inside the restriction, merged duplicates included.
func TestCellsHolding(t *testing.T) {
	x := New()
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	a, b, c := orb.Point{120.351, 36.071}, orb.Point{120.361, 36.071}, orb.Point{120.371, 36.071}
	cell := func(p orb.Point) geo.Cell {
		cl, err := geo.CellAt(p, BucketRes)
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	for _, e := range []Entry{
		{ID: 1, Location: a, ReportedAt: now, Status: cases.StatusReported, Grid: "G1", Unit: "U1", Source: "patrol"},
		{ID: 2, Location: b, ReportedAt: now, Status: cases.StatusClosed, Grid: "G2", Unit: "U2", Source: "hotline", Merged: true},
		{ID: 3, Location: c, ReportedAt: now, Status: cases.StatusReported, Grid: "G3", Unit: "U1", Source: "patrol"},
	} {
		if _, err := x.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	all := []geo.Cell{cell(a), cell(b), cell(c), cell(orb.Point{120.381, 36.071})}
	for _, tc := range []struct {
		name string
		r    cases.Restriction
		want []geo.Cell
	}{
		{"no restriction: every cell with a case", cases.Restriction{}, all[:3]},
		{"grids", cases.Restriction{Grids: []string{"G1", "G2"}}, all[:2]},
		{"no grids", cases.Restriction{Grids: []string{}}, []geo.Cell{}},
		{"a unit", cases.Restriction{Unit: "U1"}, []geo.Cell{all[0], all[2]}},
		{"a source and grids", cases.Restriction{Source: "patrol", Grids: []string{"G2", "G3"}}, all[2:3]},
		{"an unknown unit", cases.Restriction{Unit: "U9"}, []geo.Cell{}},
	} {
		if got := x.CellsHolding(all, tc.r); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
