package tiles

import (
	"hash/fnv"
	"time"

	"github.com/paulmach/orb"

	"citygrid/access"
	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/geo"
	"citygrid/grid"
)

// gridLoads are the open and overdue-now counts of every grid with its whole
// subtree, for one case-index version and grid index, valid until the
// earliest deadline among them passes.
type gridLoads struct {
	version uint64
	locator *grid.Locator
	until   time.Time
	byCode  map[string]*caseindex.CellLoad
}

// loadsKey is what a grid's counts depend on besides the data: the unit
// and source a scope keeps. Its grids do not matter: a grid in a scope has
// its whole subtree in it, so its counts are everybody's, and a grid
// above it shows none.
type loadsKey struct{ unit, source string }

// maxLoads bounds the kept counts: one set per unit and source asked.
const maxLoads = 64

// loadsFor returns the subtree counts of the cases r allows (by its unit
// and source), computing them when the cases, the grids or the clock have
// moved on.
func (s *Service) loadsFor(l *grid.Locator, now time.Time, r cases.Restriction) map[string]*caseindex.CellLoad {
	version := s.cases.Version()
	key := loadsKey{r.Unit, r.Source}
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.loads[key]; g != nil && g.version == version && g.locator == l && (g.until.IsZero() || now.Before(g.until)) {
		return g.byCode
	}
	direct := s.cases.ByGridMatching(caseindex.Filter{Restriction: cases.Restriction{Unit: r.Unit, Source: r.Source}}, now)
	rolled := make(map[string]*caseindex.CellLoad, len(direct))
	var until time.Time
	for code, load := range direct {
		for _, g := range l.Path(code) {
			r := rolled[g.Code]
			if r == nil {
				r = &caseindex.CellLoad{}
				rolled[g.Code] = r
			}
			r.Count += load.Count
			for i, n := range load.ByStatus {
				r.ByStatus[i] += n
			}
			r.Overdue += load.Overdue
			if load.NextDue != 0 && (r.NextDue == 0 || load.NextDue < r.NextDue) {
				r.NextDue = load.NextDue
			}
		}
		until = earliest(until, load.NextDue)
	}
	if s.loads == nil || len(s.loads) >= maxLoads {
		s.loads = map[loadsKey]*gridLoads{}
	}
	s.loads[key] = &gridLoads{version: version, locator: l, until: until, byCode: rolled}
	return rolled
}

// open counts the open cases of a load.
func open(load *caseindex.CellLoad) int {
	n := 0
	for i, st := range cases.Statuses {
		if st.Open() {
			n += load.ByStatus[i]
		}
	}
	return n
}

// gridLevels is what a grids tile shows: the asked level or the zoom's.
func gridLevels(z uint32, asked grid.Level) []grid.Level {
	if asked.Valid() {
		return []grid.Level{asked}
	}
	return LevelsAt(z)
}

// gridsLayer draws the grids of the zoom's (or the asked) level that the
// scope shows: those in it with their unit and counts (of its cases),
// those above it as outlines (code, name and level only: the counts and
// unit of a street are not a community's to see), none beside it.
func (s *Service) gridsLayer(l *grid.Locator, t geo.Tile, p Params, now time.Time) (*layerWriter, time.Time, bool) {
	lw := newLayer(LayerGrids, Extent)
	k := lw.fields("code", "name", "level", "unit", "open", "overdue_now")
	loads := s.loadsFor(l, now, p.Filter.Restriction)
	pr := geo.NewProjector(t, Extent)
	bound := t.Bound(Extent, Buffer)
	var expires time.Time
	capped := false
	for _, level := range gridLevels(t.Z, p.Level) {
		l.AtLevel(level, func(g *grid.Grid, b orb.Bound) {
			if capped || !b.Intersects(bound) {
				return
			}
			shown := access.Full
			if p.Scope != nil {
				if shown = p.Scope.Grid(g.Code); shown == access.Absent {
					return
				}
			}
			rings := tilePolygon(g.MultiPolygon(), pr, -Buffer, Extent+Buffer)
			if rings == nil {
				return
			}
			if lw.count == s.opt.MaxFeatures {
				capped = true
				return
			}
			lw.tag(k[0], str(g.Code))
			lw.tag(k[1], str(g.Name))
			lw.tag(k[2], str(g.Level.String()))
			if shown == access.Full {
				openCount, overdue := 0, 0
				if load := loads[g.Code]; load != nil {
					openCount, overdue = open(load), load.Overdue
					expires = earliest(expires, load.NextDue)
				}
				lw.tag(k[3], str(g.Unit))
				lw.tag(k[4], intValue(openCount))
				lw.tag(k[5], intValue(overdue))
			}
			lw.polygon(gridFeatureID(g.Code), rings)
		})
	}
	return lw, expires, capped
}

// gridFeatureID is a stable id for a grid code, under 2^53 for JavaScript.
func gridFeatureID(code string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(code))
	return h.Sum64() & (1<<53 - 1)
}
