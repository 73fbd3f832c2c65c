package grid

import (
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"

	"citygrid/geo"
)

// noGrid marks a raster pixel that no grid reaches.
const noGrid = math.MinInt32

// maxRasterSide caps a raster at maxRasterSide² pixels, whatever the cell
// resolution: coarse cells get coarser pixels (longer candidate lists), never
// unbounded memory.
const maxRasterSide = 128

// raster divides the bounding box of one H3 cell into pixels, each mapping
// to a grid (the whole pixel lies inside it and no deeper grid reaches it),
// to a candidate list, or to noGrid.
type raster struct {
	minX, minY   float64
	invDX, invDY float64 // pixels per degree
	nx, ny       int
	pix          []int32 // ≥ 0: grid index; noGrid; else ^index into lists
}

// pixel returns the pixel value for p, and false when p lies outside the
// raster's box.
func (r *raster) pixel(p orb.Point) (int32, bool) {
	fx, fy := (p[0]-r.minX)*r.invDX, (p[1]-r.minY)*r.invDY
	// Compared as floats: int() of a float beyond int's range is undefined.
	if !(fx >= 0 && fy >= 0 && fx < float64(r.nx) && fy < float64(r.ny)) {
		return 0, false
	}
	ix, iy := int(fx), int(fy)
	return r.pix[iy*r.nx+ix], true
}

// build covers the grids with H3 cells at CellRes and classifies each cell:
// inside one grid, outside all, or split into a raster of about PixelM-metre
// pixels classified the same way (a quadtree walk fills the raster, so large
// uniform blocks cost one test).
func (l *Locator) build() error {
	all := l.grids[0].bound
	for i := range l.grids {
		all = all.Union(l.grids[i].bound)
	}
	// Pad by an edge length so that every cell holding a point of a grid is
	// in the cover, even where the hexagon barely pokes into the box.
	box := expandBoundM(all, 2*geo.CellEdgeLengthM(CellRes))
	cover, err := geo.PolygonCells(orb.MultiPolygon{box.ToPolygon()}, CellRes, geo.ContainOverlapping)
	if err != nil {
		return fmt.Errorf("locator: cover of the grids' bounds: %w", err)
	}
	b := &builder{l: l, listIDs: map[string]int32{}}
	for _, c := range cover {
		b.cell(c)
	}
	return nil
}

type builder struct {
	l       *Locator
	listIDs map[string]int32
}

// cellBound is the bounding box of c's outline, padded: H3 edges are
// great-circle arcs, which bulge (by far less than the padding) beyond the
// straight lines between the vertices.
func cellBound(c geo.Cell) orb.Bound {
	b := c.Boundary().Bound()
	padX, padY := (b.Max[0]-b.Min[0])*0.01, (b.Max[1]-b.Min[1])*0.01
	return orb.Bound{Min: orb.Point{b.Min[0] - padX, b.Min[1] - padY}, Max: orb.Point{b.Max[0] + padX, b.Max[1] + padY}}
}

func (b *builder) cell(c geo.Cell) {
	l := b.l
	box := cellBound(c)
	cands := l.gridsNear(box, 0)
	near, inside := b.classify(box, cands)
	switch {
	case len(near) == 0:
		return // outside every grid: no entry
	case inside >= 0:
		l.cells[c] = inside
		return
	}
	w, h := boxSizeM(box)
	r := raster{
		minX: box.Min[0], minY: box.Min[1],
		nx: min(maxRasterSide, max(1, int(math.Ceil(w/l.opt.PixelM)))),
		ny: min(maxRasterSide, max(1, int(math.Ceil(h/l.opt.PixelM)))),
	}
	r.invDX = float64(r.nx) / (box.Max[0] - box.Min[0])
	r.invDY = float64(r.ny) / (box.Max[1] - box.Min[1])
	r.pix = make([]int32, r.nx*r.ny)
	b.fill(&r, 0, 0, r.nx, r.ny, nearIndices(near))
	l.cells[c] = ^int32(len(l.rasters))
	l.rasters = append(l.rasters, r)
}

// fill classifies pixels [x0, x1) × [y0, y1) of r, splitting in four while
// the block is mixed.
func (b *builder) fill(r *raster, x0, y0, x1, y1 int, cands []int32) {
	box := orb.Bound{
		Min: orb.Point{r.minX + float64(x0)/r.invDX, r.minY + float64(y0)/r.invDY},
		Max: orb.Point{r.minX + float64(x1)/r.invDX, r.minY + float64(y1)/r.invDY},
	}
	near, inside := b.classify(box, cands)
	var v int32
	switch {
	case len(near) == 0:
		v = noGrid
	case inside >= 0:
		v = inside
	case x1-x0 == 1 && y1-y0 == 1:
		v = ^b.listID(near)
	default:
		xm, ym := max(x0+1, (x0+x1)/2), max(y0+1, (y0+y1)/2)
		for _, q := range [][4]int{{x0, y0, xm, ym}, {xm, y0, x1, ym}, {x0, ym, xm, y1}, {xm, ym, x1, y1}} {
			if q[0] < q[2] && q[1] < q[3] {
				b.fill(r, q[0], q[1], q[2], q[3], nearIndices(near))
			}
		}
		return
	}
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			r.pix[y*r.nx+x] = v
		}
	}
}

