package tiles

import (
	"cmp"
	"context"
	"math"
	"slices"
	"time"

	"citygrid/cases"
	"citygrid/geo"
)

// casesLayer draws single cases from PointZoom and clusters below it.
func (s *Service) casesLayer(ctx context.Context, t geo.Tile, p Params, now time.Time) (*layerWriter, time.Time, bool, error) {
	if int(t.Z) >= s.opt.PointZoom {
		lw, exp, capped := s.casePoints(t, p, now)
		return lw, exp, capped, ctx.Err()
	}
	lw, exp, capped := s.caseClusters(t, p, now)
	return lw, exp, capped, ctx.Err()
}

// casePoints draws every matching case in the buffered tile; past
// MaxFeatures the newest are kept. age_hours counts whole hours up to the
// start of the current hour, so a tile's bytes (and ETag) hold for the
// hour, the same on every replica.
func (s *Service) casePoints(t geo.Tile, p Params, now time.Time) (*layerWriter, time.Time, bool) {
	cs, capped := s.cases.NewestUpTo(t.Bound(Extent, Buffer), p.Filter, s.opt.MaxFeatures)
	slices.Reverse(cs) // oldest first, so that the newest are drawn on top

	asOf := now.Truncate(time.Hour)
	expires := asOf.Add(time.Hour)
	pr := geo.NewProjector(t, Extent)
	lw := newLayer(LayerCases, Extent)
	lw.expect(len(cs))
	k := lw.fields("id", "category", "status", "priority", "overdue_now", "unit", "grid", "age_hours")
	for _, c := range cs {
		overdue := c.Overdue(now)
		if c.Status.Open() && !c.DueAt.IsZero() && !overdue {
			expires = earliest(expires, c.DueAt.Unix())
		}
		lw.tagUnique(k[0], integer(c.ID)) // ids are unique
		lw.tag(k[1], str(c.Category))
		lw.tag(k[2], str(string(c.Status)))
		lw.tag(k[3], intValue(c.Priority))
		lw.tag(k[4], boolean(overdue))
		lw.tag(k[5], str(c.Unit))
		lw.tag(k[6], str(c.Grid))
		lw.tag(k[7], integer(max(0, int64(asOf.Sub(c.ReportedAt)/time.Hour))))
		x, y := pr.Project(c.Location)
		lw.point(uint64(c.ID), int32(math.Round(x)), int32(math.Round(y)))
	}
	return lw, expires, capped
}

// caseClusters draws one point per H3 cell at ClusterRes(z) holding
// matching cases, at the cell's centre: a cluster belongs to exactly the
// tile (and buffer) its centre falls in, so clusters sum to the total over
// a zoom and a case change touches known tiles.
func (s *Service) caseClusters(t geo.Tile, p Params, now time.Time) (*layerWriter, time.Time, bool) {
	bound := t.Bound(Extent, Buffer)
	loads := s.cases.Clusters(ClusterRes(t.Z), func(c geo.Cell) bool { return bound.Contains(c.Center()) }, p.Filter, now)
	cells := make([]geo.Cell, 0, len(loads))
	for c := range loads {
		cells = append(cells, c)
	}
	slices.Sort(cells)
	capped := len(cells) > s.opt.MaxFeatures
	if capped {
		// The busiest clusters matter most.
		slices.SortStableFunc(cells, func(a, b geo.Cell) int { return cmp.Compare(loads[b].Count, loads[a].Count) })
		cells = cells[:s.opt.MaxFeatures]
		slices.Sort(cells)
	}
	pr := geo.NewProjector(t, Extent)
	lw := newLayer(LayerCases, Extent)
	k := lw.fields("cluster", "count", "h3", "overdue_now")
	byStatus := make([]uint32, len(cases.Statuses))
	for i, st := range cases.Statuses {
		byStatus[i] = lw.key(string(st))
	}
	var expires time.Time
	for _, c := range cells {
		load := loads[c]
		expires = earliest(expires, load.NextDue)
		lw.tag(k[0], boolean(true))
		lw.tag(k[1], intValue(load.Count))
		lw.tag(k[2], str(c.String()))
		lw.tag(k[3], intValue(load.Overdue))
		for i, key := range byStatus {
			lw.tag(key, intValue(load.ByStatus[i]))
		}
		x, y := pr.Project(c.Center())
		lw.point(featureID(c), int32(math.Round(x)), int32(math.Round(y)))
	}
	return lw, expires, capped
}
