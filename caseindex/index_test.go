package caseindex

import (
	"citygrid/cases"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// TestCaseIndexBoxes: after inserts, moves, a reload and changes made
// during it, every box query answers what a pass over all cases does.
func TestCaseIndexBoxes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	point := func() orb.Point {
		if rng.IntN(3) == 0 { // a dense spot, so that buckets get long
			return orb.Point{120.37 + rng.NormFloat64()*0.001, 36.09 + rng.NormFloat64()*0.001}
		}
		return orb.Point{120.33 + rng.Float64()*0.08, 36.07 + rng.Float64()*0.06}
	}
	truth := map[int64]Entry{}
	newCase := func(id int64) Entry {
		return Entry{ID: id, Location: point(), ReportedAt: now.Add(-time.Duration(rng.IntN(1000)) * time.Hour),
			Category: "E0101", Status: cases.Statuses[rng.IntN(len(cases.Statuses))], Source: "patrol"}
	}
	x := New()
	for id := int64(1); id <= 3000; id++ {
		c := newCase(id)
		truth[id] = c
		if _, err := x.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
	check := func(stage string, x *Index) {
		t.Helper()
		for range 200 {
			a, b := point(), point()
			box := orb.Bound{Min: orb.Point{min(a[0], b[0]), min(a[1], b[1])}, Max: orb.Point{max(a[0], b[0]), max(a[1], b[1])}}
			var want, got []int64
			for id, c := range truth {
				if box.Contains(c.Location) {
					want = append(want, id)
				}
			}
			x.Within(box, Filter{}, func(c Entry) { got = append(got, c.ID) })
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: box %v: %d cases, want %d", stage, box, len(got), len(want))
			}
			newest, total := x.Newest(box, Filter{}, 10)
			if total != len(want) || len(newest) != min(10, len(want)) {
				t.Fatalf("%s: Newest gave %d of %d, want %d of %d", stage, len(newest), total, min(10, len(want)), len(want))
			}
		}
	}
	check("inserted", x)
	for range 1000 { // moves, some within a bucket, some across
		id := 1 + rng.Int64N(3000)
		c := truth[id]
		c.Location = point()
		truth[id] = c
		if _, err := x.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
	check("moved", x)

	// A reload from a snapshot, with changes applied to the live index
	// while it was read: they survive the swap.
	x.BeginReload()
	fresh := New()
	fresh.BeginLoad()
	for _, c := range truth {
		if _, err := fresh.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
	for range 300 {
		id := 1 + rng.Int64N(3000)
		c := truth[id]
		c.Location = point()
		truth[id] = c
		if _, err := x.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
	x.Replace(fresh)
	check("reloaded", x)
	for id := int64(3001); id <= 3500; id++ {
		c := newCase(id)
		truth[id] = c
		if _, err := x.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
	check("after the reload", x)
}
