package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// Partitioner cuts polygons into pieces that tile them, with PostGIS doing
// the geometry: Voronoi partitions around k-means seeds and square
// lattices. It stores nothing; package demo draws its district with it.
//
// The cutting works in UTM zone 51N (EPSG:32651), which covers Qingdao, so
// that lattice squares are squares in metres: ToMetric projects the input
// there and ToWGS84 projects the pieces back.
type Partitioner struct {
	db DBTX
}

// NewPartitioner returns a Partitioner that runs its queries on db.
func NewPartitioner(db DBTX) *Partitioner {
	return &Partitioner{db: db}
}

const toMetricSQL = `SELECT ST_AsBinary(ST_Transform(ST_GeomFromWKB($1, 4326), 32651))`

// ToMetric projects g from WGS84 (lon, lat) to UTM zone 51N metres.
func (p *Partitioner) ToMetric(ctx context.Context, g orb.Geometry) (orb.Geometry, error) {
	var b []byte
	if err := p.db.QueryRow(ctx, toMetricSQL, mustWKB(g)).Scan(&b); err != nil {
		return nil, err
	}
	return wkb.Unmarshal(b)
}

const (
	// kMeansSeedsSQL places $2 seeds in polygon $1 (metric WKB) as the
	// centres of a k-means clustering of 40 random points per seed: a cheap
	// approximation of a centroidal Voronoi partition, which gives pieces
	// of similar size and compact shape. $3 makes it deterministic.
	kMeansSeedsSQL = `
WITH pts AS (
    SELECT (ST_Dump(ST_GeneratePoints(ST_GeomFromWKB($1, 32651), $2 * 40, $3))).geom AS geom
), clustered AS (
    SELECT ST_ClusterKMeans(geom, $2) OVER () AS k, geom FROM pts
)
SELECT ST_X(c), ST_Y(c)
FROM (SELECT ST_Centroid(ST_Collect(geom)) AS c FROM clustered GROUP BY k) s
ORDER BY ST_Y(c) DESC, ST_X(c)`

	// voronoiCellsSQL cuts polygon $1 into the Voronoi cells of the seeds
	// ($2, $3: x and y arrays), returned in seed order.
	voronoiCellsSQL = `
WITH area AS (SELECT ST_GeomFromWKB($1, 32651) AS g),
seeds AS (
    SELECT i, ST_SetSRID(ST_MakePoint(x, y), 32651) AS p
    FROM unnest($2::float8[], $3::float8[]) WITH ORDINALITY AS s (x, y, i)
),
cells AS (
    SELECT (ST_Dump(ST_VoronoiPolygons(ST_Collect(p), 0, (SELECT ST_Envelope(ST_Buffer(g, 1000)) FROM area)))).geom AS cell
    FROM seeds
)
SELECT ST_AsBinary(ST_Multi(ST_CollectionExtract(ST_Intersection(c.cell, a.g), 3)))
FROM seeds s
JOIN cells c ON ST_Contains(c.cell, s.p)
CROSS JOIN area a
ORDER BY s.i`
)

