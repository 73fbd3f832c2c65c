package grid

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/paulmach/orb"

	"citygrid/geo"
)

// reachFactor bounds how far from a cell's centre a point can be when its
// IndexRes cell descends from that cell, in units of the cell's circumradius.
// H3 children are not nested geometrically: a descendant's centre drifts up
// to about √3·e/√7 per level (e = the parent's edge length), which sums to
// about 1.05·e, plus the finest cell's own radius: about 1.43·e in all. The
// locator uses 2, which leaves room for H3's projection distortion and for
// the sampled circumradius (see radiusAt).
const reachFactor = 2.0

// build fills l.cells by walking the H3 hierarchy from startRes to IndexRes.
func (l *Locator) build() error {
	all := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	var deepest Level
	for i := range l.grids {
		all = all.Union(l.grids[i].bound)
		deepest = max(deepest, l.grids[i].Level)
	}
	l.startRes = l.chooseStartRes(deepest)
	// The walk starts a few resolutions coarser than the index, where a
	// handful of cells cover everything, so that each level tests only the
	// grids its parent found near: entries are still stored at startRes or
	// finer only, where lookups begin.
	walkRes := max(0, l.startRes-5)
	b := &builder{l: l, radius: map[int]float64{}, listIDs: map[string]int32{}}
	sample, err := geo.CellAt(all.Center(), walkRes)
	if err != nil {
		return fmt.Errorf("locator: grids' bounds: %w", err)
	}
	// Grow the box by the start cells' reach so that every point of every
	// grid has its ancestor among the cells covering it.
	box := expandBoundM(all, b.radiusAt(sample, walkRes)*reachFactor)
	start, err := geo.PolygonCells(orb.MultiPolygon{box.ToPolygon()}, walkRes, geo.ContainOverlapping)
	if err != nil {
		return fmt.Errorf("locator: cover of the grids' bounds: %w", err)
	}
	// Candidates travel deepest level first, then by code (grid indices
	// follow code order): the order answers are decided in.
	everyone := make([]int32, len(l.grids))
	for i := range everyone {
		everyone[i] = int32(i)
	}
	slices.SortFunc(everyone, func(a, b int32) int {
		if la, lb := l.grids[a].Level, l.grids[b].Level; la != lb {
			return int(lb - la)
		}
		return int(a - b)
	})
	for _, c := range start {
		b.visit(c, walkRes, everyone)
	}
	return nil
}

// chooseStartRes picks the coarsest resolution at which whole cells can still
// fall inside a typical grid of the deepest level: coarser cells would only
// be split again, and every extra resolution costs a map lookup per point.
func (l *Locator) chooseStartRes(deepest Level) int {
	var areas []float64
	for _, i := range l.byLevel[deepest] {
		areas = append(areas, l.grids[i].AreaM2)
	}
	sort.Float64s(areas)
	median := 0.0
	if len(areas) > 0 {
		median = areas[len(areas)/2]
	}
	res := l.opt.IndexRes
	// A cell fits in a grid with room for its reach on every side when the
	// grid is roughly (2·reachFactor)² hexagons of that size.
	for res > 0 && geo.HexAreaAvgM2(res-1)*4*reachFactor*reachFactor <= median {
		res--
	}
	return res
}

type builder struct {
	l       *Locator
	radius  map[int]float64 // sampled circumradius per resolution, metres
	listIDs map[string]int32
}

// radiusAt returns the circumradius of cells at res near c. Cells of one
// resolution differ in size by well under 1% across a city, so one sample per
// resolution, padded by 5%, stands for all of them.
func (b *builder) radiusAt(c geo.Cell, res int) float64 {
	if r, ok := b.radius[res]; ok {
		return r
	}
	ctr := c.Center()
	r := 0.0
	for _, v := range c.Boundary() {
		r = math.Max(r, geo.DistanceM(ctr, v))
	}
	r *= 1.05
	b.radius[res] = r
	return r
}

type nearGrid struct {
	idx       int32
	contained bool // the whole reach of the cell lies inside the grid
}

func (b *builder) visit(c geo.Cell, res int, cands []int32) {
	l := b.l
	ctr := c.Center()
	reach := b.radiusAt(c, res) * reachFactor
	var near []nearGrid
	var coveredAt Level // the level of a grid that covers the whole reach, if any
	for _, i := range cands {
		g := &l.grids[i]
		if g.Level < coveredAt {
			break // a deeper grid answers every point here; shallower ones never will
		}
		if boundDistanceM(g.bound, ctr) > reach {
			continue
		}
		inside := g.poly.Locate(ctr) == geo.Inside
		d := g.poly.DistanceToBoundaryM(ctr)
		if inside || d <= reach {
			contained := inside && d > reach
			near = append(near, nearGrid{idx: i, contained: contained})
			if contained && coveredAt == 0 {
				coveredAt = g.Level
			}
		}
	}
	if len(near) == 0 {
		return // no grid reaches here: points in this cell are outside all grids
	}
	top := l.grids[near[0].idx].Level
	if res >= l.startRes && near[0].contained && (len(near) == 1 || l.grids[near[1].idx].Level != top) {
		l.cells[c] = near[0].idx
		return
	}
	if res == l.opt.IndexRes {
		l.cells[c] = ^b.listID(near)
		return
	}
	next := make([]int32, len(near))
	for i, n := range near {
		next[i] = n.idx
	}
	for _, child := range c.Children(res + 1) {
		b.visit(child, res+1, next)
	}
}

// listID stores a candidate list once and returns its index. Candidates after
// the first one that contains the whole cell can never be reached (the search
// stops at the first covering grid), so they are dropped.
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
