package caseindex

import (
	"cmp"
	"slices"
	"time"

	"citygrid/geo"
)

// CellLoad is what a cluster or a grid shows of its cases.
type CellLoad struct {
	Count    int
	ByStatus [8]int // aligned with cases.Statuses
	Overdue  int
	// NextDue is the earliest deadline after now among the open cases
	// counted (unix seconds; 0 if none): when Overdue will next change.
	NextDue int64
}

func (l *CellLoad) add(x *Index, i int32, now int64) {
	l.Count++
	st := x.status[i]
	l.ByStatus[st]++
	if due := x.due[i]; due != 0 && openStatus[st] {
		if now > due {
			l.Overdue++
		} else if l.NextDue == 0 || due < l.NextDue {
			l.NextDue = due
		}
	}
}

// Clusters counts matching cases per cell at resolution res, for the cells
// keep accepts (asked once per cell). Down to BucketRes a bucket's cases
// share their cell: a filter on status and time alone is answered from
// the bucket's aggregates (a window cutting into a bucket counts its run
// of rows), any other filter looks at the bucket's rows.
func (x *Index) Clusters(res int, keep func(geo.Cell) bool, f Filter, now time.Time) map[geo.Cell]*CellLoad {
	x.mu.RLock()
	defer x.mu.RUnlock()
	cf := x.compile(f)
	at := now.Unix()
	out := map[geo.Cell]*CellLoad{}
	kept := map[geo.Cell]bool{}
	wants := func(c geo.Cell) bool {
		k, seen := kept[c]
		if !seen {
			k = keep(c)
			kept[c] = k
		}
		return k
	}
	loadOf := func(c geo.Cell) *CellLoad {
		load := out[c]
		if load == nil {
			load = &CellLoad{}
			out[c] = load
		}
		return load
	}
	aggregable := cf.aggregable()
	for bi := range x.buckets {
		bk := &x.buckets[bi]
		lo, hi := x.window(bk, &cf)
		if lo == hi {
			continue
		}
		if res <= BucketRes {
			// Every case of the bucket has the same parent cell.
			parent := bk.cell.Parent(res)
			if !wants(parent) {
				continue
			}
			if aggregable && lo == 0 && hi == len(bk.live) {
				var l CellLoad
				bk.addAggregate(&l, &cf, at)
				if l.Count > 0 {
					loadOf(parent).merge(&l)
				}
				continue
			}
			var load *CellLoad
			for _, i := range bk.live[lo:hi] {
				if !cf.match(x, int(i)) {
					continue
				}
				if load == nil {
					load = loadOf(parent)
				}
				load.add(x, i, at)
			}
			continue
		}
		for _, i := range bk.live[lo:hi] {
			parent := x.cell[i].at(res)
			if !wants(parent) || !cf.match(x, int(i)) {
				continue
			}
			loadOf(parent).add(x, i, at)
		}
	}
	return out
}

// merge adds o to l.
func (l *CellLoad) merge(o *CellLoad) {
	l.Count += o.Count
	for i, n := range o.ByStatus {
		l.ByStatus[i] += n
	}
	l.Overdue += o.Overdue
	if o.NextDue != 0 && (l.NextDue == 0 || o.NextDue < l.NextDue) {
		l.NextDue = o.NextDue
	}
}

// ByGrid counts every case per grid code it was assigned to (the grid
// itself, not its ancestors); merged duplicates are not counted.
func (x *Index) ByGrid(now time.Time) map[string]*CellLoad { return x.ByGridMatching(Filter{}, now) }

// ByGridMatching is ByGrid over the cases f selects (a handler's unit, an
// integration's source).
func (x *Index) ByGridMatching(f Filter, now time.Time) map[string]*CellLoad {
	x.mu.RLock()
	defer x.mu.RUnlock()
	cf := x.compile(f)
	at := now.Unix()
	loads := make([]CellLoad, len(x.strs.grids.names))
	for i := range x.grid {
		if cf.match(x, i) {
			loads[x.grid[i]].add(x, int32(i), at)
		}
	}
	out := make(map[string]*CellLoad, len(loads))
	for id, name := range x.strs.grids.names {
		if name != "" && loads[id].Count > 0 {
			out[name] = &loads[id]
		}
	}
	return out
}

// SourceCount is how many cases came from one source.
type SourceCount struct {
	Source string `json:"source"`
	Count  int    `json:"count"`
}

// Sources counts the cases per source, most cases first (then by name):
// the sources a filter can offer are those in the data. Merged duplicates
// are left out, as every filter leaves them out.
func (x *Index) Sources() []SourceCount { return x.SourcesMatching(Filter{}) }

// SourcesMatching is Sources over the cases f selects: a caller's scope
// offers the sources of its own cases, not those used only beside it.
func (x *Index) SourcesMatching(f Filter) []SourceCount {
	x.mu.RLock()
	defer x.mu.RUnlock()
	cf := x.compile(f)
	counts := make([]int, len(x.strs.sources.names))
	for i, s := range x.source {
		if cf.match(x, i) {
			counts[s]++
		}
	}
	out := make([]SourceCount, 0, len(counts))
	for i, n := range counts {
		if n > 0 {
			out = append(out, SourceCount{Source: x.strs.sources.names[i], Count: n})
		}
	}
	slices.SortFunc(out, func(a, b SourceCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Source, b.Source))
	})
	return out
}
