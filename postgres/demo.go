package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// DemoDivision is a named division (street or community) whose polygon the
// demo generator draws.
type DemoDivision struct {
	Code     string
	Name     string
	Children []DemoDivision
}

// DemoPolygon is one generated polygon with the division it belongs to.
type DemoPolygon struct {
	Code     string // division code; for unit grids, the community code
	Geometry orb.Geometry
	AreaM2   float64
}

// DemoGrids holds a generated hierarchy, each level tiling its parent.
type DemoGrids struct {
	Streets     []DemoPolygon
	Communities []DemoPolygon
	// Cells are the unit grids: pieces of a square lattice cut by the
	// community boundaries, ordered by community, then north to south, then
	// west to east.
	Cells []DemoPolygon
}

// The generator works in UTM zone 51N (EPSG:32651), which covers Qingdao,
// so that lattice squares are squares in metres.
const (
	// demoSeedsSQL places $2 seeds in polygon $1 (metric WKB) as the centres
	// of a k-means clustering of 40 random points per seed: a cheap
	// approximation of a centroidal Voronoi partition, which gives divisions
	// of similar size and compact shape. $3 makes it deterministic.
	demoSeedsSQL = `
WITH pts AS (
    SELECT (ST_Dump(ST_GeneratePoints(ST_GeomFromWKB($1, 32651), $2 * 40, $3))).geom AS geom
), clustered AS (
    SELECT ST_ClusterKMeans(geom, $2) OVER () AS k, geom FROM pts
)
SELECT ST_X(c), ST_Y(c)
FROM (SELECT ST_Centroid(ST_Collect(geom)) AS c FROM clustered GROUP BY k) s
ORDER BY ST_Y(c) DESC, ST_X(c)`

	// demoVoronoiSQL cuts polygon $1 into the Voronoi cells of the seeds
	// ($2, $3: x and y arrays), returned in seed order.
	demoVoronoiSQL = `
WITH area AS (SELECT ST_GeomFromWKB($1, 32651) AS g),
seeds AS (
    SELECT i, ST_SetSRID(ST_MakePoint(x, y), 32651) AS p
    FROM unnest($2::float8[], $3::float8[]) WITH ORDINALITY AS s (x, y, i)
),
cells AS (
    SELECT (ST_Dump(ST_VoronoiPolygons(ST_Collect(p), 0, (SELECT ST_Envelope(ST_Buffer(g, 1000)) FROM area)))).geom AS cell
    FROM seeds
)
SELECT s.i, ST_AsBinary(ST_Multi(ST_CollectionExtract(ST_Intersection(c.cell, a.g), 3)))
FROM seeds s
JOIN cells c ON ST_Contains(c.cell, s.p)
CROSS JOIN area a
ORDER BY s.i`

	// demoLatticeSQL cuts polygon $1 by a square lattice of side $2 metres
	// anchored at the origin of the projection, keeping pieces of at least
	// $3 m², north to south then west to east.
	demoLatticeSQL = `
WITH area AS (SELECT ST_GeomFromWKB($1, 32651) AS g),
pieces AS (
    SELECT ST_CollectionExtract(ST_Intersection(sq.geom, a.g), 3) AS geom, sq.i, sq.j
    FROM area a, ST_SquareGrid($2, a.g) AS sq
    WHERE ST_Intersects(sq.geom, a.g)
)
SELECT ST_AsBinary(ST_Multi(geom)), ST_Area(geom)
FROM pieces
WHERE NOT ST_IsEmpty(geom) AND ST_Area(geom) >= $3
ORDER BY j DESC, i`

	demoToMetricSQL = `SELECT ST_AsBinary(ST_Transform(ST_GeomFromWKB($1, 4326), 32651))`
	// demoToWGS84SQL snaps to 1e-9 degrees (0.1 mm): the transform leaves
	// coordinates of shared vertices bit-identical, and the snap keeps files
	// small without moving anything a person could see.
	demoToWGS84SQL = `
SELECT ST_AsBinary(ST_SnapToGrid(ST_Transform(ST_GeomFromWKB(g, 32651), 4326), 1e-9)),
       ST_Area(ST_Transform(ST_GeomFromWKB(g, 32651), 4326)::geography)
FROM unnest($1::bytea[]) WITH ORDINALITY AS t (g, i)
ORDER BY i`
)

