package caseindex

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/paulmach/orb"

	"citygrid/cases"
	"citygrid/geo"
)

// Index is an in-memory columnar copy of what hotspots and map tiles
// need from every case: position, cells at resolutions 9–11, report time,
// deadline, category, status, priority, source, unit and grid. Counting or
// drawing a million cases under any filter is one pass over flat arrays,
// with no database round trip. It is kept current by Apply on every case
// change (package live does that, and tells the tiles what changed).
type Index struct {
	mu       sync.RWMutex
	version  uint64
	byID     map[int64]int32
	id       []int64
	loc      []orb.Point
	cell     []caseCells
	t        []int64 // reported_at, unix seconds
	due      []int64 // due_at, unix seconds; 0 while the clock is stopped
	cat      []uint16
	status   []uint8
	priority []uint8
	source   []uint16
	unit     []uint32
	grid     []uint32
	// merged marks duplicates merged into another case (merged_into set):
	// the case is counted once, as its original, so a merged row matches
	// no filter and is drawn and counted nowhere. nMerged counts them, so
	// that an index without any keeps its no-filter fast path.
	merged   []bool
	nMerged  int
	strs     interner
	buckets  []bucket
	byBucket map[geo.Cell]int32

	// touched records the cases changed since BeginReload: a reload's
	// snapshot may predate them, so Replace keeps their current rows.
	touched map[int64]struct{}
	// loading: rows are filed unsorted until Replace (see BeginLoad).
	loading bool
}

type bucket struct {
	cell  geo.Cell
	bound orb.Bound // holds every point ever filed here
	rows  []int32
	// live are the rows of rows that are not merged duplicates, oldest
	// first by (report time, id), with what they add up to (aggregate.go):
	// a time window is a run of live, and the unfiltered counts of a
	// cluster or hotspot cell need no look at the rows.
	live []int32
	agg  bucketAgg
}

// Change is what changed: one case (Old is nil when it is new), or
// everything (Reset, after a full reload).
type Change struct {
	Reset    bool
	Old, New *Entry
}

// interner numbers strings per column, so rows hold small integers.
type interner struct {
	cats, sources, units, grids dict
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

var statusIDs = func() map[cases.Status]uint8 {
	m := map[cases.Status]uint8{}
	for i, s := range cases.Statuses {
		m[s] = uint8(i)
	}
	return m
}()

// openStatus is cases.Status.Open by status id.
var openStatus = func() (open [8]bool) {
	for i, s := range cases.Statuses {
		open[i] = s.Open()
	}
	return open
}()

// New returns an empty index.
func New() *Index {
	return &Index{byID: map[int64]int32{}, byBucket: map[geo.Cell]int32{}}
}

// Entry is one case as the index sees it.
type Entry struct {
	ID         int64
	Location   orb.Point
	ReportedAt time.Time
	// DueAt is the deadline; zero while the clock is stopped (挂账).
	DueAt    time.Time
	Category string
	Status   cases.Status
	Priority int
	Source   string
	Unit     string
	Grid     string
	// Merged is set for a duplicate merged into another case: it stays
	// indexed (a later change may still name it) but is never counted or
	// drawn.
	Merged bool
}

// Overdue reports whether the case is late at now, as cases.Case.Overdue does.
func (c *Entry) Overdue(now time.Time) bool {
	return c.Status.Open() && !c.DueAt.IsZero() && now.After(c.DueAt)
}

// Version counts the changes the index has taken; results computed from it
// stay valid while it is unchanged.
func (x *Index) Version() uint64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.version
}

// Apply inserts or replaces one case and says what changed.
func (x *Index) Apply(c Entry) (Change, error) {
	old, err := x.apply(c)
	if err != nil {
		return Change{}, err
	}
	return Change{Old: old, New: &c}, nil
}