// Voronoi splits area (metric, from ToMetric) into n pieces of similar size
// and compact shape, ordered by their seeds north to south, then west to
// east. For n == 1 it returns area itself. The result is the same for the
// same seed.
func (p *Partitioner) Voronoi(ctx context.Context, area orb.Geometry, n, seed int) ([]orb.Geometry, error) {
	if n == 1 {
		return []orb.Geometry{area}, nil
	}
	rows, err := p.db.Query(ctx, kMeansSeedsSQL, mustWKB(area), n, seed)
	if err != nil {
		return nil, err
	}
	var xs, ys []float64
	for rows.Next() {
		var x, y float64
		if err := rows.Scan(&x, &y); err != nil {
			rows.Close()
			return nil, err
		}
		xs, ys = append(xs, x), append(ys, y)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(xs) != n {
		return nil, fmt.Errorf("k-means gave %d seeds, want %d", len(xs), n)
	}
	out, err := p.geometries(ctx, voronoiCellsSQL, mustWKB(area), xs, ys)
	if err != nil {
		return nil, err
	}
	if len(out) != n {
		return nil, fmt.Errorf("voronoi gave %d cells, want %d", len(out), n)
	}
	return out, nil
}

// cutLatticeSQL cuts polygon $1 by a square lattice of side $2 metres
// anchored at the origin of the projection, keeping pieces of at least
// $3 m², north to south then west to east.
const cutLatticeSQL = `
WITH area AS (SELECT ST_GeomFromWKB($1, 32651) AS g),
pieces AS (
    SELECT ST_CollectionExtract(ST_Intersection(sq.geom, a.g), 3) AS geom, sq.i, sq.j
    FROM area a, ST_SquareGrid($2, a.g) AS sq
    WHERE ST_Intersects(sq.geom, a.g)
)
SELECT ST_AsBinary(ST_Multi(geom))
FROM pieces
WHERE NOT ST_IsEmpty(geom) AND ST_Area(geom) >= $3
ORDER BY j DESC, i`

// Lattice cuts area (metric, from ToMetric) by a square lattice of side
// sideM metres anchored at the projection's origin, so that neighbouring
// areas share lattice lines. Pieces smaller than minPieceM2 are dropped;
// the rest come north to south, then west to east.
func (p *Partitioner) Lattice(ctx context.Context, area orb.Geometry, sideM, minPieceM2 float64) ([]orb.Geometry, error) {
	return p.geometries(ctx, cutLatticeSQL, mustWKB(area), sideM, minPieceM2)
}

// geometries runs a query whose one column is WKB and decodes every row.
func (p *Partitioner) geometries(ctx context.Context, sql string, args ...any) ([]orb.Geometry, error) {
	rows, err := p.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (orb.Geometry, error) {
		var b []byte
		if err := row.Scan(&b); err != nil {
			return nil, err
		}
		return wkb.Unmarshal(b)
	})
}

// toWGS84SQL snaps to 1e-9 degrees (0.1 mm): the transform leaves
// coordinates of shared vertices bit-identical, and the snap keeps files
// small without moving anything a person could see.
const toWGS84SQL = `
SELECT ST_AsBinary(ST_SnapToGrid(ST_Transform(ST_GeomFromWKB(g, 32651), 4326), 1e-9)),
       ST_Area(ST_Transform(ST_GeomFromWKB(g, 32651), 4326)::geography)
FROM unnest($1::bytea[]) WITH ORDINALITY AS t (g, i)
ORDER BY i`

// ToWGS84 projects metric geometries back to WGS84 (lon, lat), in one
// query, and returns them in order with their geodesic areas in m².
func (p *Partitioner) ToWGS84(ctx context.Context, gs []orb.Geometry) ([]orb.Geometry, []float64, error) {
	in := make([][]byte, len(gs))
	for i, g := range gs {
		in[i] = mustWKB(g)
	}
	rows, err := p.db.Query(ctx, toWGS84SQL, in)
	if err != nil {
		return nil, nil, err
	}
	out := make([]orb.Geometry, 0, len(gs))
	areas := make([]float64, 0, len(gs))
	for rows.Next() {
		var b []byte
		var a float64
		if err := rows.Scan(&b, &a); err != nil {
			rows.Close()
			return nil, nil, err
		}
		g, err := wkb.Unmarshal(b)
		if err != nil {
			rows.Close()
			return nil, nil, err
		}
		out, areas = append(out, g), append(areas, a)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if len(out) != len(gs) {
		return nil, nil, fmt.Errorf("projected %d geometries, want %d", len(out), len(gs))
	}
	return out, areas, nil
}

// mustWKB encodes geometry the program built itself; failure is a bug.
func mustWKB(g orb.Geometry) []byte {
	b, err := wkb.Marshal(g)
	if err != nil {
		panic(fmt.Sprintf("encode WKB: %v", err))
	}
	return b
}
