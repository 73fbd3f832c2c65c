package grid

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/paulmach/orb"

	"citygrid/geo"
)

// HotspotMaxRes is the finest resolution the case index keeps: hotspot
// analysis runs at resolutions 7 to 11.
const HotspotMaxRes = 11

// CaseIndex is an in-memory columnar copy of what hotspot counting needs
// from every case: its cell at HotspotMaxRes, report time, category, status,
// source and unit. Counting a million cases under any filter is one pass
// over flat arrays, with no database round trip. It is kept current by
// Apply on every case change.
type CaseIndex struct {
	mu     sync.RWMutex
	byID   map[int64]int32
	cell   []geo.Cell
	t      []int64 // unix seconds
	cat    []uint16
	status []uint8
	source []uint16
	unit   []uint32
	strs   interner
}

// interner numbers strings per column, so rows hold small integers.
type interner struct {
	cats, sources, units dict
}

type dict struct {
	ids   map[string]uint32
	names []string
}

func (d *dict) id(s string) uint32 {
	if d.ids == nil {
		d.ids = map[string]uint32{}
	}
	if id, ok := d.ids[s]; ok {
		return id
	}
	id := uint32(len(d.names))
	d.ids[s] = id
	d.names = append(d.names, s)
	return id
}

var statusIDs = func() map[Status]uint8 {
	m := map[Status]uint8{}
	for i, s := range Statuses {
		m[s] = uint8(i)
	}
	return m
}()

// NewCaseIndex returns an empty index.
func NewCaseIndex() *CaseIndex { return &CaseIndex{byID: map[int64]int32{}} }

// IndexedCase is one case as the index sees it.
type IndexedCase struct {
	ID         int64
	Location   orb.Point
	ReportedAt time.Time
	Category   string
	Status     Status
	Source     string
	Unit       string
}

// Apply inserts or replaces one case.
func (x *CaseIndex) Apply(c IndexedCase) error {
	cell, err := geo.CellAt(c.Location, HotspotMaxRes)
	if err != nil {
		return fmt.Errorf("case index: case %d: %w", c.ID, err)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	row, ok := x.byID[c.ID]
	if !ok {
		row = int32(len(x.cell))
		x.byID[c.ID] = row
		x.cell = append(x.cell, 0)
		x.t = append(x.t, 0)
		x.cat = append(x.cat, 0)
		x.status = append(x.status, 0)
		x.source = append(x.source, 0)
		x.unit = append(x.unit, 0)
	}
	x.cell[row] = cell
	x.t[row] = c.ReportedAt.Unix()
	x.cat[row] = uint16(x.strs.cats.id(c.Category))
	x.status[row] = statusIDs[c.Status]
	x.source[row] = uint16(x.strs.sources.id(c.Source))
	x.unit[row] = x.strs.units.id(c.Unit)
	return nil
}

// Len returns the number of indexed cases.
func (x *CaseIndex) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.cell)
}

// HotspotFilter selects cases for counting; zero fields do not filter.
type HotspotFilter struct {
	From, To time.Time // on reported_at, [From, To)
	Category string    // prefix
	Statuses []Status
	Source   string
	Unit     string
}

// compiled turns a filter into per-row tests on the interned columns.
type compiledFilter struct {
	from, to int64
	cats     []bool   // by category id: matches the prefix
	statuses [16]bool // by status id (there are 8)
	anyStat  bool
	source   int64 // -1: any; -2: matches nothing
	unit     int64
}

func (x *CaseIndex) compile(f HotspotFilter) compiledFilter {
	cf := compiledFilter{from: -1 << 62, to: 1 << 62, source: -1, unit: -1}
	if !f.From.IsZero() {
		cf.from = f.From.Unix()
	}
	if !f.To.IsZero() {
		cf.to = f.To.Unix()
	}
	if f.Category != "" {
		cf.cats = make([]bool, len(x.strs.cats.names))
		for i, name := range x.strs.cats.names {
			cf.cats[i] = strings.HasPrefix(name, f.Category)
		}
	}
	cf.anyStat = len(f.Statuses) == 0
	for _, s := range f.Statuses {
		cf.statuses[statusIDs[s]] = true
	}
	lookup := func(d *dict, s string) int64 {
		if s == "" {
			return -1
		}
		if id, ok := d.ids[s]; ok {
			return int64(id)
		}
		return -2
	}
	cf.source = lookup(&x.strs.sources, f.Source)
	cf.unit = lookup(&x.strs.units, f.Unit)
	return cf
}

func (cf *compiledFilter) match(x *CaseIndex, i int) bool {
	if t := x.t[i]; t < cf.from || t >= cf.to {
		return false
	}
	if cf.cats != nil && !cf.cats[x.cat[i]] {
		return false
	}
	if !cf.anyStat && !cf.statuses[x.status[i]] {
		return false
	}
	if cf.source != -1 && int64(x.source[i]) != cf.source {
		return false
	}
	if cf.unit != -1 && int64(x.unit[i]) != cf.unit {
		return false
	}
	return true
}

// Count adds up the matching cases per cell at resolution res (≤
// HotspotMaxRes), for the cells in study (cell → position); cases in other
// cells are not counted. counts must have len(study) entries.
func (x *CaseIndex) Count(f HotspotFilter, res int, study map[geo.Cell]int32, counts []float64) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	cf := x.compile(f)
	for i := range x.cell {
		if !cf.match(x, i) {
			continue
		}
		if pos, ok := study[x.cell[i].Parent(res)]; ok {
			counts[pos]++
		}
	}
}

// CountSteps is Count split into time steps: step k covers
// [starts[k], starts[k+1]) (the last ends at f.To). counts[k] must have
// len(study) entries.
func (x *CaseIndex) CountSteps(f HotspotFilter, res int, study map[geo.Cell]int32, starts []time.Time, counts [][]float64) {
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
		pos, ok := study[x.cell[i].Parent(res)]
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

// Replace swaps in the contents of other (built without locks held by
// readers), for a full reload.
func (x *CaseIndex) Replace(other *CaseIndex) {
	other.mu.Lock()
	defer other.mu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	x.byID, x.cell, x.t, x.cat, x.status, x.source, x.unit, x.strs =
		other.byID, other.cell, other.t, other.cat, other.status, other.source, other.unit, other.strs
}

// IndexedOf is the part of a case the index keeps.
func IndexedOf(c *Case) IndexedCase {
	return IndexedCase{ID: c.ID, Location: c.Location, ReportedAt: c.ReportedAt, Category: c.Category, Status: c.Status, Source: c.Source, Unit: c.Unit}
}
