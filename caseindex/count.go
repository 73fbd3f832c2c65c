package caseindex

import (
	"time"

	"citygrid/geo"
)

// Count adds up the matching cases per cell at resolution res (≤
// MaxRes), for the cells in study (cell → position); cases in other
// cells are not counted. counts must have len(study) entries.
func (x *Index) Count(f Filter, res int, study map[geo.Cell]int32, counts []float64) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	cf := x.compile(f)
	for i := range x.cell {
		if !cf.match(x, i) {
			continue
		}
		if pos, ok := study[x.cell[i].at(res)]; ok {
			counts[pos]++
		}
	}
}

// CountSteps is Count split into time steps: step k covers
// [starts[k], starts[k+1]) (the last ends at f.To). counts[k] must have
// len(study) entries.
func (x *Index) CountSteps(f Filter, res int, study map[geo.Cell]int32, starts []time.Time, counts [][]float64) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	cf := x.compile(f)
	bounds := make([]int64, len(starts))
	for i, s := range starts {
		bounds[i] = s.Unix()
	}
	for i := range x.cell {
		if !cf.match(x, i) {
			continue
		}
		pos, ok := study[x.cell[i].at(res)]
		if !ok {
			continue
		}
		// Steps are few (≤ a few hundred) and sorted: binary search.
		t := x.t[i]
		lo, hi := 0, len(bounds)
		for lo < hi {
			m := (lo + hi) / 2
			if bounds[m] <= t {
				lo = m + 1
			} else {
				hi = m
			}
		}
		if lo > 0 {
			counts[lo-1][pos]++
		}
	}
}

// Earliest returns the earliest report time among the matching cases in
// the cells of study at res, and false when there is none.
func (x *Index) Earliest(f Filter, res int, study map[geo.Cell]int32) (time.Time, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	cf := x.compile(f)
	found, first := false, int64(0)
	for i := range x.cell {
		if t := x.t[i]; (!found || t < first) && cf.match(x, i) {
			if _, ok := study[x.cell[i].at(res)]; ok {
				found, first = true, t
			}
		}
	}
	return time.Unix(first, 0).UTC(), found
}
