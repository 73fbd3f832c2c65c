package postgres

import (
	"context"
	"fmt"

	"citygrid/grid"
)

// topologyMinAreaM2 hides slivers: neighbours computed by different overlay
// operations share edges only up to floating-point noise.
const topologyMinAreaM2 = 1.0

// siblingOverlapsSQL finds sibling pairs (same parent, or both top-level)
// whose interiors intersect; the && test lets the GiST index find pairs.
const siblingOverlapsSQL = `
SELECT a.code, b.code, a.level, ST_Area(ST_Intersection(a.geom, b.geom)::geography) AS area_m2
FROM grids a
JOIN grids b ON a.geom && b.geom AND a.code < b.code
            AND a.level = b.level AND a.parent IS NOT DISTINCT FROM b.parent
WHERE ST_Relate(a.geom, b.geom, '2********')`

// gapsSQL measures, for every grid with children, the part of it that no
// child covers.
const gapsSQL = `
SELECT p.code, p.level, ST_Area(ST_Difference(p.geom, u.geom)::geography) AS gap_m2, p.area_m2
FROM grids p
JOIN LATERAL (SELECT ST_Union(c.geom) AS geom FROM grids c WHERE c.parent = p.code) u ON u.geom IS NOT NULL`

// Topology reports overlapping siblings and the parts of parents that their
// children leave uncovered, ignoring slivers under 1 m².
func (s *GridStore) Topology(ctx context.Context) (*grid.Topology, error) {
	return topology(ctx, s.db)
}

func topology(ctx context.Context, db DBTX) (*grid.Topology, error) {
	return topologyOf(ctx, db, siblingOverlapsSQL, gapsSQL)
}

// topologyOf runs an overlaps and a gaps query (the grids in force, or a
// draft's: grid_version.go) with args.
func topologyOf(ctx context.Context, db DBTX, overlapsSQL, gapsSQL string, args ...any) (*grid.Topology, error) {
	t := &grid.Topology{Overlaps: []grid.Overlap{}, Gaps: []grid.Gap{}, MinAreaM2: topologyMinAreaM2}
	rows, err := db.Query(ctx, overlapsSQL, args...)
	if err != nil {
		return nil, fmt.Errorf("topology: overlaps: %w", err)
	}
	for rows.Next() {
		var o grid.Overlap
		var level int16
		if err := rows.Scan(&o.A, &o.B, &level, &o.AreaM2); err != nil {
			rows.Close()
			return nil, fmt.Errorf("topology: overlaps: %w", err)
		}
		o.Level = grid.Level(level)
		if o.AreaM2 >= topologyMinAreaM2 {
			t.Overlaps = append(t.Overlaps, o)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("topology: overlaps: %w", err)
	}
	rows, err = db.Query(ctx, gapsSQL, args...)
	if err != nil {
		return nil, fmt.Errorf("topology: gaps: %w", err)
	}
	for rows.Next() {
		var g grid.Gap
		var level int16
		var parentArea float64
		if err := rows.Scan(&g.Parent, &level, &g.AreaM2, &parentArea); err != nil {
			rows.Close()
			return nil, fmt.Errorf("topology: gaps: %w", err)
		}
		g.Level = grid.Level(level)
		if parentArea > 0 {
			g.Share = g.AreaM2 / parentArea
		}
		if g.AreaM2 >= topologyMinAreaM2 {
			t.Gaps = append(t.Gaps, g)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("topology: gaps: %w", err)
	}
	return t, nil
}
