package analysis

import (
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/grid"
)

// fixedGrids serves one locator.
type fixedGrids struct{ l *grid.Locator }

func (f fixedGrids) Locator() *grid.Locator { return f.l }

// smallDistrict is 0.02° square: streets S1 (west) and S2 (east), one
// community each, two unit grids per community.
func smallDistrict(t *testing.T) *grid.Locator {
	t.Helper()
	const x0, y0 = 120.35, 36.07
	rect := func(xa, ya, xb, yb float64) orb.Polygon {
		return orb.Polygon{{{xa, ya}, {xb, ya}, {xb, yb}, {xa, yb}, {xa, ya}}}
	}
	l, err := grid.NewLocator([]*grid.Grid{
		{Code: "D", Level: grid.LevelDistrict, Unit: "U1", Geometry: rect(x0, y0, x0+0.02, y0+0.02)},
		{Code: "S1", Level: grid.LevelStreet, Parent: "D", Geometry: rect(x0, y0, x0+0.01, y0+0.02)},
		{Code: "S2", Level: grid.LevelStreet, Parent: "D", Geometry: rect(x0+0.01, y0, x0+0.02, y0+0.02)},
		{Code: "C1", Level: grid.LevelCommunity, Parent: "S1", Geometry: rect(x0, y0, x0+0.01, y0+0.02)},
		{Code: "C2", Level: grid.LevelCommunity, Parent: "S2", Geometry: rect(x0+0.01, y0, x0+0.02, y0+0.02)},
		{Code: "G1", Level: grid.LevelGrid, Parent: "C1", Geometry: rect(x0, y0, x0+0.01, y0+0.01)},
		{Code: "G2", Level: grid.LevelGrid, Parent: "C1", Geometry: rect(x0, y0+0.01, x0+0.01, y0+0.02)},
		{Code: "G3", Level: grid.LevelGrid, Parent: "C2", Geometry: rect(x0+0.01, y0, x0+0.02, y0+0.01)},
		{Code: "G4", Level: grid.LevelGrid, Parent: "C2", Geometry: rect(x0+0.01, y0+0.01, x0+0.02, y0+0.02)},
	}, []grid.Unit{{Code: "U1"}}, grid.LocatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestStudyUnderARestriction: a restriction to grids makes their ground
// the study area (the cells whose centre lies in them) and counts only
// their cases; a unit restriction keeps the district and cuts the counts.
func TestStudyUnderARestriction(t *testing.T) {
	l := smallDistrict(t)
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	x := caseindex.New()
	var all []caseindex.Entry
	id := int64(0)
	// A case every 0.001° over the district, in the grid that covers it.
	for i := range 20 {
		for j := range 20 {
			p := orb.Point{120.3505 + float64(i)*0.001, 36.0705 + float64(j)*0.001}
			a, err := l.Assign(p, "E0101")
			if err != nil {
				t.Fatal(err)
			}
			id++
			unit := "U1"
			if id%2 == 0 {
				unit = "U2"
			}
			e := caseindex.Entry{ID: id, Location: p, ReportedAt: now, Category: "E0101", Status: cases.StatusReported, Source: "patrol", Unit: unit, Grid: a.Grid.Code}
			if _, err := x.Apply(e); err != nil {
				t.Fatal(err)
			}
			all = append(all, e)
		}
	}
	s := New(fixedGrids{l}, x)
	whole, err := s.Hotspots(Query{Res: 10, K: 1})
	if err != nil {
		t.Fatal(err)
	}
	s1Grids := []string{"C1", "G1", "G2", "S1"}
	tests := []struct {
		name      string
		r         cases.Restriction
		area      []string
		wantCases float64
		inS1      bool // every cell's centre lies in S1
	}{
		{"none", cases.Restriction{}, []string{"D"}, 400, false},
		{"a street's subtree", cases.Restriction{Grids: s1Grids}, []string{"S1"}, 200, true},
		{"two unit grids", cases.Restriction{Grids: []string{"G1", "G2"}}, []string{"G1", "G2"}, 200, true},
		{"a unit", cases.Restriction{Unit: "U2"}, []string{"D"}, 200, false},
		{"a unit in a street", cases.Restriction{Grids: s1Grids, Unit: "U2"}, []string{"S1"}, 100, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := s.Hotspots(Query{Res: 10, K: 1, Filter: caseindex.Filter{Restriction: tt.r}})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(h.Study.Area, tt.area) {
				t.Errorf("study area %v, want %v", h.Study.Area, tt.area)
			}
			// Every case the restriction allows in a cell of the study,
			// which holds nearly all of them (some on the area's edge
			// fall in a cell whose centre lies outside).
			want := 0.0
			for _, e := range all {
				cell, _ := caseindex.Cell(e.Location, 10)
				if tt.r.Allows(&cases.Case{Grid: e.Grid, Unit: e.Unit, Source: e.Source}) && slices.Contains(h.Study.Cells, cell) {
					want++
				}
			}
			if got := Sum(h.Counts); got != want || got < tt.wantCases*0.95 {
				t.Errorf("%v cases counted, want %v (of %v allowed)", got, want, tt.wantCases)
			}
			s1, _ := l.Grid("S1")
			for _, c := range h.Study.Cells {
				if in := planar.MultiPolygonContains(s1.MultiPolygon(), c.Center()); tt.inS1 && !in {
					t.Fatalf("cell %s of the study lies outside S1", c)
				}
			}
			if tt.inS1 && len(h.Study.Cells) >= len(whole.Study.Cells)*3/4 {
				t.Errorf("study of %d cells, the district's %d: want about half", len(h.Study.Cells), len(whole.Study.Cells))
			}
			if !tt.inS1 && len(h.Study.Cells) != len(whole.Study.Cells) {
				t.Errorf("study of %d cells, want the district's %d", len(h.Study.Cells), len(whole.Study.Cells))
			}
		})
	}
	// A restriction to nothing, or to too small an area, is refused with
	// a reason, not run over the district.
	for _, grids := range [][]string{{}, {"G1"}} {
		if _, err := s.Hotspots(Query{Res: 8, K: 1, Filter: caseindex.Filter{Restriction: cases.Restriction{Grids: grids}}}); err == nil {
			t.Errorf("restricted to %q at resolution 8: no error, want a study area too small", grids)
		}
	}
}
