package tiles

import (
	"github.com/paulmach/orb"

	"citygrid/grid"
)

// followGrids compares the grid index with the one the cache was drawn
// from and, when it is new, drops the grid tiles meeting every grid that
// was added, removed or changed (and every hotspot tile if the district
// itself changed: it is the hotspots' study area). Any change drops every
// scoped tile too: a scope is a set of subtrees, and a grid added, moved
// or removed changes which cases, grids and study cells it holds (grid
// imports are rare; a scope's tiles are cheap to draw again).
func (s *Service) followGrids(l *grid.Locator) {
	s.mu.Lock()
	old := s.locator
	s.locator = l
	s.mu.Unlock()
	if old == nil || old == l {
		return
	}
	var changed []orb.Bound
	top := false
	note := func(loc *grid.Locator, g *grid.Grid) {
		if b, ok := loc.Bound(g.Code); ok {
			changed = append(changed, b)
		}
		top = top || g.Parent == ""
	}
	for _, level := range grid.Levels {
		l.AtLevel(level, func(g *grid.Grid, _ orb.Bound) {
			if before, ok := old.Grid(g.Code); !ok || !sameDrawing(before, g) {
				note(l, g)
				if ok {
					note(old, before)
				}
			}
		})
		old.AtLevel(level, func(g *grid.Grid, _ orb.Bound) {
			if _, ok := l.Grid(g.Code); !ok {
				note(old, g)
			}
		})
	}
	s.cache.invalidate(func() {
		s.cache.dropWhere(func(k Key) bool {
			tb := k.Tile.Bound(Extent, Buffer)
			for _, b := range changed {
				if b.Intersects(tb) {
					return true
				}
			}
			return false
		}, LayerGrids, LayerBattlemap)
		if top {
			s.cache.dropWhere(func(Key) bool { return true }, LayerHotspots, LayerBattlemap)
		}
		if len(changed) > 0 || top {
			s.cache.dropWhere(func(k Key) bool { return k.Scope != "all" }, Layers...)
		}
	})
}

// sameDrawing reports whether a grid tile would draw a and b alike.
func sameDrawing(a, b *grid.Grid) bool {
	return a.Name == b.Name && a.Level == b.Level && a.Parent == b.Parent && a.Unit == b.Unit &&
		orb.Equal(a.Geometry, b.Geometry)
}
