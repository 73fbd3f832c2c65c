package caseindex

import (
	"runtime"
	"sync"
	"time"

	"citygrid/geo"
)

// Count adds up the matching cases per cell at resolution res (≤
// MaxRes), for the cells in study (cell → position); cases in other
// cells are not counted. counts must have len(study) entries.
//
// A filter on report time alone is answered from the buckets: down to
// BucketRes a bucket's cases share their cell and a time window is a run
// of its rows, so a bucket costs a binary search; finer, a bucket wholly
// inside the window adds its per-cell counts, and one the window cuts
// into counts the rows of its run. Any other filter (status, category,
// source, unit, a scope's restriction), or windows cutting into buckets
// over more than half the rows at a finer resolution, takes a pass over
// the rows, split across the cores.
func (x *Index) Count(f Filter, res int, study map[geo.Cell]int32, counts []float64) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	cf := x.compile(f)
	if cf.timeOnly() && x.countByBuckets(&cf, res, study, counts) {
		return
	}
	parallel(len(x.cell), len(counts), counts, func(from, to int, counts []float64) {
		for i := from; i < to; i++ {
			if !cf.match(x, i) {
				continue
			}
			if pos, ok := study[x.cell[i].at(res)]; ok {
				counts[pos]++
			}
		}
	})
}

// countByBuckets counts from the buckets alone when it can (see Count),
// and reports whether it did; x.mu must be held.
func (x *Index) countByBuckets(cf *compiledFilter, res int, study map[geo.Cell]int32, counts []float64) bool {
	if res > BucketRes {
		// Windows cutting into buckets count their runs of liveFine: past
		// half the rows, a pass over all of them costs no more.
		visit := 0
		for bi := range x.buckets {
			if lo, hi := x.window(&x.buckets[bi], cf); lo != 0 || hi != len(x.buckets[bi].live) {
				visit += hi - lo
			}
		}
		if visit > len(x.cell)/2 {
			return false
		}
	}
	var tally []int32
	for bi := range x.buckets {
		bk := &x.buckets[bi]
		lo, hi := x.window(bk, cf)
		if lo == hi {
			continue
		}
		if res <= BucketRes {
			if pos, ok := study[bk.cell.Parent(res)]; ok {
				counts[pos] += float64(hi - lo)
			}
			continue
		}
		if lo == 0 && hi == len(bk.live) {
			for _, cc := range bk.agg.fine[res-BucketRes-1] {
				if pos, ok := study[cc.cell]; ok {
					counts[pos] += float64(cc.n)
				}
			}
			continue
		}
		fine := bk.agg.fine[res-BucketRes-1]
		tally = append(tally[:0], make([]int32, len(fine))...)
		for _, j := range bk.agg.liveFine[res-BucketRes-1][lo:hi] {
			tally[j]++
		}
		for j, n := range tally {
			if pos, ok := study[fine[j].cell]; n > 0 && ok {
				counts[pos] += float64(n)
			}
		}
	}
	return true
}

// parallel runs count over [0, n) in as many parts as there are cores
// (one, for a small n), each into counts of its own, and adds them into
// counts (width entries).
func parallel(n, width int, counts []float64, count func(from, to int, counts []float64)) {
	parts := min(runtime.GOMAXPROCS(0), n/(1<<17)+1)
	if parts <= 1 {
		count(0, n, counts)
		return
	}
	own := make([][]float64, parts)
	var wg sync.WaitGroup
	for p := range parts {
		own[p] = make([]float64, width)
		wg.Go(func() { count(p*n/parts, (p+1)*n/parts, own[p]) })
	}
	wg.Wait()
	for _, c := range own {
		for i, v := range c {
			counts[i] += v
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
