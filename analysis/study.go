package analysis

import (
	"sync"

	"github.com/paulmach/orb"

	"citygrid"
	"citygrid/geo"
	"citygrid/grid"
	"citygrid/hotspot"
)

// Study is the set of cells an analysis runs over: every cell at the
// resolution whose centre lies inside the district's top-level grids, with
// each cell's true area. Shared and read-only once built.
type Study struct {
	Res    int
	Cells  []geo.Cell
	AreaM2 []float64
	pos    map[geo.Cell]int32
	nb     map[int]hotspot.Neighbours // gridDisk(k) neighbours in the study, by k
}

// studyCache keeps studies per locator (grids change → new locator) and
// resolution: they cost a polygon-to-cells and a ring per cell to build.
type studyCache struct {
	mu      sync.Mutex
	locator *grid.Locator
	byRes   map[int]*Study
}

// study returns the study area at res with its neighbours for k ready.
func (s *Service) study(res, k int) (*Study, error) {
	l := s.grids.Locator()
	if l == nil {
		return nil, citygrid.Errorf(citygrid.CodeUnavailable, "the grid index is still being built")
	}
	c := &s.studies
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.locator != l {
		c.locator, c.byRes = l, map[int]*Study{}
	}
	st := c.byRes[res]
	if st == nil {
		var mp orb.MultiPolygon
		for _, g := range l.TopLevel() {
			mp = append(mp, g.MultiPolygon()...)
		}
		cells, err := geo.PolygonCells(mp, res, geo.ContainCenter)
		if err != nil {
			return nil, err
		}
		st = &Study{Res: res, Cells: cells, pos: make(map[geo.Cell]int32, len(cells)), AreaM2: make([]float64, len(cells)), nb: map[int]hotspot.Neighbours{}}
		for i, cell := range cells {
			st.pos[cell] = int32(i)
			st.AreaM2[i] = cell.AreaM2()
		}
		c.byRes[res] = st
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
		return nil, citygrid.Errorf(citygrid.CodeInvalid, "the study area has %d cells at resolution %d; at least %d are needed for the statistics to mean anything", len(st.Cells), res, MinStudyCells)
	}
	return st, nil
}
