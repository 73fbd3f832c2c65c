package postgres

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/geo"
	"citygrid/grid"
)

// caseQuery assembles a case query from fixed SQL fragments; every value is
// a bound parameter. Fragments are constants of this file: nothing from a
// request is ever written into the SQL text.
type caseQuery struct {
	where []string
	args  []any
}

func (q *caseQuery) arg(v any) string {
	q.args = append(q.args, v)
	return fmt.Sprintf("$%d", len(q.args))
}

func (q *caseQuery) add(format string, values ...any) {
	params := make([]any, len(values))
	for i, v := range values {
		params[i] = q.arg(v)
	}
	q.where = append(q.where, fmt.Sprintf(format, params...))
}

// gridSubtreeSQL lists a grid and everything under it.
const gridSubtreeSQL = `c.grid IN (
    WITH RECURSIVE t AS (
        SELECT code FROM grids WHERE code = %s
        UNION ALL
        SELECT g.code FROM grids g JOIN t ON g.parent = t.code)
    SELECT code FROM t)`

// sphereDistanceSQL is the distance in metres from a case to a geography
// point (%s): great-circle on PostGIS's mean sphere (geo.EarthRadiusM), the
// one metric of radius queries and duplicate searches. It is the geography
// index's KNN operator, so the index orders by exactly the distance
// reported; ST_Distance(…, false) is the same sphere but rounds to 1e-8 m
// and, called per row, doubled a radius query's time.
const sphereDistanceSQL = `(c.geom::geography <-> %s)`

// sphereWithinSQL keeps the cases within a radius (%[2]s) of a point
// (%[1]s) by sphereDistanceSQL; ST_DWithin, on the same sphere and a
// millimetre wider (%[3]s), is only there to let the geography index rule
// rows out.
const sphereWithinSQL = `ST_DWithin(c.geom::geography, %[1]s, %[3]s, false) AND (c.geom::geography <-> %[1]s) <= %[2]s`

// openStatusSQL matches the statuses whose deadline runs, as defined once
// in SQL by migration 005 (cases.Status.Open in Go).
const openStatusSQL = `case_status_open(c.status)`

// addRestriction cuts a query to the caller's part of the district. In a
// cell-by-cell walk the grid test is an expression no index serves: given
// an indexable one, the planner reads the scope's grids through the grid
// index instead of walking each cell newest first and stopping at the page
// (area queries under a street's scope ran at half the admin's rate).
func addRestriction(q *caseQuery, r cases.Restriction, walk bool) {
	switch {
	case r.Grids != nil && walk:
		q.add("COALESCE(c.grid, '') = ANY(%s::text[])", r.Grids)
	case r.Grids != nil:
		q.add("c.grid = ANY(%s::text[])", r.Grids)
	}
	if r.Unit != "" {
		q.add("c.unit = %s", r.Unit)
	}
	if r.Source != "" {
		q.add("c.source = %s", r.Source)
	}
}

// FindCases returns the cases matching f, newest first (nearest first for a
// radius query), at most f.Limit of them, after the cursor f.After. For a
// radius query the second result holds each case's distance in metres.
func (s *CaseStore) FindCases(ctx context.Context, f cases.Filter) ([]*cases.Case, []float64, error) {
	if !hasFineCells(f.Area.Cells) {
		return s.findCases(ctx, f)
	}
	// SQL cannot tell which cell finer than the stored one holds a point,
	// only that the point lies near the cell's outline: read that superset
	// page by page and keep the cases the case index's own cell rule puts
	// in the cells asked for, so that an h3= query returns exactly the cases
	// hotspots and map clusters count there.
	var out []*cases.Case
	page := f
	for {
		got, _, err := s.findCases(ctx, page)
		if err != nil {
			return nil, nil, err
		}
		for _, c := range got {
			if inAnyCell(c.Location, f.Area.Cells) {
				out = append(out, c)
				if len(out) == f.Limit {
					return out, nil, nil
				}
			}
		}
		if len(got) < page.Limit {
			return out, nil, nil
		}
		last := got[len(got)-1]
		page.After = &cases.Cursor{ReportedAt: last.ReportedAt, ID: last.ID}
	}
}

func hasFineCells(cells []geo.Cell) bool {
	return slices.ContainsFunc(cells, func(c geo.Cell) bool { return c.Resolution() > grid.CellRes })
}

// inAnyCell reports whether the case index counts a case at p in one of
// cells.
func inAnyCell(p orb.Point, cells []geo.Cell) bool {
	for _, c := range cells {
		if at, err := caseindex.Cell(p, c.Resolution()); err == nil && at == c {
			return true
		}
	}
	return false
}

