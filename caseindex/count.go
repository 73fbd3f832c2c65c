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
