package tiles

import (
	"slices"

	"github.com/paulmach/orb"

	"citygrid/caseindex"
	"citygrid/geo"
	"citygrid/grid"
)

// caseChanged drops the tiles a case change makes stale: in the cases
// layer, the tiles (with buffer) holding its old and new point at point
// zooms and its old and new cluster cells' centres below; in the grids
// layer, the tiles meeting the grids whose counts it changes; every
// hotspot tile, since Gi* standardises by the mean and spread of all
// counts; and so every battlemap tile.
func (s *Service) caseChanged(ch caseindex.Change) {
	s.cache.invalidate(func() {
		if ch.Reset {
			s.cache.dropWhere(func(Key) bool { return true }, Layers...)
			return
		}
		var touched []orb.Bound // of the grids whose counts change, by level
		var levels []grid.Level
		l := s.grids.Locator()
		for _, c := range []*caseindex.Entry{ch.Old, ch.New} {
			if c == nil {
				continue
			}
			var centres [caseindex.MaxRes + 1]*orb.Point // by cluster resolution: zooms share them
			for z := range geo.MaxZoom + 1 {
				at := c.Location
				if z < s.opt.PointZoom {
					res := ClusterRes(uint32(z))
					if centres[res] == nil {
						cell, err := caseindex.Cell(c.Location, res)
						if err != nil {
							continue
						}
						ctr := cell.Center()
						centres[res] = &ctr
					}
					at = *centres[res]
				}
				for _, t := range geo.TilesAt(at, z, Extent, Buffer) {
					s.cache.dropTile(LayerCases, t)
				}
			}
			if l == nil {
				continue
			}
			for _, g := range l.Path(c.Grid) {
				if b, ok := l.Bound(g.Code); ok {
					touched, levels = append(touched, b), append(levels, g.Level)
				}
			}
		}
		s.cache.dropWhere(func(k Key) bool {
			tb := k.Tile.Bound(Extent, Buffer)
			shown := gridLevels(k.Tile.Z, k.Level)
			for i, b := range touched {
				if slices.Contains(shown, levels[i]) && b.Intersects(tb) {
					return true
				}
			}
			return false
		}, LayerGrids)
		s.cache.dropWhere(func(Key) bool { return true }, LayerHotspots, LayerBattlemap)
	})
}

// followGrids compares the grid index with the one the cache was drawn
// from and, when it is new, drops the grid tiles meeting every grid that
// was added, removed or changed (and every hotspot tile if the district
// itself changed: it is the hotspots' study area).
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
	})
}

// sameDrawing reports whether a grid tile would draw a and b alike.
func sameDrawing(a, b *grid.Grid) bool {
	return a.Name == b.Name && a.Level == b.Level && a.Parent == b.Parent && a.Unit == b.Unit &&
		orb.Equal(a.Geometry, b.Geometry)
}
