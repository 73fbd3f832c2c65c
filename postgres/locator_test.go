package postgres_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"citygrid/demo"
	"citygrid/grid"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

// loadDemo stores the demo district inside tx (rolled back when the test
// ends, so other tests never see it) and returns its grids and units.
func loadDemo(t testing.TB, tx pgx.Tx) ([]*grid.Grid, []grid.Unit) {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	if _, err := demo.Load(ctx, tx, nil); err != nil {
		t.Fatal(err)
	}
	store := postgres.NewGridStore(tx)
	grids, err := store.FindGrids(ctx, grid.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	units, err := store.FindUnits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("demo district: %d grids loaded in %s", len(grids), time.Since(start).Round(time.Millisecond))
	return grids, units
}

// coversSQL is the reference answer: the deepest grid whose polygon covers
// the point, smallest code (byte order) among equals.
const coversSQL = `
SELECT t.i, COALESCE((
    SELECT g.code FROM grids g
    WHERE g.geom && ST_SetSRID(ST_MakePoint(t.x, t.y), 4326)
      AND ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(t.x, t.y), 4326))
    ORDER BY g.level DESC, g.code COLLATE "C"
    LIMIT 1), '')
FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS t (x, y, i)
ORDER BY t.i`

// coversCodes answers coversSQL for many points, in order.
func coversCodes(t testing.TB, db interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, pts []orb.Point) []string {
	t.Helper()
	out := make([]string, 0, len(pts))
	for start := 0; start < len(pts); start += 5000 {
		batch := pts[start:min(start+5000, len(pts))]
		xs, ys := make([]float64, len(batch)), make([]float64, len(batch))
		for i, p := range batch {
			xs[i], ys[i] = p[0], p[1]
		}
		rows, err := db.Query(context.Background(), coversSQL, xs, ys)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var i int
			var code string
			if err := rows.Scan(&i, &code); err != nil {
				t.Fatal(err)
			}
			out = append(out, code)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// inServiceAreaSQL is the reference service area: a district (level 1)
// covers the point.
const inServiceAreaSQL = `
SELECT EXISTS (
    SELECT 1 FROM grids g
    WHERE g.level = 1 AND g.geom && ST_SetSRID(ST_MakePoint(t.x, t.y), 4326)
      AND ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(t.x, t.y), 4326)))
FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS t (x, y, i)
ORDER BY t.i`

// inServiceArea answers inServiceAreaSQL for many points, in order.
func inServiceArea(t testing.TB, tx pgx.Tx, pts []orb.Point) []bool {
	t.Helper()
	xs, ys := make([]float64, len(pts)), make([]float64, len(pts))
	for i, p := range pts {
		xs[i], ys[i] = p[0], p[1]
	}
	rows, err := tx.Query(context.Background(), inServiceAreaSQL, xs, ys)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[bool])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// probes returns n random points over the district's bounds (a margin
// around it included) and every vertex of every grid, plus the midpoint of
// every edge: the points where ownership is decided by the boundary rule.
func probes(grids []*grid.Grid, n int) (random, boundary []orb.Point) {
	var b orb.Bound
	for i, g := range grids {
		if i == 0 {
			b = g.Geometry.Bound()
		}
		b = b.Union(g.Geometry.Bound())
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for range n {
		random = append(random, orb.Point{
			b.Min[0] - 0.002 + rng.Float64()*(b.Max[0]-b.Min[0]+0.004),
			b.Min[1] - 0.002 + rng.Float64()*(b.Max[1]-b.Min[1]+0.004),
		})
	}
	seen := map[orb.Point]bool{}
	add := func(p orb.Point) {
		if !seen[p] {
			seen[p] = true
			boundary = append(boundary, p)
		}
	}
	for _, g := range grids {
		for _, poly := range g.MultiPolygon() {
			for _, ring := range poly {
				for i := 0; i+1 < len(ring); i++ {
					add(ring[i])
					add(orb.Point{(ring[i][0] + ring[i+1][0]) / 2, (ring[i][1] + ring[i+1][1]) / 2})
				}
			}
		}
	}
	return random, boundary
}

// TestLocatorAgreesWithPostGIS: the locator's grid of a point is
// ST_Covers', and its nearest grid of a point outside the district is
// PostGIS's nearest (one test: the demo district takes seconds to load).
func TestLocatorAgreesWithPostGIS(t *testing.T) {
	tx := dbtest.Tx(t)
	grids, units := loadDemo(t, tx)
	start := time.Now()
	l, err := grid.NewLocator(grids, units, grid.LocatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("locator: %d grids, %d cells, built in %s", l.Len(), l.IndexedCells(), time.Since(start).Round(time.Millisecond))
	random, boundary := probes(grids, 20000)
	for _, set := range []struct {
		name string
		pts  []orb.Point
	}{{"random", random}, {"vertices and edge midpoints", boundary}} {
		want := coversCodes(t, tx, set.pts)
		wantIn := inServiceArea(t, tx, set.pts)
		mismatches, outside := 0, 0
		for i, p := range set.pts {
			a, err := l.Assign(p, "")
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if a.Grid != nil {
				got = a.Grid.Code
			}
			if got != want[i] || a.InServiceArea != wantIn[i] {
				if mismatches < 10 {
					t.Errorf("%s: point %v: locator %q (in the service area: %v), ST_Covers %q (%v)", set.name, p, got, a.InServiceArea, want[i], wantIn[i])
				}
				mismatches++
			}
			if !wantIn[i] {
				outside++
			}
		}
		t.Logf("%s: %d points (%d outside the district), %d mismatches", set.name, len(set.pts), outside, mismatches)
	}
	t.Run("nearest", func(t *testing.T) { checkNearest(t, tx, l, grids) })
}

// nearestSQL is the reference nearest grid of a point no grid covers: of
// the deepest level, by PostGIS's geography distance on the sphere (what
// radius queries measure), smallest code among equals. The geography index
// of deepest (made by the test) finds the few nearest.
const nearestSQL = `
SELECT code, ST_Distance(geog, pt, false) AS d
FROM (SELECT code, geog, pt FROM deepest, (SELECT ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography AS pt) p
      ORDER BY geog <-> pt LIMIT 5) n
ORDER BY d, code COLLATE "C"
LIMIT 1`

// checkNearest: the nearest grid of a point outside the district, and its
// distance, are PostGIS's, whether the point is just outside or half a
// world away (a GPS fix at 0,0).
func checkNearest(t *testing.T, tx pgx.Tx, l *grid.Locator, grids []*grid.Grid) {
	ctx := context.Background()
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE deepest AS SELECT code, geom::geography AS geog FROM grids WHERE level = (SELECT max(level) FROM grids);
CREATE INDEX ON deepest USING gist (geog)`); err != nil {
		t.Fatal(err)
	}
	random, _ := probes(grids, 400)
	pts := []orb.Point{{0, 0}, {-59.63, -36.09}, {120.37, -89.9}, {-179.9, 36.09}, {116.4, 39.9}}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 40 {
		pts = append(pts, orb.Point{rng.Float64()*360 - 180, rng.Float64()*180 - 90})
	}
	pts = append(pts, random...)
	checked := 0
	for _, p := range pts {
		loc, err := l.Locate(p, "")
		if err != nil {
			t.Fatal(err)
		}
		if loc.Grid != nil {
			continue // covered: no nearest
		}
		checked++
		var code string
		var d float64
		if err := tx.QueryRow(ctx, nearestSQL, p[0], p[1]).Scan(&code, &d); err != nil {
			t.Fatal(err)
		}
		if loc.Nearest == nil {
			t.Errorf("at %v: no nearest, PostGIS %q at %.4f m", p, code, d)
		} else if n := loc.Nearest; n.Grid.Code != code || math.Abs(n.DistanceM-d) > 1e-7*d+1e-4 {
			t.Errorf("at %v: nearest %q at %.4f m, PostGIS %q at %.4f m", p, n.Grid.Code, n.DistanceM, code, d)
		}
	}
	if checked < 50 {
		t.Fatalf("only %d points outside the district", checked)
	}
}
