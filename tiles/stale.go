package tiles

import (
	"encoding/json"
	"slices"

	"github.com/paulmach/orb"

	"citygrid/caseindex"
	"citygrid/geo"
	"citygrid/grid"
)

// TileRange is an inclusive range of tiles at one zoom. In the grids layer
// it carries the level of the grid whose counts changed: a tile is stale
// only where it shows that level.
type TileRange struct {
	Z                      uint32
	MinX, MaxX, MinY, MaxY uint32
	Level                  grid.Level // grids layer only
}

// Contains reports whether t lies in the range.
func (r TileRange) Contains(t geo.Tile) bool {
	return t.Z == r.Z && t.X >= r.MinX && t.X <= r.MaxX && t.Y >= r.MinY && t.Y <= r.MaxY
}

func (r TileRange) MarshalJSON() ([]byte, error) {
	out := map[string]any{"z": r.Z, "x": [2]uint32{r.MinX, r.MaxX}, "y": [2]uint32{r.MinY, r.MaxY}}
	if r.Level.Valid() {
		out["level"] = r.Level
	}
	return json.Marshal(out)
}

// Stale is what one case change makes stale: ranges of tiles per layer, and
// layers stale everywhere. The server's cache drops exactly these, and live
// events carry them, so that every replica and every browser refreshes the
// same tiles.
type Stale struct {
	Cases, Grids []TileRange
	// Everywhere lists the layers stale as a whole: hotspots (Gi*
	// standardises by the mean and spread of all counts) and so battlemap;
	// every layer after a reload.
	Everywhere []string
	// sides are the ranges of the old and of the new case alone (nil
	// when there is no such side), for a stream that sees one side only.
	sides [2]*Stale
}

// Side is what the change made stale on one side of it, the old case's
// (old true) or the new one's: a stream that saw the case leave its scope,
// or enter it, must not learn where it went or where it came from. A side
// the change does not have is null.
func (st Stale) Side(old bool) json.Marshaler {
	i := 1
	if old {
		i = 0
	}
	if st.sides[i] == nil {
		return json.RawMessage("null")
	}
	return *st.sides[i]
}

// MarshalJSON writes {"cases":[ranges],"grids":[ranges],"hotspots":"all",…}.
func (st Stale) MarshalJSON() ([]byte, error) {
	out := map[string]any{}
	for _, l := range st.Everywhere {
		out[l] = "all"
	}
	if _, all := out[LayerCases]; !all {
		out[LayerCases] = nonNil(st.Cases)
	}
	if _, all := out[LayerGrids]; !all {
		out[LayerGrids] = nonNil(st.Grids)
	}
	return json.Marshal(out)
}

func nonNil(r []TileRange) []TileRange {
	if r == nil {
		return []TileRange{}
	}
	return r
}

// StaleAfter computes what a case change makes stale, from the change and
// the grid map alone: in the cases layer, the tiles (with buffer) holding
// its old and new point at point zooms and its old and new cluster cells'
// centres below; in the grids layer, at every zoom, the tiles meeting each
// grid on the old and new grid's path (their subtree counts change); the
// hotspot and battlemap layers everywhere. A reset (a reload) makes every
// layer stale.
func StaleAfter(ch caseindex.Change, l *grid.Locator, pointZoom int) Stale {
	if ch.Reset {
		return Stale{Everywhere: Layers}
	}
	everywhere := []string{LayerHotspots, LayerBattlemap}
	st := Stale{Everywhere: everywhere}
	for i, c := range []*caseindex.Entry{ch.Old, ch.New} {
		if c == nil {
			continue
		}
		side := staleOf(c, l, pointZoom)
		side.Everywhere = everywhere
		st.sides[i] = &side
		// Old and new in the same tiles, or on the same grids' paths:
		// each range once.
		for _, r := range side.Cases {
			st.Cases = appendRange(st.Cases, r)
		}
		for _, r := range side.Grids {
			st.Grids = appendRange(st.Grids, r)
		}
	}
	return st
}

// staleOf is what one side of a change (a case as it was, or as it is)
// makes stale in the cases and grids layers.
func staleOf(c *caseindex.Entry, l *grid.Locator, pointZoom int) Stale {
	var st Stale
	var centres [caseindex.MaxRes + 1]*orb.Point // by cluster resolution: zooms share them
	for z := range geo.MaxZoom + 1 {
		at := c.Location
		if z < pointZoom {
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
		if r, ok := rangeOf(geo.TilesAt(at, z, Extent, Buffer)); ok {
			st.Cases = appendRange(st.Cases, r)
		}
	}
	if l == nil {
		return st
	}
	for _, g := range l.Path(c.Grid) {
		if b, ok := l.Bound(g.Code); ok {
			st.Grids = append(st.Grids, boundRanges(b, g.Level)...)
		}
	}
	return st
}

// boundRanges lists, per zoom, the tiles whose buffered extent meets b.
func boundRanges(b orb.Bound, level grid.Level) []TileRange {
	out := make([]TileRange, 0, geo.MaxZoom+1)
	for z := range geo.MaxZoom + 1 {
		// A tile's buffer is Buffer/Extent of its width: grow b by that
		// much at this zoom, then take the tiles under it.
		// A degree of latitude never spans more of a Mercator tile than a
		// degree of longitude, so pad serves for both (a little more
		// than enough).
		pad := 360 / float64(uint64(1)<<z) * Buffer / Extent
		grown := orb.Bound{Min: orb.Point{b.Min[0] - pad, b.Min[1] - pad}, Max: orb.Point{b.Max[0] + pad, b.Max[1] + pad}}
		if r, ok := rangeOf(geo.TilesCovering(grown, z)); ok {
			r.Level = level
			out = append(out, r)
		}
	}
	return out
}

// rangeOf is the smallest range holding ts (all at one zoom).
func rangeOf(ts []geo.Tile) (TileRange, bool) {
	if len(ts) == 0 {
		return TileRange{}, false
	}
	r := TileRange{Z: ts[0].Z, MinX: ts[0].X, MaxX: ts[0].X, MinY: ts[0].Y, MaxY: ts[0].Y}
	for _, t := range ts[1:] {
		r.MinX, r.MaxX = min(r.MinX, t.X), max(r.MaxX, t.X)
		r.MinY, r.MaxY = min(r.MinY, t.Y), max(r.MaxY, t.Y)
	}
	return r, true
}

// appendRange adds r unless the list already holds it (old and new
// position in the same tiles).
func appendRange(rs []TileRange, r TileRange) []TileRange {
	for _, have := range rs {
		if have == r {
			return rs
		}
	}
	return append(rs, r)
}

// CaseChanged drops the cached tiles a case change makes stale and returns
// them (see StaleAfter).
func (s *Service) CaseChanged(ch caseindex.Change) Stale {
	st := StaleAfter(ch, s.grids.Locator(), s.opt.PointZoom)
	s.cache.invalidate(func() {
		for _, r := range st.Cases {
			for x := r.MinX; x <= r.MaxX; x++ {
				for y := r.MinY; y <= r.MaxY; y++ {
					s.cache.dropTile(LayerCases, geo.Tile{Z: r.Z, X: x, Y: y})
				}
			}
		}
		if len(st.Grids) > 0 {
			s.cache.dropWhere(func(k Key) bool {
				shown := gridLevels(k.Tile.Z, k.Level)
				for _, r := range st.Grids {
					if r.Contains(k.Tile) && slices.Contains(shown, r.Level) {
						return true
					}
				}
				return false
			}, LayerGrids)
		}
		s.cache.dropWhere(func(Key) bool { return true }, st.Everywhere...)
	})
	return st
}
