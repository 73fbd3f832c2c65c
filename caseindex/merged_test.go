package caseindex

import (
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid/cases"
	"citygrid/geo"
)

// TestMergedDuplicatesCountNowhere: a case merged into another is counted
// once, as its original: every reader of the index leaves the duplicate
// out, whether it was merged before it was indexed, after (Apply of the
// change), or read by a reload.
func TestMergedDuplicatesCountNowhere(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	at := orb.Point{120.37, 36.09}
	cell, err := Cell(at, 9)
	if err != nil {
		t.Fatal(err)
	}
	study := map[geo.Cell]int32{cell: 0}
	box := orb.Bound{Min: orb.Point{120.36, 36.08}, Max: orb.Point{120.38, 36.10}}
	entry := func(id int64, status cases.Status, merged bool) Entry {
		return Entry{ID: id, Location: at, ReportedAt: now.Add(-time.Duration(id) * time.Hour), DueAt: now.Add(-time.Minute),
			Category: "E0101", Status: status, Source: "hotline", Unit: "U1", Grid: "G1", Merged: merged}
	}
	// Two originals (one open and late), and their duplicate, merged (closed).
	base := []Entry{entry(1, cases.StatusReported, false), entry(2, cases.StatusClosed, false)}
	dup := entry(3, cases.StatusClosed, true)

	readers := []struct {
		name string
		read func(x *Index) int
	}{
		{"Count", func(x *Index) int {
			counts := make([]float64, 1)
			x.Count(Filter{}, 9, study, counts)
			return int(counts[0])
		}},
		{"Count filtered", func(x *Index) int {
			counts := make([]float64, 1)
			x.Count(Filter{Statuses: []cases.Status{cases.StatusClosed}, Source: "hotline"}, 9, study, counts)
			return int(counts[0]) + 1 // the open original is filtered out
		}},
		{"CountSteps", func(x *Index) int {
			counts := [][]float64{{0}, {0}}
			x.CountSteps(Filter{To: now}, 9, study, []time.Time{now.Add(-48 * time.Hour), now.Add(-2 * time.Hour)}, counts)
			return int(counts[0][0] + counts[1][0])
		}},
		{"Clusters", func(x *Index) int {
			loads := x.Clusters(8, func(geo.Cell) bool { return true }, Filter{}, now)
			n := 0
			for _, l := range loads {
				n += l.Count
			}
			return n
		}},
		{"Clusters at a fine resolution", func(x *Index) int {
			n := 0
			for _, l := range x.Clusters(11, func(geo.Cell) bool { return true }, Filter{}, now) {
				n += l.ByStatus[0] + l.ByStatus[6] // reported, closed
			}
			return n
		}},
		{"ByGrid", func(x *Index) int { return x.ByGrid(now)["G1"].Count }},
		{"Within", func(x *Index) int {
			n := 0
			x.Within(box, Filter{}, func(Entry) { n++ })
			return n
		}},
		{"Newest", func(x *Index) int {
			got, total := x.Newest(box, Filter{}, 10)
			if len(got) != total {
				return -1
			}
			return total
		}},
		{"Sources", func(x *Index) int { return x.Sources()[0].Count }},
	}
	build := func(t *testing.T, entries ...Entry) *Index {
		x := New()
		for _, e := range entries {
			if _, err := x.Apply(e); err != nil {
				t.Fatal(err)
			}
		}
		return x
	}
	for _, r := range readers {
		t.Run(r.name, func(t *testing.T) {
			if got := r.read(build(t, append(base, dup)...)); got != 2 {
				t.Errorf("indexed merged: %d cases, want 2 (the duplicate left out)", got)
			}
			// Indexed while open, then merged: the change leaves the counts at once.
			x := build(t, append(base, entry(3, cases.StatusReported, false))...)
			if got := r.read(x); got != 3 && r.name != "Count filtered" {
				t.Fatalf("before the merge: %d cases, want 3", got)
			}
			ch, err := x.Apply(dup)
			if err != nil {
				t.Fatal(err)
			}
			if ch.Old == nil || ch.Old.Merged || !ch.New.Merged {
				t.Errorf("change = %+v, want old unmerged and new merged", ch)
			}
			if got := r.read(x); got != 2 {
				t.Errorf("merged after indexing: %d cases, want 2", got)
			}
			// A reload reads merged_into too, and a merge applied during it
			// survives the swap.
			live := build(t, append(base, entry(3, cases.StatusReported, false))...)
			live.BeginReload()
			fresh := New()
			fresh.BeginLoad()
			for _, e := range append(base, entry(3, cases.StatusReported, false)) {
				if _, err := fresh.Apply(e); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := live.Apply(dup); err != nil {
				t.Fatal(err)
			}
			live.Replace(fresh)
			if got := r.read(live); got != 2 {
				t.Errorf("merged during a reload: %d cases, want 2", got)
			}
		})
	}
}

// TestEarliest: the first report among the cases a filter selects in the
// study area, merged duplicates and cases outside it left out.
func TestEarliest(t *testing.T) {
	at, far := orb.Point{120.37, 36.09}, orb.Point{120.50, 36.20}
	cell, _ := Cell(at, 9)
	study := map[geo.Cell]int32{cell: 0}
	day := func(d int) time.Time { return time.Date(2026, 6, d, 0, 0, 0, 0, time.UTC) }
	x := New()
	for _, e := range []Entry{
		{ID: 1, Location: far, ReportedAt: day(1), Category: "E0101", Status: cases.StatusReported},            // outside the study area
		{ID: 2, Location: at, ReportedAt: day(2), Category: "E0101", Status: cases.StatusClosed, Merged: true}, // a merged duplicate
		{ID: 3, Location: at, ReportedAt: day(3), Category: "C0101", Status: cases.StatusReported},
		{ID: 4, Location: at, ReportedAt: day(4), Category: "E0101", Status: cases.StatusReported},
	} {
		if _, err := x.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		f    Filter
		want time.Time
		ok   bool
	}{
		{"any", Filter{}, day(3), true},
		{"a category", Filter{Categories: []string{"E01"}}, day(4), true},
		{"from", Filter{From: day(4)}, day(4), true},
		{"none match", Filter{Categories: []string{"X"}}, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := x.Earliest(tt.f, 9, study)
			if ok != tt.ok || (ok && !got.Equal(tt.want)) {
				t.Errorf("Earliest = %s, %v; want %s, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
