package caseindex

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid/cases"
	"citygrid/geo"
)

// TestRestriction: a caller's restriction cuts every reader of the index
// exactly as cases.Restriction.Allows does, on top of the request's own
// filters (a unit asked for outside a handler's own matches nothing).
func TestRestriction(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(5, 6))
	grids := []string{"G1", "G2", "G3", "网格 4"}
	units := []string{"U1", "U2"}
	sources := []string{"patrol", "hotline"}
	x := New()
	var all []Entry
	for id := int64(1); id <= 2000; id++ {
		e := Entry{ID: id, Location: orb.Point{120.35 + rng.Float64()*0.02, 36.07 + rng.Float64()*0.02},
			ReportedAt: now.Add(-time.Duration(rng.IntN(500)) * time.Hour), DueAt: now.Add(time.Duration(rng.IntN(200)-100) * time.Hour),
			Category: "E0101", Status: cases.Statuses[rng.IntN(len(cases.Statuses))],
			Source: sources[rng.IntN(2)], Unit: units[rng.IntN(2)], Grid: grids[rng.IntN(4)], Merged: rng.IntN(50) == 0}
		if _, err := x.Apply(e); err != nil {
			t.Fatal(err)
		}
		all = append(all, e)
	}
	box := orb.Bound{Min: orb.Point{120.35, 36.07}, Max: orb.Point{120.37, 36.09}}
	tests := []struct {
		name string
		f    Filter
	}{
		{"none", Filter{}},
		{"one grid", Filter{Restriction: cases.Restriction{Grids: []string{"G1"}}}},
		{"two grids", Filter{Restriction: cases.Restriction{Grids: []string{"G3", "网格 4"}}}},
		{"no grid at all", Filter{Restriction: cases.Restriction{Grids: []string{}}}},
		{"a grid no case is in", Filter{Restriction: cases.Restriction{Grids: []string{"G9"}}}},
		{"a unit", Filter{Restriction: cases.Restriction{Unit: "U2"}}},
		{"an unknown unit", Filter{Restriction: cases.Restriction{Unit: "U9"}}},
		{"a source in grids", Filter{Restriction: cases.Restriction{Grids: []string{"G1", "G2"}, Source: "hotline"}}},
		{"the same unit asked", Filter{Unit: "U1", Restriction: cases.Restriction{Unit: "U1"}}},
		{"another unit asked", Filter{Unit: "U2", Restriction: cases.Restriction{Unit: "U1"}}},
		{"statuses and a grid", Filter{Statuses: []cases.Status{cases.StatusReported, cases.StatusClosed}, Restriction: cases.Restriction{Grids: []string{"G2"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []int64
			wantByGrid := map[string]int{}
			wantBySource := map[string]int{}
			for _, e := range all {
				c := &cases.Case{Grid: e.Grid, Unit: e.Unit, Source: e.Source}
				if e.Merged || !tt.f.Restriction.Allows(c) || tt.f.Unit != "" && e.Unit != tt.f.Unit ||
					len(tt.f.Statuses) > 0 && !slices.Contains(tt.f.Statuses, e.Status) {
					continue
				}
				want = append(want, e.ID)
				wantByGrid[e.Grid]++
				wantBySource[e.Source]++
			}
			var got []int64
			x.Within(box, tt.f, func(e Entry) { got = append(got, e.ID) })
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("Within: %d cases, want %d", len(got), len(want))
			}
			if _, total := x.Newest(box, tt.f, 5); total != len(want) {
				t.Errorf("Newest: %d in all, want %d", total, len(want))
			}
			n := 0
			for _, l := range x.Clusters(7, func(geo.Cell) bool { return true }, tt.f, now) {
				n += l.Count
			}
			if n != len(want) {
				t.Errorf("Clusters: %d cases, want %d", n, len(want))
			}
			bySource := map[string]int{}
			for _, sc := range x.SourcesMatching(tt.f) {
				bySource[sc.Source] = sc.Count
			}
			if !maps.Equal(bySource, wantBySource) {
				t.Errorf("SourcesMatching = %v, want %v", bySource, wantBySource)
			}
			byGrid := x.ByGridMatching(tt.f, now)
			for _, g := range grids {
				got := 0
				if l := byGrid[g]; l != nil {
					got = l.Count
				}
				if got != wantByGrid[g] {
					t.Errorf("ByGridMatching[%s] = %d, want %d", g, got, wantByGrid[g])
				}
			}
		})
	}
}
