package caseindex

import (
	"cmp"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid/cases"
	"citygrid/geo"
)

// TestAggregatesAgreeWithRows: the bucket aggregates and time-ordered rows
// that answer clusters, counts and the newest cases of a box give what a pass
// over every case gives, after inserts, status and deadline changes,
// merges and unmerges, moves, a reload with changes during it, under
// filters they answer alone (status, time) and filters that look at rows.
func TestAggregatesAgreeWithRows(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(7, 8))
	point := func() orb.Point {
		if rng.IntN(3) == 0 {
			return orb.Point{120.37 + rng.NormFloat64()*0.002, 36.09 + rng.NormFloat64()*0.002}
		}
		return orb.Point{120.33 + rng.Float64()*0.06, 36.07 + rng.Float64()*0.04}
	}
	truth := map[int64]Entry{}
	change := func(id int64) Entry {
		e, ok := truth[id]
		if !ok || rng.IntN(3) == 0 {
			e.Location = point()
		}
		e.ID = id
		e.ReportedAt = now.Add(-time.Duration(rng.IntN(2000)) * time.Hour)
		e.DueAt = time.Time{}
		if rng.IntN(4) > 0 {
			e.DueAt = now.Add(time.Duration(rng.IntN(400)-200) * time.Hour)
		}
		e.Status = cases.Statuses[rng.IntN(len(cases.Statuses))]
		e.Category = []string{"E0101", "E0502"}[rng.IntN(2)]
		e.Source = []string{"patrol", "hotline"}[rng.IntN(2)]
		e.Merged = rng.IntN(20) == 0
		truth[id] = e
		return e
	}
	x := New()
	for id := int64(1); id <= 3000; id++ {
		if _, err := x.Apply(change(id)); err != nil {
			t.Fatal(err)
		}
	}
	filters := []Filter{
		{},
		{Statuses: []cases.Status{cases.StatusReported, cases.StatusDispatched}},
		{From: now.Add(-500 * time.Hour), To: now.Add(-100 * time.Hour)},
		{From: now.Add(-3000 * time.Hour), To: now.Add(time.Hour)}, // every case
		{From: now.Add(-900 * time.Hour), Statuses: []cases.Status{cases.StatusInProgress}},
		{Categories: []string{"E05"}},
		{Source: "hotline", To: now.Add(-50 * time.Hour)},
	}
	matches := func(f Filter, e Entry) bool {
		return !e.Merged && (f.From.IsZero() || !e.ReportedAt.Before(f.From)) && (f.To.IsZero() || e.ReportedAt.Before(f.To)) &&
			(len(f.Statuses) == 0 || slices.Contains(f.Statuses, e.Status)) &&
			(len(f.Categories) == 0 || slices.ContainsFunc(f.Categories, func(p string) bool { return e.Category[:len(p)] == p })) &&
			(f.Source == "" || e.Source == f.Source)
	}
	check := func(stage string) {
		t.Helper()
		for fi, f := range filters {
			for _, res := range []int{7, 9, 10, 11} {
				// Clusters, against CellLoad over the matching cases.
				want := map[geo.Cell]*CellLoad{}
				cellsIn := map[geo.Cell]bool{}
				for _, e := range truth {
					c, err := Cell(e.Location, res)
					if err != nil {
						t.Fatal(err)
					}
					cellsIn[c] = true
					if !matches(f, e) {
						continue
					}
					l := want[c]
					if l == nil {
						l = &CellLoad{}
						want[c] = l
					}
					l.Count++
					l.ByStatus[statusIDs[e.Status]]++
					if due := e.DueAt.Unix(); !e.DueAt.IsZero() && e.Status.Open() {
						if now.Unix() > due {
							l.Overdue++
						} else if l.NextDue == 0 || due < l.NextDue {
							l.NextDue = due
						}
					}
				}
				got := x.Clusters(res, func(geo.Cell) bool { return true }, f, now)
				if !maps.EqualFunc(got, want, func(a, b *CellLoad) bool { return *a == *b }) {
					t.Fatalf("%s: filter %d, res %d: clusters differ from the rows (%d cells, want %d)", stage, fi, res, len(got), len(want))
				}
				// Count over the cells that hold cases, and one more.
				study := map[geo.Cell]int32{}
				for _, c := range slices.Sorted(maps.Keys(cellsIn)) {
					study[c] = int32(len(study))
				}
				counts := make([]float64, len(study))
				x.Count(f, res, study, counts)
				for c, pos := range study {
					n := 0
					if l := want[c]; l != nil {
						n = l.Count
					}
					if int(counts[pos]) != n {
						t.Fatalf("%s: filter %d, res %d: cell %s counts %v, want %d", stage, fi, res, c, counts[pos], n)
					}
				}
			}
			// The newest in boxes, against a sort of the matching cases.
			for range 40 {
				a, b := point(), point()
				box := orb.Bound{Min: orb.Point{min(a[0], b[0]), min(a[1], b[1])}, Max: orb.Point{max(a[0], b[0]), max(a[1], b[1])}}
				var in []Entry
				for _, e := range truth {
					if box.Contains(e.Location) && matches(f, e) {
						in = append(in, e)
					}
				}
				slices.SortFunc(in, func(a, b Entry) int {
					return cmp.Or(b.ReportedAt.Compare(a.ReportedAt), cmp.Compare(b.ID, a.ID))
				})
				for _, limit := range []int{1, 10, 200} {
					got, more := x.NewestUpTo(box, f, limit)
					want := in[:min(limit, len(in))]
					if more != (len(in) > limit) || fmt.Sprint(ids(got)) != fmt.Sprint(ids(want)) {
						t.Fatalf("%s: filter %d, limit %d: NewestUpTo %v (more %t), want %v (of %d)", stage, fi, limit, ids(got), more, ids(want), len(in))
					}
					got, total := x.Newest(box, f, limit)
					if total != len(in) || fmt.Sprint(ids(got)) != fmt.Sprint(ids(want)) {
						t.Fatalf("%s: filter %d, limit %d: Newest %v of %d, want %v of %d", stage, fi, limit, ids(got), total, ids(want), len(in))
					}
				}
			}
		}
	}
	check("inserted")
	for range 1500 {
		if _, err := x.Apply(change(1 + rng.Int64N(3000))); err != nil {
			t.Fatal(err)
		}
	}
	check("changed")
	x.BeginReload()
	fresh := New()
	fresh.BeginLoad()
	for _, e := range truth {
		if _, err := fresh.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	for range 300 {
		if _, err := x.Apply(change(1 + rng.Int64N(3200))); err != nil {
			t.Fatal(err)
		}
	}
	x.Replace(fresh)
	check("reloaded")
	x.mu.Lock()
	x.rebuildLive() // as a snapshot's load would
	x.mu.Unlock()
	check("rebuilt")
}

func ids(es []Entry) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}
