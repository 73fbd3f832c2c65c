package grid

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/paulmach/orb"

	"citygrid/geo"
)

// LocatorOptions tunes a Locator; zero values take the defaults.
type LocatorOptions struct {
	// ReportRes is the H3 resolution of the cell Locate reports (default
	// CellRes). The index, and the cell Assign returns, are always at CellRes.
	ReportRes int
	// PixelM is the pixel size, in metres, of the rasters that split the
	// cells crossed by boundaries (default 5). Smaller means fewer exact
	// point-in-polygon tests near boundaries and more memory.
	PixelM float64
	// ToleranceM is the distance from a grid boundary under which the answer
	// lists the other grids of its level within that distance (default 5 m).
	ToleranceM float64
	// FallbackUnit is the code of the unit that owns a point of the service
	// area where no grid on the path names a unit (属地兜底); empty for
	// none, which leaves such points without an owner.
	FallbackUnit string
}

func (o *LocatorOptions) setDefaults() {
	if o.ReportRes == 0 {
		o.ReportRes = CellRes
	}
	if o.PixelM == 0 {
		o.PixelM = 5
	}
	if o.ToleranceM == 0 {
		o.ToleranceM = 5
	}
}

// Locator answers which grid covers a point, from memory.
//
// The index covers the grids with H3 cells at CellRes, the cell stored with
// every case anyway. A cell wholly inside one grid (of the deepest level present
// there) maps straight to it. A cell crossed by boundaries holds a raster of
// PixelM-metre pixels over its bounding box, each mapping to one grid, to
// nothing, or, along boundaries, to a short candidate list checked with the
// exact point-in-polygon test PostGIS uses for ST_Covers. A point thus costs
// the one H3 computation it needs anyway, a lookup in a small map, an array
// read and, near a boundary only, a test or two on small polygons.
//
// The answer is the deepest grid whose boundary covers the point (boundary
// points included, as ST_Covers). A point on an edge or vertex shared by
// several grids of that level goes to the one with the smallest code
// (byte-wise string order), so every point has exactly one owner grid.
//
// A Locator is immutable and safe for concurrent use; rebuild it when the
// grids change.
type Locator struct {
	opt     LocatorOptions
	grids   []indexedGrid
	byCode  map[string]int32
	byLevel [LevelGrid + 1][]int32
	// caps holds, aligned with byLevel, each grid's bounding cap on the
	// sphere, flat so that nearest scans thousands without chasing pointers.
	caps    [LevelGrid + 1][]gridCap
	units   map[string]Unit
	cells   map[geo.Cell]int32 // ≥ 0: a grid index; < 0: ^index into rasters
	rasters []raster
	lists   [][]int32 // candidate lists, deepest level first, then code
	buckets map[bucketKey][]int32
	top     Level // the shallowest level present: its grids make the service area
}

type indexedGrid struct {
	*Grid
	poly     *geo.PreparedPolygon
	bound    orb.Bound
	path     []*Grid  // this grid first, then its ancestors up to the root
	pathIdx  []int32  // the same, as indices
	prefixes []string // keys of UnitsByCategory, longest first

	prefixOwners []*Owner // the owner each prefix names, aligned with prefixes
	defaultOwner *Owner   // the first default unit up the path, else the fallback, or nil
	// inTop is set when every point of the grid's box lies in a top-level
	// grid, so that a point it covers needs no test of the service area.
	inTop bool
}

// ErrEmptyIndex is returned by NewLocator when there are no grids.
var ErrEmptyIndex = errors.New("no grids to index")

// NewLocator indexes grids (any levels, any order; parents referenced by code)
// and units (for names in answers).
func NewLocator(grids []*Grid, units []Unit, opt LocatorOptions) (*Locator, error) {
	l, err := prepareLocator(grids, units, opt)
	if err != nil || len(l.grids) == 0 {
		return l, err
	}
	if err := l.build(); err != nil {
		return nil, err
	}
	return l, nil
}