// GenerateDemoGrids draws streets, communities and unit grids that tile
// district with no gaps and no overlaps: streets and communities are Voronoi
// partitions around k-means seeds, unit grids are squares of cellM metres
// cut by the community boundaries. The result is deterministic for a seed.
// It uses PostGIS for the geometry but stores nothing.
func GenerateDemoGrids(ctx context.Context, db DBTX, district orb.MultiPolygon, streets []DemoDivision, cellM float64, seed int) (*DemoGrids, error) {
	metric, err := scanWKB(db.QueryRow(ctx, demoToMetricSQL, mustWKB(district)))
	if err != nil {
		return nil, fmt.Errorf("demo grids: project district: %w", err)
	}
	out := &DemoGrids{}
	streetPolys, err := voronoiSplit(ctx, db, metric, len(streets), seed)
	if err != nil {
		return nil, fmt.Errorf("demo grids: streets: %w", err)
	}
	for i, st := range streets {
		out.Streets = append(out.Streets, DemoPolygon{Code: st.Code, Geometry: streetPolys[i]})
		n := max(len(st.Children), 1)
		communityPolys, err := voronoiSplit(ctx, db, streetPolys[i], n, seed+i+1)
		if err != nil {
			return nil, fmt.Errorf("demo grids: communities of %s: %w", st.Code, err)
		}
		for j := range n {
			code := st.Code + "000"
			if j < len(st.Children) {
				code = st.Children[j].Code
			}
			out.Communities = append(out.Communities, DemoPolygon{Code: code, Geometry: communityPolys[j]})
			cells, err := lattice(ctx, db, communityPolys[j], cellM)
			if err != nil {
				return nil, fmt.Errorf("demo grids: unit grids of %s: %w", code, err)
			}
			for _, c := range cells {
				out.Cells = append(out.Cells, DemoPolygon{Code: code, Geometry: c})
			}
		}
	}
	for _, level := range [][]DemoPolygon{out.Streets, out.Communities, out.Cells} {
		if err := toWGS84(ctx, db, level); err != nil {
			return nil, fmt.Errorf("demo grids: %w", err)
		}
	}
	return out, nil
}

func voronoiSplit(ctx context.Context, db DBTX, area orb.Geometry, n, seed int) ([]orb.Geometry, error) {
	if n == 1 {
		return []orb.Geometry{area}, nil
	}
	rows, err := db.Query(ctx, demoSeedsSQL, mustWKB(area), n, seed)
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
	rows, err = db.Query(ctx, demoVoronoiSQL, mustWKB(area), xs, ys)
	if err != nil {
		return nil, err
	}
	var out []orb.Geometry
	for rows.Next() {
		var i int
		var b []byte
		if err := rows.Scan(&i, &b); err != nil {
			rows.Close()
			return nil, err
		}
		g, err := wkb.Unmarshal(b)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) != n {
		return nil, fmt.Errorf("voronoi gave %d cells, want %d", len(out), n)
	}
	return out, nil
}

// minPieceM2 drops lattice pieces too small to be anyone's grid: slivers
// where a square grazes a community boundary.
const minPieceM2 = 1.0

func lattice(ctx context.Context, db DBTX, area orb.Geometry, cellM float64) ([]orb.Geometry, error) {
	rows, err := db.Query(ctx, demoLatticeSQL, mustWKB(area), cellM, minPieceM2)
	if err != nil {
		return nil, err
	}
	var out []orb.Geometry
	for rows.Next() {
		var b []byte
		var a float64
		if err := rows.Scan(&b, &a); err != nil {
			rows.Close()
			return nil, err
		}
		g, err := wkb.Unmarshal(b)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

func toWGS84(ctx context.Context, db DBTX, polys []DemoPolygon) error {
	in := make([][]byte, len(polys))
	for i, p := range polys {
		in[i] = mustWKB(p.Geometry)
	}
	rows, err := db.Query(ctx, demoToWGS84SQL, in)
	if err != nil {
		return err
	}
	i := 0
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b, &polys[i].AreaM2); err != nil {
			rows.Close()
			return err
		}
		g, err := wkb.Unmarshal(b)
		if err != nil {
			rows.Close()
			return err
		}
		polys[i].Geometry = simplifyMulti(g)
		i++
	}
	return rows.Err()
}

// simplifyMulti unwraps a MultiPolygon of one polygon.
func simplifyMulti(g orb.Geometry) orb.Geometry {
	if mp, ok := g.(orb.MultiPolygon); ok && len(mp) == 1 {
		return mp[0]
	}
	return g
}

func scanWKB(row pgx.Row) (orb.Geometry, error) {
	var b []byte
	if err := row.Scan(&b); err != nil {
		return nil, err
	}
	return wkb.Unmarshal(b)
}

// mustWKB encodes geometry the program built itself; failure is a bug.
func mustWKB(g orb.Geometry) []byte {
	b, err := wkb.Marshal(g)
	if err != nil {
		panic(fmt.Sprintf("encode WKB: %v", err))
	}
	return b
}