func (x *Index) apply(c Entry) (*Entry, error) {
	cell, err := cellsOf(c.Location)
	if err != nil {
		return nil, fmt.Errorf("case index: case %d: %w", c.ID, err)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.touched != nil {
		x.touched[c.ID] = struct{}{}
	}
	return x.put(c, cell), nil
}

// put stores c with its cell and returns the case it replaced, if any;
// x.mu must be held.
func (x *Index) put(c Entry, cell caseCells) *Entry {
	x.version++
	row, ok := x.byID[c.ID]
	var old *Entry
	if ok {
		before := x.row(row)
		old = &before
		x.unbucket(row)
	} else {
		row = int32(len(x.cell))
		x.byID[c.ID] = row
		x.id = append(x.id, c.ID)
		x.loc = append(x.loc, orb.Point{})
		x.cell = append(x.cell, caseCells{})
		x.t = append(x.t, 0)
		x.due = append(x.due, 0)
		x.cat = append(x.cat, 0)
		x.status = append(x.status, 0)
		x.priority = append(x.priority, 0)
		x.source = append(x.source, 0)
		x.unit = append(x.unit, 0)
		x.grid = append(x.grid, 0)
		x.merged = append(x.merged, false)
	}
	if x.merged[row] != c.Merged {
		if c.Merged {
			x.nMerged++
		} else {
			x.nMerged--
		}
	}
	x.merged[row] = c.Merged
	x.loc[row] = c.Location
	x.cell[row] = cell
	x.t[row] = c.ReportedAt.Unix()
	x.due[row] = 0
	if !c.DueAt.IsZero() {
		x.due[row] = c.DueAt.Unix()
	}
	x.cat[row] = uint16(x.strs.cats.id(c.Category))
	x.status[row] = statusIDs[c.Status]
	x.priority[row] = uint8(c.Priority)
	x.source[row] = uint16(x.strs.sources.id(c.Source))
	x.unit[row] = x.strs.units.id(c.Unit)
	x.grid[row] = x.strs.grids.id(c.Grid)
	// Filed once the row holds its values: the bucket's aggregates read them.
	x.addToBucket(row, cell[0], c.Location)
	return old
}

// bucketFor returns the bucket of a cell at BucketRes, making it.
func (x *Index) bucketFor(parent geo.Cell) *bucket {
	if i, ok := x.byBucket[parent]; ok {
		return &x.buckets[i]
	}
	x.byBucket[parent] = int32(len(x.buckets))
	x.buckets = append(x.buckets, bucket{cell: parent})
	return &x.buckets[len(x.buckets)-1]
}

// addToBucket files row under its cell's bucket. The bucket's bound grows
// to hold the point: H3 children stick out of their parent, so the
// parent's own boundary would not do. It never shrinks, which only costs
// a few needless looks.
//
// A bucket's rows are kept in order of latitude, so that a box finds its
// band by binary search: a hotspot's bucket holds tens of thousands of
// cases, of which a street-level tile wants a few hundred. A loading
// index appends, and Replace sorts once.
func (x *Index) addToBucket(row int32, cell geo.Cell, p orb.Point) {
	b := x.bucketFor(cell)
	if len(b.rows) == 0 && b.bound == (orb.Bound{}) {
		b.bound = orb.Bound{Min: p, Max: p}
	}
	b.bound = b.bound.Extend(p)
	if !x.merged[row] {
		x.fileLive(b, row)
	}
	if x.loading {
		b.rows = append(b.rows, row)
		return
	}
	b.rows = slices.Insert(b.rows, x.firstAtLat(b.rows, p[1]), row)
}

// firstAtLat is the position of the first row at latitude lat or north of
// it in rows sorted by latitude.
func (x *Index) firstAtLat(rows []int32, lat float64) int {
	i, _ := slices.BinarySearchFunc(rows, lat, func(r int32, lat float64) int { return cmp.Compare(x.loc[r][1], lat) })
	return i
}

func (x *Index) unbucket(row int32) {
	b := &x.buckets[x.byBucket[x.cell[row][0]]]
	if !x.merged[row] {
		x.unfileLive(b, row)
	}
	from := 0
	if !x.loading {
		from = x.firstAtLat(b.rows, x.loc[row][1])
	}
	i := from + slices.Index(b.rows[from:], row)
	b.rows = slices.Delete(b.rows, i, i+1)
}

// BeginLoad readies an index nobody reads yet for many Applies (a reload):
// rows are filed unsorted, and Replace sorts them once.
func (x *Index) BeginLoad() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.loading = true
}

// sortBuckets ends a load; x.mu must be held.
func (x *Index) sortBuckets() {
	for bi := range x.buckets {
		rows := x.buckets[bi].rows
		slices.SortFunc(rows, func(a, b int32) int { return cmp.Compare(x.loc[a][1], x.loc[b][1]) })
		x.sortLive(&x.buckets[bi])
	}
	x.loading = false
}

// row reads one case back; x.mu must be held.
func (x *Index) row(i int32) Entry {
	c := Entry{
		ID: x.id[i], Location: x.loc[i], ReportedAt: time.Unix(x.t[i], 0).UTC(),
		Category: x.strs.cats.names[x.cat[i]], Status: cases.Statuses[x.status[i]], Priority: int(x.priority[i]),
		Source: x.strs.sources.names[x.source[i]], Unit: x.strs.units.names[x.unit[i]], Grid: x.strs.grids.names[x.grid[i]],
		Merged: x.merged[i],
	}
	if x.due[i] != 0 {
		c.DueAt = time.Unix(x.due[i], 0).UTC()
	}
	return c
}

// Len returns the number of indexed cases.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.cell)
}

// BeginReload starts recording the cases Apply changes, for the Replace
// that ends the reload: call it before the reload reads its snapshot.
func (x *Index) BeginReload() {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.touched == nil {
		x.touched = map[int64]struct{}{}
	}
}

// Replace swaps in the contents of other (built without locks held by
// readers), for a full reload: everything may have changed.
// Cases applied to x since BeginReload keep their rows from x: they may be
// newer than other's snapshot (a change committed while it was read).
func (x *Index) Replace(other *Index) {
	other.mu.Lock()
	x.mu.Lock()
	if other.loading {
		other.sortBuckets()
	}
	for id := range x.touched {
		if row, ok := x.byID[id]; ok {
			other.put(x.row(row), x.cell[row])
		}
	}
	x.touched = nil
	x.version++
	x.byID, x.id, x.loc, x.cell, x.t, x.due = other.byID, other.id, other.loc, other.cell, other.t, other.due
	x.cat, x.status, x.priority, x.source, x.unit, x.grid = other.cat, other.status, other.priority, other.source, other.unit, other.grid
	x.merged, x.nMerged = other.merged, other.nMerged
	x.strs, x.buckets, x.byBucket = other.strs, other.buckets, other.byBucket
	x.mu.Unlock()
	other.mu.Unlock()
}

// EntryOf is the part of a case the index keeps.
func EntryOf(c *cases.Case) Entry {
	ic := Entry{ID: c.ID, Location: c.Location, ReportedAt: c.ReportedAt, Category: c.Category, Status: c.Status,
		Priority: c.Priority, Source: c.Source, Unit: c.Unit, Grid: c.Grid, Merged: c.MergedInto != nil}
	if c.PausedAt == nil {
		ic.DueAt = c.DueAt
	}
	return ic
}
