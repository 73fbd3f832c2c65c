package caseindex

import (
	"cmp"
	"slices"

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
// matched in all. Rows are chosen by index before any case is built, so a
// box of a hundred thousand cases costs little more than the limit.
func (x *Index) Newest(b orb.Bound, f Filter, limit int) ([]Entry, int) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	rows := x.rowsIn(b, f)
	total := len(rows)
	// Order by (time, id) packed into one integer: comparisons are then
	// plain, and a selection finds the newest limit in linear time.
	keyed := make([]rowKey, len(rows))
	for k, i := range rows {
		keyed[k] = rowKey{key: uint64(x.t[i])<<32 | uint64(uint32(x.id[i])), row: i}
	}
	if len(keyed) > limit {
		selectLargest(keyed, limit)
		keyed = keyed[:limit]
	}
	slices.SortFunc(keyed, func(a, b rowKey) int { return cmp.Compare(b.key, a.key) })
	rows = rows[:len(keyed)]
	for k, r := range keyed {
		rows[k] = r.row
	}
	out := make([]Entry, len(rows))
	for k, i := range rows {
		out[k] = x.row(i)
	}
	return out, total
}

type rowKey struct {
	key uint64
	row int32
}

// selectLargest moves the k largest keys to the front of a, in no order
// (quickselect, Hoare partition, middle pivot).
func selectLargest(a []rowKey, k int) {
	lo, hi := 0, len(a)-1
	for lo < hi {
		pivot := a[lo+(hi-lo)/2].key
		i, j := lo, hi
		for i <= j {
			for a[i].key > pivot {
				i++
			}
			for a[j].key < pivot {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k-1 <= j:
			hi = j
		case k-1 >= i:
			lo = i
		default:
			return
		}
	}
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
	var h cursorHeap
	for bi := range x.buckets {
		bk := &x.buckets[bi]
		if !bk.bound.Intersects(b) {
			continue
		}
		lo, hi := x.window(bk, &cf)
		if lo == hi {
			continue
		}
		inside := b.Contains(bk.bound.Min) && b.Contains(bk.bound.Max)
		h.items = append(h.items, cursor{bucket: int32(bi), lo: int32(lo), at: int32(hi - 1), inside: inside})
	}
	for k := range h.items {
		h.items[k].row = x.buckets[h.items[k].bucket].live[h.items[k].at]
	}
	h.x = x
	h.init()
	var out []Entry
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
		c.row = x.buckets[c.bucket].live[c.at]
		h.down(0)
	}
	if len(out) > limit {
		return out[:limit], true
	}
	return out, false
}

// cursor walks one bucket's live rows from the newest back to lo.
type cursor struct {
	bucket, lo, at int32
	row            int32 // live[at]
	inside         bool  // the bucket lies inside the box: no point to test
}

// cursorHeap is a max-heap of cursors by their row's (time, id).
type cursorHeap struct {
	x     *Index
	items []cursor
}

func (h *cursorHeap) less(a, b int) bool { return h.x.liveCmp(h.items[a].row, h.items[b].row) > 0 }

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