// prepareLocator does all of NewLocator but the cell index (build), which a
// snapshot may supply instead (see NewLocatorReusing).
func prepareLocator(grids []*Grid, units []Unit, opt LocatorOptions) (*Locator, error) {
	opt.setDefaults()
	if opt.ReportRes < 0 || opt.ReportRes > geo.MaxRes || !(opt.PixelM > 0) {
		return nil, fmt.Errorf("locator: reported cell resolution %d must be 0 to %d and pixel size %g m positive", opt.ReportRes, geo.MaxRes, opt.PixelM)
	}
	l := &Locator{
		opt:    opt,
		byCode: make(map[string]int32, len(grids)),
		units:  make(map[string]Unit, len(units)),
		cells:  make(map[geo.Cell]int32),
	}
	for _, u := range units {
		l.units[u.Code] = u
	}
	sorted := slices.Clone(grids)
	slices.SortFunc(sorted, func(a, b *Grid) int { return strings.Compare(a.Code, b.Code) })
	for i, g := range sorted {
		mp := g.MultiPolygon()
		if len(mp) == 0 {
			return nil, fmt.Errorf("locator: grid %q has no polygon", g.Code)
		}
		if !g.Level.Valid() {
			return nil, fmt.Errorf("locator: grid %q has invalid level %d", g.Code, g.Level)
		}
		l.grids = append(l.grids, indexedGrid{Grid: g, poly: geo.Prepare(mp), bound: mp.Bound()})
		l.byCode[g.Code] = int32(i)
		l.byLevel[g.Level] = append(l.byLevel[g.Level], int32(i))
		c, r := l.grids[i].poly.SphereCap()
		l.caps[g.Level] = append(l.caps[g.Level], gridCap{c, r})
	}
	for i := range l.grids {
		l.grids[i].path = l.pathOf(i)
		for _, g := range l.grids[i].path {
			l.grids[i].pathIdx = append(l.grids[i].pathIdx, l.byCode[g.Code])
		}
	}
	l.prepareOwners()
	if len(l.grids) == 0 {
		return l, nil
	}
	l.prepareServiceArea()
	l.indexBuckets()
	return l, nil
}

// pathOf follows parent codes up to the root; a missing parent or a cycle
// ends the path rather than failing, since stores enforce the hierarchy.
func (l *Locator) pathOf(i int) []*Grid {
	var path []*Grid
	seen := map[string]bool{}
	for g := l.grids[i].Grid; g != nil && !seen[g.Code]; {
		seen[g.Code] = true
		path = append(path, g)
		j, ok := l.byCode[g.Parent]
		if !ok {
			break
		}
		g = l.grids[j].Grid
	}
	return path
}

// Len returns the number of indexed grids.
func (l *Locator) Len() int { return len(l.grids) }

// ReportRes returns the resolution of the cells Locate reports.
func (l *Locator) ReportRes() int { return l.opt.ReportRes }

// IndexedCells returns the number of cells in the index, for metrics.
func (l *Locator) IndexedCells() int { return len(l.cells) }

// Rasters returns the number of cells split into rasters, for metrics.
func (l *Locator) Rasters() int { return len(l.rasters) }

// Grid returns an indexed grid by code.
func (l *Locator) Grid(code string) (*Grid, bool) {
	i, ok := l.byCode[code]
	if !ok {
		return nil, false
	}
	return l.grids[i].Grid, true
}

// Path returns the grid with the given code and its ancestors up to the root.
func (l *Locator) Path(code string) []*Grid {
	i, ok := l.byCode[code]
	if !ok {
		return nil
	}
	return l.grids[i].path
}

// find returns the index of the grid owning p (or -1) and p's cell.
func (l *Locator) find(p orb.Point) (int32, geo.Cell, error) {
	c, err := geo.CellAt(p, CellRes)
	if err != nil {
		return -1, 0, err
	}
	v, ok := l.cells[c]
	if !ok {
		return -1, c, nil
	}
	if v >= 0 {
		return v, c, nil
	}
	pv, ok := l.rasters[^v].pixel(p)
	switch {
	case !ok:
		// Not expected (the raster's box pads the cell's outline), but
		// never wrong: ask every grid near the point.
		return l.firstCovering(l.gridsNear(orb.Bound{Min: p, Max: p}, 0), p), c, nil
	case pv >= 0:
		return pv, c, nil
	case pv == noGrid:
		return -1, c, nil
	}
	return l.firstCovering(l.lists[^pv], p), c, nil
}

