package caseindex

import (
	"cmp"
	"slices"

	"citygrid/geo"
)

// bucketAgg is what a bucket's live rows (merged duplicates left out) add
// up to, kept current by every Apply: a cluster or hotspot cell over ten
// million cases then costs a few hundred buckets, not a pass over the
// rows. It answers queries that filter on status and report time alone
// (see compiledFilter.aggregable); any other filter (category, source,
// unit, a scope's restriction) looks at the rows.
type bucketAgg struct {
	byStatus [8]int32
	// due holds, by open status, the deadlines (unix seconds) of the live
	// rows that have one, sorted (appended while loading, sorted by
	// Replace): how many are overdue at now is one binary search.
	due [8][]int64
	// fine counts the live rows per cell at resolutions 10 and 11, in the
	// order the cells were first seen: an entry's place never changes (it
	// stays, at zero, when its last row leaves), so liveFine can name it.
	fine [MaxRes - BucketRes][]cellCount
	// liveFine is, aligned with live, each row's place in fine: a window
	// of live counts per cell from these small numbers in order, without
	// a look at the rows themselves, which lie all over memory.
	liveFine [MaxRes - BucketRes][]uint16
}

type cellCount struct {
	cell geo.Cell
	n    int32
}

// liveCmp orders live rows by (report time, id): ids are unique, so a
// row has one place.
func (x *Index) liveCmp(a, b int32) int {
	return cmp.Or(cmp.Compare(x.t[a], x.t[b]), cmp.Compare(x.id[a], x.id[b]))
}

// fileLive adds a row that is no merged duplicate to b's live rows and
// aggregates; the row's columns hold its values. x.mu must be held.
func (x *Index) fileLive(b *bucket, row int32) {
	at := len(b.live)
	if !x.loading {
		at, _ = slices.BinarySearchFunc(b.live, row, x.liveCmp)
	}
	b.live = slices.Insert(b.live, at, row)
	for k := range b.agg.fine {
		j := b.agg.place(k, x.cell[row][k+1])
		b.agg.fine[k][j].n++
		b.agg.liveFine[k] = slices.Insert(b.agg.liveFine[k], at, j)
	}
	st := x.status[row]
	b.agg.byStatus[st]++
	if due := x.due[row]; due != 0 && openStatus[st] {
		if x.loading {
			b.agg.due[st] = append(b.agg.due[st], due)
		} else {
			i, _ := slices.BinarySearch(b.agg.due[st], due)
			b.agg.due[st] = slices.Insert(b.agg.due[st], i, due)
		}
	}
}

// place is the place of cell c in fine[k], added if new.
func (a *bucketAgg) place(k int, c geo.Cell) uint16 {
	for j, e := range a.fine[k] {
		if e.cell == c {
			return uint16(j)
		}
	}
	a.fine[k] = append(a.fine[k], cellCount{cell: c})
	return uint16(len(a.fine[k]) - 1)
}

// unfileLive takes a live row out of b before its columns change; x.mu
// must be held.
func (x *Index) unfileLive(b *bucket, row int32) {
	i := -1
	if x.loading {
		i = slices.Index(b.live, row)
	} else if j, found := slices.BinarySearchFunc(b.live, row, x.liveCmp); found {
		i = j
	}
	if i >= 0 {
		b.live = slices.Delete(b.live, i, i+1)
		for k := range b.agg.fine {
			b.agg.fine[k][b.agg.liveFine[k][i]].n--
			b.agg.liveFine[k] = slices.Delete(b.agg.liveFine[k], i, i+1)
		}
	}
	st := x.status[row]
	b.agg.byStatus[st]--
	if due := x.due[row]; due != 0 && openStatus[st] {
		dues := b.agg.due[st]
		j := slices.Index(dues, due) // unsorted while loading
		if !x.loading {
			j, _ = slices.BinarySearch(dues, due)
		}
		b.agg.due[st] = slices.Delete(dues, j, j+1)
	}
}

// sortLive ends a load for one bucket; x.mu must be held.
func (x *Index) sortLive(b *bucket) {
	slices.SortFunc(b.live, x.liveCmp)
	for k := range b.agg.liveFine {
		for i, r := range b.live {
			b.agg.liveFine[k][i] = b.agg.place(k, x.cell[r][k+1])
		}
	}
	for st := range b.agg.due {
		slices.Sort(b.agg.due[st])
	}
}

// window is the run of b's live rows reported in [cf.from, cf.to).
func (x *Index) window(b *bucket, cf *compiledFilter) (lo, hi int) {
	hi = len(b.live)
	if cf.from > -1<<62 {
		lo, _ = slices.BinarySearchFunc(b.live, cf.from, func(r int32, t int64) int { return cmp.Compare(x.t[r], t) })
	}
	if cf.to < 1<<62 {
		hi, _ = slices.BinarySearchFunc(b.live[lo:], cf.to, func(r int32, t int64) int { return cmp.Compare(x.t[r], t) })
		hi += lo
	}
	return lo, hi
}

// addAggregate adds the live rows of b the status filter selects to l, at
// now (unix seconds): what CellLoad.add over each would give.
func (b *bucket) addAggregate(l *CellLoad, cf *compiledFilter, now int64) {
	for st, n := range b.agg.byStatus {
		if n == 0 || !(cf.anyStat || cf.statuses[st]) {
			continue
		}
		l.Count += int(n)
		l.ByStatus[st] += int(n)
		dues := b.agg.due[st]
		// Overdue: now > due; the rest are due at now or later.
		late, _ := slices.BinarySearch(dues, now)
		l.Overdue += late
		if late < len(dues) && (l.NextDue == 0 || dues[late] < l.NextDue) {
			l.NextDue = dues[late]
		}
	}
}

// aggregable reports whether the bucket aggregates can answer the filter:
// it selects by status and report time alone (merged duplicates are never
// in them).
func (cf *compiledFilter) aggregable() bool {
	return cf.cats == nil && cf.source == -1 && cf.unit == -1 && cf.grids == nil && cf.onlySrc == -1 && cf.onlyUnit == -1
}

// timeOnly reports whether the filter selects by report time alone.
func (cf *compiledFilter) timeOnly() bool { return cf.aggregable() && cf.anyStat }

// rebuildLive recomputes every bucket's live rows and aggregates from its
// rows and the columns: for an index whose columns and buckets were
// restored some other way than by Apply (a snapshot). x.mu must be held.
func (x *Index) rebuildLive() {
	loading := x.loading
	x.loading = true
	for bi := range x.buckets {
		b := &x.buckets[bi]
		b.live, b.agg = b.live[:0], bucketAgg{}
		for _, r := range b.rows {
			if !x.merged[r] {
				x.fileLive(b, r)
			}
		}
		x.sortLive(b)
	}
	x.loading = loading
}