type nearGrid struct {
	idx       int32
	contained bool // the whole box lies inside the grid
}

func nearIndices(near []nearGrid) []int32 {
	out := make([]int32, len(near))
	for i, n := range near {
		out[i] = n.idx
	}
	return out
}

// classify finds the grids (from cands, deepest level first, then by code)
// that may cover some point of box, and returns the grid that answers for
// the whole box, or -1 when points of the box may have different answers.
func (b *builder) classify(box orb.Bound, cands []int32) (near []nearGrid, inside int32) {
	l := b.l
	ctr := box.Center()
	reach := boxReachM(box) // every point of the box is within reach of its centre
	var coveredAt Level
	for _, i := range cands {
		g := &l.grids[i]
		if g.Level < coveredAt {
			break // a deeper grid answers every point here; shallower ones never will
		}
		if !g.bound.Intersects(box) {
			continue
		}
		in := g.poly.Locate(ctr) == geo.Inside
		d := g.poly.DistanceToBoundaryM(ctr)
		if in || d <= reach {
			contained := in && d > reach
			near = append(near, nearGrid{idx: i, contained: contained})
			if contained && coveredAt == 0 {
				coveredAt = g.Level
			}
		}
	}
	inside = -1
	if len(near) > 0 && near[0].contained && (len(near) == 1 || l.grids[near[1].idx].Level != l.grids[near[0].idx].Level) {
		inside = near[0].idx
	}
	return near, inside
}

// boxSizeM returns the width and height of box in metres.
func boxSizeM(box orb.Bound) (w, h float64) {
	lat := math.Max(math.Abs(box.Min[1]), math.Abs(box.Max[1]))
	return (box.Max[0] - box.Min[0]) * metresPerDegree * math.Cos(lat*math.Pi/180), (box.Max[1] - box.Min[1]) * metresPerDegree
}

// listID stores a candidate list once and returns its index. Candidates after
// the first one that contains the whole pixel can never be reached (the
// search stops at the first covering grid), so they are dropped.
func (b *builder) listID(near []nearGrid) int32 {
	var list []int32
	for _, n := range near {
		list = append(list, n.idx)
		if n.contained {
			break
		}
	}
	key := listKey(list)
	if id, ok := b.listIDs[key]; ok {
		return id
	}
	id := int32(len(b.l.lists))
	b.l.lists = append(b.l.lists, list)
	b.listIDs[key] = id
	return id
}

// bucketDeg is the side of the spatial hash's buckets, about 1 km.
const bucketDeg = 0.01

type bucketKey struct{ x, y int32 }

func bucketOf(p orb.Point) bucketKey {
	return bucketKey{int32(math.Floor(p[0] / bucketDeg)), int32(math.Floor(p[1] / bucketDeg))}
}

// indexBuckets files every grid under the buckets its box touches.
func (l *Locator) indexBuckets() {
	l.buckets = map[bucketKey][]int32{}
	for i := range l.grids {
		lo, hi := bucketOf(l.grids[i].bound.Min), bucketOf(l.grids[i].bound.Max)
		for x := lo.x; x <= hi.x; x++ {
			for y := lo.y; y <= hi.y; y++ {
				k := bucketKey{x, y}
				l.buckets[k] = append(l.buckets[k], int32(i))
			}
		}
	}
}

// gridsNear returns the grids whose boxes meet box, of the given level (0 =
// any), deepest level first and by code within a level.
func (l *Locator) gridsNear(box orb.Bound, level Level) []int32 {
	lo, hi := bucketOf(box.Min), bucketOf(box.Max)
	var out []int32
	for x := lo.x; x <= hi.x; x++ {
		for y := lo.y; y <= hi.y; y++ {
			for _, i := range l.buckets[bucketKey{x, y}] {
				if (level == 0 || l.grids[i].Level == level) && l.grids[i].bound.Intersects(box) {
					out = append(out, i)
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b int32) int {
		if la, lb := l.grids[a].Level, l.grids[b].Level; la != lb {
			return int(lb - la)
		}
		return int(a - b)
	})
	return slices.Compact(out)
}