// firstCovering returns the first candidate covering p. Candidates are
// ordered deepest level first and by code within a level, so the first hit
// is the deepest covering grid with the smallest code.
func (l *Locator) firstCovering(cands []int32, p orb.Point) int32 {
	for _, i := range cands {
		if l.grids[i].poly.Locate(p) != geo.Outside {
			return i
		}
	}
	return -1
}

// Assignment is the hot-path answer: the owning grid and unit of a point.
type Assignment struct {
	Cell  geo.Cell // at CellRes: the cell stored with a case
	Grid  *Grid    // nil when no grid covers the point
	Owner *Owner   // nil when no grid on the path names a unit and there is no fallback
	// InServiceArea reports whether a top-level grid covers the point: only
	// such points are anybody's to handle.
	InServiceArea bool
}

// Assign returns p's grid, responsible unit and cell: what a new case needs.
func (l *Locator) Assign(p orb.Point, category string) (Assignment, error) {
	i, cell, err := l.find(p)
	if err != nil {
		return Assignment{}, err
	}
	a := Assignment{Cell: cell}
	if i >= 0 {
		a.Grid = l.grids[i].Grid
		a.Owner = l.owner(i, category)
		a.InServiceArea = l.inServiceArea(i, p)
	}
	return a, nil
}

// OwnerOf applies the ownership rule to a case of category in the grid
// with the given code, wherever in it the case lies: what a re-assignment
// to that grid makes of the unit. ok is false for an unknown grid; the
// owner is nil when no grid on its path names a unit and there is no
// fallback.
func (l *Locator) OwnerOf(code, category string) (o *Owner, ok bool) {
	i, ok := l.byCode[code]
	if !ok {
		return nil, false
	}
	return l.owner(i, category), true
}

// Nearby is a grid near a point, with the distance to it in metres (0 when
// it covers the point).
type Nearby struct {
	Grid      *Grid
	DistanceM float64
}

// Location is the full answer about a point. Owner (as in Assignment) is
// shared with other answers: do not modify it.
type Location struct {
	Assignment
	// Path is Grid and its ancestors up to the district.
	Path []*Grid
	// BoundaryDistanceM is the distance from the point to Grid's boundary.
	BoundaryDistanceM float64
	// Alternatives are the other grids of Grid's level within the tolerance,
	// nearest first: where GPS error could put the point.
	Alternatives []Nearby
	// Nearest is set when no grid covers the point: the nearest grid of the
	// deepest level, and how far it is.
	Nearest *Nearby
}

// Locate returns everything known about p's place in the grid map.
func (l *Locator) Locate(p orb.Point, category string) (*Location, error) {
	i, cell, err := l.find(p)
	if err != nil {
		return nil, err
	}
	if l.opt.ReportRes != CellRes {
		if cell, err = geo.CellAt(p, l.opt.ReportRes); err != nil {
			return nil, err
		}
	}
	loc := &Location{Assignment: Assignment{Cell: cell}}
	if i < 0 {
		if n, ok := l.nearest(p); ok {
			loc.Nearest = &n
		}
		return loc, nil
	}
	g := &l.grids[i]
	loc.Grid = g.Grid
	loc.Owner = l.owner(i, category)
	loc.InServiceArea = l.inServiceArea(i, p)
	loc.Path = g.path
	loc.BoundaryDistanceM = g.poly.DistanceToBoundaryM(p)
	if loc.BoundaryDistanceM <= l.opt.ToleranceM {
		loc.Alternatives = l.within(p, g.Level, l.opt.ToleranceM, i)
	}
	return loc, nil
}

// within lists grids of the given level, other than skip, within tolM of p.
func (l *Locator) within(p orb.Point, level Level, tolM float64, skip int32) []Nearby {
	box := expandBoundM(orb.Bound{Min: p, Max: p}, tolM)
	var out []Nearby
	for _, j := range l.gridsNear(box, level) {
		g := &l.grids[j]
		if j == skip {
			continue
		}
		d := 0.0
		if g.poly.Locate(p) == geo.Outside {
			d = g.poly.DistanceToBoundaryM(p)
		}
		if d <= tolM {
			out = append(out, Nearby{Grid: g.Grid, DistanceM: d})
		}
	}
	slices.SortFunc(out, func(a, b Nearby) int {
		if c := compareFloat(a.DistanceM, b.DistanceM); c != 0 {
			return c
		}
		return strings.Compare(a.Grid.Code, b.Grid.Code)
	})
	return out
}

