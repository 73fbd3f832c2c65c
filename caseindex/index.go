package caseindex

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paulmach/orb"

	"citygrid/cases"
	"citygrid/geo"
)

// MaxRes is the finest resolution the case index keeps: hotspot
// analysis runs at resolutions 7 to 11.
const MaxRes = 11

// Cell is the cell of a case at resolution res (0 to MaxRes),
// the one rule hotspots, tile clusters and area queries share: at the
// stored resolution (BucketRes, 9) and finer, the cell that contains the
// point; coarser, the parent of the stored cell, as an h3= area query
// counts a coarse cell's children. (H3 cells do not nest exactly: the
// coarse cell containing a point is not always its fine cell's parent.)
func Cell(p orb.Point, res int) (geo.Cell, error) {
	if res < BucketRes {
		c, err := geo.CellAt(p, BucketRes)
		return c.Parent(res), err
	}
	return geo.CellAt(p, res)
}

// caseCells are a case's cells at resolutions 9, 10 and 11.
type caseCells [MaxRes - BucketRes + 1]geo.Cell

func cellsOf(p orb.Point) (caseCells, error) {
	var cc caseCells
	for i := range cc {
		c, err := geo.CellAt(p, BucketRes+i)
		if err != nil {
			return cc, err
		}
		cc[i] = c
	}
	return cc, nil
}

// at is Cell from the kept cells.
func (cc *caseCells) at(res int) geo.Cell {
	if res <= BucketRes {
		return cc[0].Parent(res)
	}
	return cc[res-BucketRes]
}

// BucketRes is the resolution of the index's spatial buckets: every case
// sits in the bucket of its cell at this resolution, so that a query over a
// box (a map tile) visits the few hundred buckets' bounds, then only the
// cases of buckets that meet the box.
const BucketRes = 9

// Index is an in-memory columnar copy of what hotspots and map tiles
// need from every case: position, cells at resolutions 9–11, report time,
// deadline, category, status, priority, source, unit and grid. Counting or
// drawing a million cases under any filter is one pass over flat arrays,
// with no database round trip. It is kept current by Apply on every case
// change; listeners hear of each change after it is visible.
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
	strs     interner
	buckets  []bucket
	byBucket map[geo.Cell]int32

	// touched records the cases changed since BeginReload: a reload's
	// snapshot may predate them, so Replace keeps their current rows.
	touched map[int64]struct{}
	// loading: rows are filed unsorted until Replace (see BeginLoad).
	loading bool

	listenMu  sync.Mutex
	listeners []func(Change)
}

type bucket struct {
	cell  geo.Cell
	bound orb.Bound // holds every point ever filed here
	rows  []int32
}

// Change tells listeners what changed: one case (Old is nil when it is
// new), or everything (Reset, after a full reload).
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
}

// Overdue reports whether the case is late at now, as cases.Case.Overdue does.
func (c *Entry) Overdue(now time.Time) bool {
	return c.Status.Open() && !c.DueAt.IsZero() && now.After(c.DueAt)
}

// OnChange registers fn to hear of every later change. fn runs on the
// changing goroutine after the index has the change, and must be quick.
func (x *Index) OnChange(fn func(Change)) {
	x.listenMu.Lock()
	defer x.listenMu.Unlock()
	x.listeners = append(x.listeners, fn)
}

func (x *Index) tell(ch Change) {
	x.listenMu.Lock()
	ls := x.listeners
	x.listenMu.Unlock()
	for _, fn := range ls {
		fn(ch)
	}
}

// Version counts the changes the index has taken; results computed from it
// stay valid while it is unchanged.
func (x *Index) Version() uint64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.version
}

// Apply inserts or replaces one case.
func (x *Index) Apply(c Entry) error {
	old, err := x.apply(c)
	if err != nil {
		return err
	}
	x.tell(Change{Old: old, New: &c})
	return nil
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
		x.addToBucket(row, cell[0], c.Location)
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
		x.addToBucket(row, cell[0], c.Location)
	}
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
	}
	x.loading = false
}

// row reads one case back; x.mu must be held.
func (x *Index) row(i int32) Entry {
	c := Entry{
		ID: x.id[i], Location: x.loc[i], ReportedAt: time.Unix(x.t[i], 0).UTC(),
		Category: x.strs.cats.names[x.cat[i]], Status: cases.Statuses[x.status[i]], Priority: int(x.priority[i]),
		Source: x.strs.sources.names[x.source[i]], Unit: x.strs.units.names[x.unit[i]], Grid: x.strs.grids.names[x.grid[i]],
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

// Filter selects cases for counting and drawing; zero fields do not filter.
type Filter struct {
	From, To time.Time // on reported_at, [From, To)
	Category string    // prefix
	Statuses []cases.Status
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
	all      bool // nothing filters: every row matches
}

func (x *Index) compile(f Filter) compiledFilter {
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
	cf.all = f.From.IsZero() && f.To.IsZero() && cf.cats == nil && cf.anyStat && cf.source == -1 && cf.unit == -1
	return cf
}

func (cf *compiledFilter) match(x *Index, i int) bool {
	if cf.all {
		return true
	}
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
// readers), for a full reload; listeners are told everything changed.
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
	x.strs, x.buckets, x.byBucket = other.strs, other.buckets, other.byBucket
	x.mu.Unlock()
	other.mu.Unlock()
	x.tell(Change{Reset: true})
}

// EntryOf is the part of a case the index keeps.
func EntryOf(c *cases.Case) Entry {
	ic := Entry{ID: c.ID, Location: c.Location, ReportedAt: c.ReportedAt, Category: c.Category, Status: c.Status,
		Priority: c.Priority, Source: c.Source, Unit: c.Unit, Grid: c.Grid}
	if c.PausedAt == nil {
		ic.DueAt = c.DueAt
	}
	return ic
}

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
// keep accepts (asked once per cell).
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
	for bi := range x.buckets {
		bk := &x.buckets[bi]
		if res <= BucketRes {
			// Every case of the bucket has the same parent cell.
			parent := bk.cell.Parent(res)
			if !wants(parent) {
				continue
			}
			var load *CellLoad
			for _, i := range bk.rows {
				if !cf.match(x, int(i)) {
					continue
				}
				if load == nil {
					if load = out[parent]; load == nil {
						load = &CellLoad{}
						out[parent] = load
					}
				}
				load.add(x, i, at)
			}
			continue
		}
		for _, i := range bk.rows {
			parent := x.cell[i].at(res)
			if !wants(parent) || !cf.match(x, int(i)) {
				continue
			}
			load := out[parent]
			if load == nil {
				load = &CellLoad{}
				out[parent] = load
			}
			load.add(x, i, at)
		}
	}
	return out
}

// ByGrid counts every case per grid code it was assigned to (the grid
// itself, not its ancestors).
func (x *Index) ByGrid(now time.Time) map[string]*CellLoad {
	x.mu.RLock()
	defer x.mu.RUnlock()
	at := now.Unix()
	loads := make([]CellLoad, len(x.strs.grids.names))
	for i := range x.grid {
		loads[x.grid[i]].add(x, int32(i), at)
	}
	out := make(map[string]*CellLoad, len(loads))
	for id, name := range x.strs.grids.names {
		if name != "" && loads[id].Count > 0 {
			out[name] = &loads[id]
		}
	}
	return out
}