// fineCellMarginDeg widens a fine cell's outline for the SQL superset: H3
// edges are great-circle arcs, the outline's are straight in degrees, and
// they part by well under a millimetre at resolutions 10 and finer.
const fineCellMarginDeg = 1e-6

// filterConditions adds f's conditions but the keyset position to q: the
// area, the filters and the caller's restriction. It returns the distance
// expression (NULL for other areas than Near) and the area's covering
// cells (nil unless the area is walked cell by cell).
func (s *CaseStore) filterConditions(q *caseQuery, f cases.Filter) (distance string, inner, edge []int64, err error) {
	a := f.Area
	distance, pt := "NULL::float8", ""
	switch {
	case a.Bound != nil:
		// Plain comparisons: exact, edges included, and no index to lure
		// the planner away from the cell walk.
		q.add("ST_X(c.geom) BETWEEN %s AND %s AND ST_Y(c.geom) BETWEEN %s AND %s", a.Bound.Min[0], a.Bound.Max[0], a.Bound.Min[1], a.Bound.Max[1])
	case a.Near != nil:
		// One metric for the radius test, the distance reported and the
		// order: great-circle metres on PostGIS's sphere, which geo
		// measures too. On the spheroid (ST_DWithin's default) a case
		// 300.33 m away on the sphere passed a 300 m test.
		pt = fmt.Sprintf("ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography", q.arg(a.Near[0]), q.arg(a.Near[1]))
		q.where = append(q.where, fmt.Sprintf(sphereWithinSQL, pt, q.arg(a.RadiusM)+"::float8", q.arg(a.RadiusM+0.001)+"::float8"))
		distance = fmt.Sprintf(sphereDistanceSQL, pt)
	case a.Grid != "":
		q.add(gridSubtreeSQL, a.Grid)
	case len(a.Cells) > 0:
		q.where = append(q.where, s.cellCondition(q, a.Cells))
	case len(a.Polygon) > 0:
		b, err := wkb.Marshal(a.Polygon)
		if err != nil {
			return "", nil, nil, err
		}
		q.add("ST_Intersects(c.geom, ST_GeomFromWKB(%s, 4326))", b)
	case a.All:
		q.where = append(q.where, "TRUE") // bounded by its other filters (Open311's time window)
	default:
		return "", nil, nil, fmt.Errorf("no area")
	}
	if len(f.Statuses) > 0 {
		st := make([]string, len(f.Statuses))
		for i, v := range f.Statuses {
			st[i] = string(v)
		}
		q.add("c.status = ANY(%s)", st)
	}
	if len(f.Categories) > 0 {
		q.add("c.category ^@ ANY(%s::text[])", f.Categories) // starts with any
	}
	if f.Unit != "" {
		q.add("c.unit = %s", f.Unit)
	}
	if f.Source != "" {
		q.add("c.source = %s", f.Source)
	}
	if f.Campaign != 0 { // campaigns, issue 18
		q.add("EXISTS (SELECT 1 FROM campaigns k WHERE k.id = %s AND campaign_covers(k, c))", f.Campaign)
	}
	inner, edge = s.coveringCells(a)
	addRestriction(q, f.Restrict, inner != nil || edge != nil)
	if f.From != nil {
		q.add("c.reported_at >= %s", *f.From)
	}
	if f.To != nil {
		q.add("c.reported_at < %s", *f.To)
	}
	if f.OverdueNow != nil {
		// cases.Case.Overdue in SQL; due_at and status are NOT NULL, so
		// the negation is exact.
		cond := "(" + openStatusSQL + " AND c.paused_at IS NULL AND c.due_at < %s)"
		if !*f.OverdueNow {
			cond = "NOT " + cond
		}
		q.add(cond, f.Now)
	}
	// Open311 (issue 15): updated_at bounds.
	if f.UpdatedFrom != nil {
		q.add("c.updated_at >= %s", *f.UpdatedFrom)
	}
	if f.UpdatedTo != nil {
		q.add("c.updated_at < %s", *f.UpdatedTo)
	}
	return distance, inner, edge, nil
}