// gridCap is a cap on the sphere holding a grid's boundary: its centre and
// its radius in radians.
type gridCap struct {
	c geo.SpherePoint
	r float64
}

// nearest finds the nearest grid of the deepest level present, for a point
// no grid covers, and its distance on the sphere: a true distance however
// far the point is (a GPS fix at 0,0 is half a world away, where distances
// in a frame local to the district are off by a tenth). Thousands of grids
// are ranked by the chord to the centres of their caps, which needs no
// trigonometry: the grid of the nearest centre is measured first, and then
// only the grids whose centre is within that distance plus the largest cap
// radius, the only ones that can hold a nearer point.
func (l *Locator) nearest(p orb.Point) (Nearby, bool) {
	v := geo.ToSphere(p)
	for level := LevelGrid; level >= LevelDistrict; level-- {
		at, caps := l.byLevel[level], l.caps[level]
		if len(at) == 0 {
			continue
		}
		first, firstChord, maxRadius := 0, math.Inf(1), 0.0
		for k, c := range caps {
			if ch := geo.ChordSq(v, c.c); ch < firstChord {
				first, firstChord = k, ch
			}
			maxRadius = math.Max(maxRadius, c.r)
		}
		best, bestD := at[first], l.grids[at[first]].poly.SphereDistanceToBoundaryM(v)
		// Rounding must not rule out a grid at exactly bestD: ties go to
		// the smallest code.
		reach := func() float64 { return geo.ChordSqOfM((bestD+maxRadius*geo.EarthRadiusM)*(1+1e-9) + 1e-6) }
		limit := reach()
		for k, c := range caps {
			if k == first || geo.ChordSq(v, c.c) > limit {
				continue
			}
			// Grids are indexed in code order.
			j := at[k]
			if d := l.grids[j].poly.SphereDistanceToBoundaryM(v); d < bestD || d == bestD && j < best {
				best, bestD = j, d
				limit = reach()
			}
		}
		return Nearby{Grid: l.grids[best].Grid, DistanceM: bestD}, true
	}
	return Nearby{}, false
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// metresPerDegree is the length of a degree of latitude on the mean sphere.
const metresPerDegree = geo.EarthRadiusM * math.Pi / 180

// expandBoundM grows b by about m metres on every side (a little more, never
// less, so it can serve as a filter).
func expandBoundM(b orb.Bound, m float64) orb.Bound {
	lat := math.Max(math.Abs(b.Min[1]), math.Abs(b.Max[1]))
	cos := math.Cos(math.Min(lat, 89) * math.Pi / 180)
	dLat := m / metresPerDegree * 1.01
	dLon := dLat / cos
	return orb.Bound{Min: orb.Point{b.Min[0] - dLon, b.Min[1] - dLat}, Max: orb.Point{b.Max[0] + dLon, b.Max[1] + dLat}}
}

// listKey identifies a candidate list, so identical lists are stored once.
func listKey(cands []int32) string {
	var b strings.Builder
	for _, c := range cands {
		b.WriteString(strconv.Itoa(int(c)))
		b.WriteByte(',')
	}
	return b.String()
}

// TopLevel returns the grids of the shallowest level present: the district
// (or districts), the study area of hotspot analysis.
func (l *Locator) TopLevel() []*Grid {
	for _, level := range Levels {
		if len(l.byLevel[level]) > 0 {
			out := make([]*Grid, len(l.byLevel[level]))
			for i, j := range l.byLevel[level] {
				out[i] = l.grids[j].Grid
			}
			return out
		}
	}
	return nil
}

// AtLevel calls fn for every grid of level, in code order, with the bound
// of its boundary.
func (l *Locator) AtLevel(level Level, fn func(g *Grid, b orb.Bound)) {
	if !level.Valid() {
		return
	}
	for _, i := range l.byLevel[level] {
		fn(l.grids[i].Grid, l.grids[i].bound)
	}
}

// Bound returns the bound of the grid's boundary.
func (l *Locator) Bound(code string) (orb.Bound, bool) {
	i, ok := l.byCode[code]
	if !ok {
		return orb.Bound{}, false
	}
	return l.grids[i].bound, true
}
