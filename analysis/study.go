package analysis

import (
	"slices"
	"strings"
	"sync"

	"github.com/paulmach/orb"

	"citygrid"
	"citygrid/geo"
	"citygrid/grid"
	"citygrid/hotspot"
)

// Study is the set of cells an analysis runs over: every cell at the
// resolution whose centre lies inside the area, with each cell's true area.
// The area is the district's top-level grids, or, for a caller restricted
// to some grids (Filter.Restriction), the union of those grids: a street's
// planner gets its street's cells as the Gi* background, not the
// district's cells it cannot see (whose zero counts would make every busy
// cell of its street look hot). A unit or source restriction leaves the
// area the district's and only cuts the counts. Shared and read-only once
// built.
type Study struct {
	Res    int
	Cells  []geo.Cell
	AreaM2 []float64
	// Area lists the grids whose cells these are: the top-level grids, or
	// the outermost grids of a restriction.
	Area []string
	pos  map[geo.Cell]int32
	nb   map[int]hotspot.Neighbours // gridDisk(k) neighbours in the study, by k
}

// maxStudies bounds the studies kept per locator: one per resolution and
// distinct scope asked for.
const maxStudies = 256

// studyCache keeps studies per locator (grids change → new locator),
// resolution and area: they cost a polygon-to-cells and a ring per cell to
// build.
type studyCache struct {
	mu      sync.Mutex
	locator *grid.Locator
	studies map[studyKey]*Study
}

type studyKey struct {
	res  int
	area string // "" for the district, else \x01 and the area's grid codes, sorted, joined by NUL
}

// areaOf returns the outermost grids of a restriction's grid set (those
// whose parent is not in it), sorted: the grids whose union is the set's
// ground. Nil grids (no restriction) give the district's top level.
func areaOf(l *grid.Locator, grids []string) []*grid.Grid {
	if grids == nil {
		return l.TopLevel()
	}
	in := make(map[string]bool, len(grids))
	for _, c := range grids {
		in[c] = true
	}
	var out []*grid.Grid
	for _, c := range grids {
		if g, ok := l.Grid(c); ok && (g.Parent == "" || !in[g.Parent]) {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b *grid.Grid) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// study returns the study area at res over the grids of a restriction
// (nil: the district) with its neighbours for k ready.
func (s *Service) study(res, k int, grids []string) (*Study, error) {
	l := s.grids.Locator()
	if l == nil {
		return nil, citygrid.Errorf(citygrid.CodeUnavailable, "the grid index is still being built")
	}
	area := areaOf(l, grids)
	codes := make([]string, len(area))
	for i, g := range area {
		codes[i] = g.Code
	}
	key := studyKey{res: res}
	if grids != nil {
		// Marked, so that a restriction to no grid at all is not the
		// district.
		key.area = "\x01" + strings.Join(codes, "\x00")
	}
	c := &s.studies
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.locator != l || len(c.studies) >= maxStudies {
		c.locator, c.studies = l, map[studyKey]*Study{}
	}
	st := c.studies[key]
	if st == nil {
		var mp orb.MultiPolygon
		for _, g := range area {
			mp = append(mp, g.MultiPolygon()...)
		}
		cells, err := geo.PolygonCells(mp, res, geo.ContainCenter)
		if err != nil {
			return nil, err
		}
		st = &Study{Res: res, Cells: cells, Area: codes, pos: make(map[geo.Cell]int32, len(cells)), AreaM2: make([]float64, len(cells)), nb: map[int]hotspot.Neighbours{}}
		for i, cell := range cells {
			st.pos[cell] = int32(i)
			st.AreaM2[i] = cell.AreaM2()
		}
		c.studies[key] = st
	}
	if _, ok := st.nb[k]; !ok {
		nb := make(hotspot.Neighbours, len(st.Cells))
		for i, cell := range st.Cells {
			for _, n := range cell.Disk(k) {
				if j, ok := st.pos[n]; ok && int(j) != i {
					nb[i] = append(nb[i], j)
				}
			}
		}
		st.nb[k] = nb
	}
	if len(st.Cells) < MinStudyCells {
		if grids != nil {
			return nil, citygrid.Errorf(citygrid.CodeInvalid, "the study area (the grids of your scope) has %d cells at resolution %d; at least %d are needed for the statistics to mean anything: ask for a finer resolution (res=)", len(st.Cells), res, MinStudyCells)
		}
		return nil, citygrid.Errorf(citygrid.CodeInvalid, "the study area has %d cells at resolution %d; at least %d are needed for the statistics to mean anything", len(st.Cells), res, MinStudyCells)
	}
	return st, nil
}
