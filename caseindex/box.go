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
