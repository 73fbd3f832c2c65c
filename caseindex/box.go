package caseindex

import (
	"github.com/paulmach/orb"
)

// Within calls visit for every matching case inside b (edges included),
// under the index's read lock: visit must not call back into the index.
func (x *Index) Within(b orb.Bound, f Filter, visit func(Entry)) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, i := range x.rowsIn(b, f) {
		visit(x.row(i))
	}
}

// rowsIn returns the rows of the matching cases inside b; x.mu must be
// held.
func (x *Index) rowsIn(b orb.Bound, f Filter) []int32 {
	cf := x.compile(f)
	var rows []int32
	for bi := range x.buckets {
		bk := &x.buckets[bi]
		if !bk.bound.Intersects(b) {
			continue
		}
		for _, i := range bk.rows[x.firstAtLat(bk.rows, b.Min[1]):] {
			p := x.loc[i]
			if p[1] > b.Max[1] {
				break
			}
			if p[0] >= b.Min[0] && p[0] <= b.Max[0] && cf.match(x, int(i)) {
				rows = append(rows, i)
			}
		}
	}
	return rows
}

// Newest returns the matching cases inside b (edges included), at most
// limit of them, newest first (ties: larger id first), and how many
// matched in all. The cases are NewestUpTo's; the count takes, from a
// bucket inside b under a filter on time alone, the length of its window,
// and looks at the rows of the others.
func (x *Index) Newest(b orb.Bound, f Filter, limit int) ([]Entry, int) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	cf := x.compile(f)
	out, _ := x.newestUpTo(b, &cf, limit)
	return out, x.countIn(b, &cf)
}

// countIn counts the matching cases inside b; x.mu must be held.
func (x *Index) countIn(b orb.Bound, cf *compiledFilter) int {
	n := 0
	timeOnly := cf.timeOnly()
	for bi := range x.buckets {
		bk := &x.buckets[bi]
		if !bk.bound.Intersects(b) {
			continue
		}
		lo, hi := x.window(bk, cf)
		if lo == hi {
			continue
		}
		if b.Contains(bk.bound.Min) && b.Contains(bk.bound.Max) {
			if timeOnly {
				n += hi - lo
				continue
			}
			for _, i := range bk.live[lo:hi] {
				if cf.match(x, int(i)) {
					n++
				}
			}
			continue
		}
		for _, i := range bk.rows[x.firstAtLat(bk.rows, b.Min[1]):] {
			p := x.loc[i]
			if p[1] > b.Max[1] {
				break
			}
			if p[0] >= b.Min[0] && p[0] <= b.Max[0] && cf.match(x, int(i)) {
				n++
			}
		}
	}
	return n
}

// NewestUpTo returns the matching cases inside b (edges included), at most
// limit of them, newest first (ties: larger id first), as Newest does, and
// whether more matched. It walks the buckets meeting b from their newest
// cases back (each bucket's live rows are kept in time order) and stops at
// limit+1, so a map tile of a million cases costs about its limit, not
// its cases. A filter that few cases pass makes the walk longer: at most
// every case of the buckets meeting b.
func (x *Index) NewestUpTo(b orb.Bound, f Filter, limit int) ([]Entry, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	cf := x.compile(f)
	return x.newestUpTo(b, &cf, limit)
}

// newestUpTo is NewestUpTo; x.mu must be held.
func (x *Index) newestUpTo(b orb.Bound, cf *compiledFilter, limit int) ([]Entry, bool) {
	var h cursorHeap
	for bi := range x.buckets {
		bk := &x.buckets[bi]
		if !bk.bound.Intersects(b) {
			continue
		}
		lo, hi := x.window(bk, cf)
		if lo == hi {
			continue
		}
		inside := b.Contains(bk.bound.Min) && b.Contains(bk.bound.Max)
		h.items = append(h.items, cursor{bucket: int32(bi), lo: int32(lo), at: int32(hi - 1), inside: inside})
	}
	for k := range h.items {
		h.items[k].seek(x)
	}
	h.init()
	out := make([]Entry, 0, min(limit+1, 1024))
	for len(h.items) > 0 && len(out) <= limit {
		c := &h.items[0]
		i := c.row
		if (c.inside || b.Contains(x.loc[i])) && cf.match(x, int(i)) {
			out = append(out, x.row(i))
		}
		if c.at--; c.at < c.lo {
			h.pop()
			continue
		}
		c.seek(x)
		h.down(0)
	}
	if len(out) > limit {
		return out[:limit], true
	}
	return out, false
}

// cursor walks one bucket's live rows from the newest back to lo.
type cursor struct {
	t, id          int64 // of row, read once: the heap compares them often
	bucket, lo, at int32
	row            int32 // live[at]
	inside         bool  // the bucket lies inside the box: no point to test
}

// seek points c at live[at].
func (c *cursor) seek(x *Index) {
	c.row = x.buckets[c.bucket].live[c.at]
	c.t, c.id = x.t[c.row], x.id[c.row]
}

// cursorHeap is a max-heap of cursors by their row's (time, id).
type cursorHeap struct{ items []cursor }

func (h *cursorHeap) less(a, b int) bool {
	x, y := &h.items[a], &h.items[b]
	return x.t > y.t || (x.t == y.t && x.id > y.id)
}

func (h *cursorHeap) init() {
	for i := len(h.items)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *cursorHeap) down(i int) {
	n := len(h.items)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		j := l
		if r := l + 1; r < n && h.less(r, l) {
			j = r
		}
		if !h.less(j, i) {
			return
		}
		h.items[i], h.items[j] = h.items[j], h.items[i]
		i = j
	}
}

func (h *cursorHeap) pop() {
	n := len(h.items) - 1
	h.items[0] = h.items[n]
	h.items = h.items[:n]
	h.down(0)
}
