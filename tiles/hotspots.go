package tiles

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/paulmach/orb"

	"citygrid/geo"
	"citygrid/grid"
)

// hotResult is one analysis with the cells' boundaries, shared by every
// tile of the same query while the cases are unchanged.
type hotResult struct {
	cells  []HotCell
	rings  []orb.Ring
	bounds []orb.Bound
}

// hotQuery resolves a tile's hotspot parameters: the resolution by zoom
// unless asked, the default k, and, when no window is given, the default
// span up to the end of the current hour (so the tile holds for the hour).
func (s *Service) hotQuery(z uint32, p Params, now time.Time) (HotspotQuery, time.Time) {
	q := HotspotQuery{Res: p.Res, K: p.K, Filter: p.Filter, FDR: !p.NoFDR}
	if q.Res == 0 {
		q.Res = HotspotRes(z)
	}
	if q.K == 0 {
		q.K = s.opt.HotspotK
	}
	var expires time.Time
	if q.Filter.To.IsZero() {
		q.Filter.To = now.Truncate(time.Hour).Add(time.Hour)
		expires = q.Filter.To
	}
	if q.Filter.From.IsZero() {
		q.Filter.From = q.Filter.To.Add(-s.opt.HotspotSpan)
	}
	return q, expires
}

// hotCells runs (or recalls) the analysis of q for the scope named
// scopeKey (q.Filter carries its restriction).
func (s *Service) hotCells(ctx context.Context, l *grid.Locator, q HotspotQuery, scopeKey string) (*hotResult, error) {
	key := fmt.Sprintf("%s/%d/%d/%t/%s", scopeKey, q.Res, q.K, q.FDR, Params{Filter: q.Filter}.variant(LayerCases))
	version := s.cases.Version()
	s.mu.Lock()
	if s.hotMemoAt != version || s.hotMemoLoc != l || s.hotMemo == nil {
		s.hotMemo, s.hotMemoAt, s.hotMemoLoc = map[string]*hotResult{}, version, l
	}
	r := s.hotMemo[key]
	s.mu.Unlock()
	if r != nil {
		return r, nil
	}
	cells, err := s.hotspots(ctx, q)
	if err != nil {
		return nil, err
	}
	r = &hotResult{cells: cells, rings: make([]orb.Ring, len(cells)), bounds: make([]orb.Bound, len(cells))}
	for i, c := range cells {
		r.rings[i] = c.Cell.Boundary()
		r.bounds[i] = r.rings[i].Bound()
	}
	s.mu.Lock()
	if s.hotMemoAt == version && s.hotMemoLoc == l {
		s.hotMemo[key] = r
	}
	s.mu.Unlock()
	return r, nil
}

// hotspotsLayer draws the analysed cells that have cases or a class: for a
// scope, the analysis over its grids and cases (as /v1/hotspots answers it).
func (s *Service) hotspotsLayer(ctx context.Context, l *grid.Locator, t geo.Tile, p Params, now time.Time) (*layerWriter, time.Time, bool, error) {
	q, expires := s.hotQuery(t.Z, p, now)
	r, err := s.hotCells(ctx, l, q, p.scopeKey())
	if err != nil {
		return nil, time.Time{}, false, err
	}
	lw := newLayer(LayerHotspots, Extent)
	k := lw.fields("h3", "count", "density_km2", "gi_z", "gi_class")
	pr := geo.NewProjector(t, Extent)
	bound := t.Bound(Extent, Buffer)
	for i, c := range r.cells {
		if (c.Count == 0 && c.Class == "none") || !r.bounds[i].Intersects(bound) {
			continue
		}
		rings := tilePolygon(orb.MultiPolygon{{r.rings[i]}}, pr, -Buffer, Extent+Buffer)
		if rings == nil {
			continue
		}
		if lw.count == s.opt.MaxFeatures {
			return lw, expires, true, nil
		}
		lw.tag(k[0], str(c.Cell.String()))
		lw.tag(k[1], integer(int64(c.Count)))
		lw.tag(k[2], double(round3(c.DensityKM2)))
		lw.tag(k[3], double(round3(c.GiZ)))
		lw.tag(k[4], str(c.Class))
		lw.polygon(featureID(c.Cell), rings)
	}
	return lw, expires, false, ctx.Err()
}

// round3 keeps three decimals: enough for a map, and it lets equal-looking
// values share one entry of the layer's value table.
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