func (s *CaseStore) findCases(ctx context.Context, f cases.Filter) ([]*cases.Case, []float64, error) {
	var q caseQuery
	a := f.Area
	distance, inner, edge, err := s.filterConditions(&q, f)
	if err != nil {
		return nil, nil, fmt.Errorf("find cases: %w", err)
	}
	order := "c.reported_at DESC, c.id DESC"
	if a.Near != nil {
		order = "distance, c.id"
		if f.After != nil {
			q.add("("+distance+", c.id) > (%s::float8, %s::bigint)", f.After.DistanceM, f.After.ID)
		}
	} else if f.After != nil {
		q.add("(c.reported_at, c.id) < (%s::timestamptz, %s::bigint)", f.After.ReportedAt, f.After.ID)
	}
	if f.Before != nil && a.Near == nil {
		// Paging backwards (OGC prev links): the rows just newer than the
		// position, read oldest first and turned round below.
		q.add("(c.reported_at, c.id) > (%s::timestamptz, %s::bigint)", f.Before.ReportedAt, f.Before.ID)
		order = "c.reported_at, c.id"
	}
	var sql string
	cells := (inner != nil || edge != nil) && f.Before == nil
	if cells && f.Offset > 0 {
		return nil, nil, fmt.Errorf("find cases: an offset with a %s area", a.Kind())
	}
	if cells {
		// Newest first within a small area: walk the (h3, reported_at)
		// index cell by cell, at most limit rows from each, and keep the
		// newest limit of those. The cells wholly inside the area go first;
		// the newest limit of theirs set a cutoff time, which bounds the
		// index range read in the cells the area's edge crosses, where most
		// rows fall outside and would otherwise all be read.
		where := strings.Join(q.where, "\n      AND ")
		limit := q.arg(f.Limit)
		walk := func(cellsArg, extra string) string {
			return "SELECT x.id, x.reported_at FROM unnest(" + cellsArg + "::bigint[]) AS cell (h)\n" +
				"  CROSS JOIN LATERAL (\n" +
				"    SELECT c.id, c.reported_at FROM cases c\n" +
				"    WHERE c.h3 = cell.h AND " + where + extra + "\n" +
				"    ORDER BY c.reported_at DESC, c.id DESC LIMIT " + limit + ") x"
		}
		sql = "WITH inner_cells AS (\n  " + walk(q.arg(inner), "") + "\n  ORDER BY x.reported_at DESC, x.id DESC LIMIT " + limit + "),\n" +
			"cutoff AS (SELECT CASE WHEN count(*) >= " + limit + " THEN min(reported_at) ELSE '-infinity'::timestamptz END AS t FROM inner_cells),\n" +
			"edge_cells AS (\n  " + walk(q.arg(edge), "\n      AND c.reported_at >= (SELECT t FROM cutoff)") + ")\n" +
			"SELECT " + caseColumns + ", NULL::float8 FROM cases c WHERE c.id IN (\n" +
			"  SELECT id FROM (SELECT * FROM inner_cells UNION ALL SELECT * FROM edge_cells) u\n" +
			"  ORDER BY reported_at DESC, id DESC LIMIT " + limit + ")\n" +
			"ORDER BY " + order
	} else if a.Near != nil {
		// Nearest first from the geography index's KNN order. The index
		// orders by distance alone, so it returns a margin of extra rows
		// and the outer query settles ties by id (a page loses a row only
		// if more than knnTieMargin cases lie at exactly the same distance).
		sql = "SELECT * FROM (SELECT " + caseColumns + ", " + distance + " AS distance FROM cases c WHERE " +
			strings.Join(q.where, "\n  AND ") + "\nORDER BY " + distance + "\nLIMIT " + q.arg(f.Offset+f.Limit+knnTieMargin) +
			") c\nORDER BY distance, c.id LIMIT " + q.arg(f.Limit) + " OFFSET " + q.arg(f.Offset)
	} else {
		sql = "SELECT " + caseColumns + ", " + distance + " AS distance FROM cases c WHERE " +
			strings.Join(q.where, "\n  AND ") + "\nORDER BY " + order + "\nLIMIT " + q.arg(f.Limit) + " OFFSET " + q.arg(f.Offset)
	}
	db := s.db
	if cells || a.Near != nil {
		// The planner cannot know that a cell lies wholly inside the area, so
		// it underestimates the rows per cell and prefers a bitmap scan plus
		// sort, which reads every case of a dense cell (or, for a radius,
		// every case in the circle): forbid it for this query, so each cell
		// is read newest first, or the circle nearest first, and the scan
		// stops at the limit.
		tx, err := s.db.Begin(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("find cases: %w", err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck // read-only
		if _, err := tx.Exec(ctx, "SET LOCAL enable_bitmapscan = off"); err != nil {
			return nil, nil, fmt.Errorf("find cases: %w", err)
		}
		db = tx
	}
	rows, err := db.Query(ctx, sql, q.args...)
	if err != nil {
		return nil, nil, fmt.Errorf("find cases: %w", err)
	}
	defer rows.Close()
	var (
		out   []*cases.Case
		dists []float64
	)
	for rows.Next() {
		var d *float64
		c, err := scanCase(rows, &d)
		if err != nil {
			return nil, nil, fmt.Errorf("find cases: %w", err)
		}
		out = append(out, c)
		if d != nil {
			dists = append(dists, *d)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("find cases: %w", err)
	}
	if f.Before != nil && a.Near == nil {
		slices.Reverse(out)
	}
	return out, dists, nil
}

// cellCondition matches cases in any of cells. Cases store their cell at
// resolution R (grid.CellRes). A query cell at resolution r ≤ R covers the
// stored cells that descend from it, which form one contiguous range of
// H3 indexes (same base cell and first r digits); a finer query cell is
// matched approximately, by the cells at R around its parent and its outline
// widened by fineCellMarginDeg, and FindCases settles it exactly.
func (s *CaseStore) cellCondition(q *caseQuery, cells []geo.Cell) string {
	res := grid.CellRes
	var parts []string
	for _, c := range cells {
		if r := c.Resolution(); r <= res {
			lo, hi := descendantRange(c, res)
			parts = append(parts, fmt.Sprintf("c.h3 BETWEEN %s AND %s", q.arg(lo), q.arg(hi)))
			continue
		}
		outline, _ := wkb.Marshal(geoPolygon(c))
		// H3 cells do not nest exactly: a point of the fine cell may lie in
		// a neighbour of its parent at R.
		var stored []int64
		for _, n := range c.Parent(res).Disk(1) {
			stored = append(stored, int64(n))
		}
		parts = append(parts, fmt.Sprintf("(c.h3 = ANY(%s) AND ST_DWithin(c.geom, ST_GeomFromWKB(%s, 4326), %s))", q.arg(stored), q.arg(outline), q.arg(fineCellMarginDeg)))
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// descendantRange returns the smallest and largest index a descendant of c
// at resolution res can have: digits below c's resolution run from 0 to 6.
func descendantRange(c geo.Cell, res int) (int64, int64) {
	r := c.Resolution()
	base := uint64(c)&^(uint64(0xF)<<52) | uint64(res)<<52
	var lo, hi uint64 = base, base
	for d := r + 1; d <= res; d++ {
		shift := uint(15-d) * 3
		lo &^= 7 << shift
		hi = hi&^(7<<shift) | 6<<shift
	}
	return int64(lo), int64(hi)
}

// geoPolygon is the outline of an H3 cell.
func geoPolygon(c geo.Cell) orb.Polygon { return orb.Polygon{c.Boundary()} }

// knnTieMargin is how many rows past the page a radius query reads, to
// order cases at equal distance by id.
const knnTieMargin = 100

// maxCoveringCells bounds the cell-by-cell plan; larger areas use the
// spatial index.
const maxCoveringCells = 400

// coveringCells returns the stored-resolution cells that cover a box or
// polygon area (every case inside lies in one of them), split into those
// wholly inside it and those its edge crosses; nil, nil when the area is of
// another kind or too large for the cell-by-cell plan.
func (s *CaseStore) coveringCells(a cases.Area) (inner, edge []int64) {
	var mp orb.MultiPolygon
	switch {
	case a.Bound != nil:
		mp = orb.MultiPolygon{a.Bound.Pad(1e-9).ToPolygon()}
	case len(a.Polygon) > 0:
		mp = a.Polygon
	default:
		return nil, nil
	}
	res := grid.CellRes
	if n := mp.Bound(); boundAreaM2(n) > maxCoveringCells*geo.HexAreaAvgM2(res)/2 {
		return nil, nil
	}
	all, err := geo.PolygonCells(mp, res, geo.ContainOverlapping)
	if err != nil || len(all) == 0 || len(all) > maxCoveringCells {
		return nil, nil
	}
	full, err := geo.PolygonCells(mp, res, geo.ContainFull)
	if err != nil {
		return nil, nil
	}
	isFull := make(map[geo.Cell]bool, len(full))
	for _, c := range full {
		isFull[c] = true
	}
	inner, edge = []int64{}, []int64{}
	for _, c := range all {
		if isFull[c] {
			inner = append(inner, int64(c))
		} else {
			edge = append(edge, int64(c))
		}
	}
	return inner, edge
}

// boundAreaM2 approximates the area of a box in square metres.
func boundAreaM2(b orb.Bound) float64 {
	const m = 111195.0
	lat := (b.Min[1] + b.Max[1]) / 2 * math.Pi / 180
	return (b.Max[0] - b.Min[0]) * m * math.Cos(lat) * (b.Max[1] - b.Min[1]) * m
}
