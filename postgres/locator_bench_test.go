package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"

	"citygrid/demo"
	"citygrid/geo"
	"citygrid/grid"
	"citygrid/internal/dbtest"
)

// locateOneSQL is the plain PostGIS path: one query per point, the GiST
// index finding candidates and ST_Covers deciding.
const locateOneSQL = `
SELECT code FROM grids
WHERE geom && ST_SetSRID(ST_MakePoint($1, $2), 4326)
  AND ST_Covers(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))
ORDER BY level DESC, code COLLATE "C"
LIMIT 1`

// BenchmarkLocate compares, in one run, the in-memory locator, the same
// question asked of PostGIS (one query per point, and in batches of 1,000),
// and a bare H3 cell computation (geo.CellAt: h3.LatLngToCell plus a range
// check), which is the floor: every case needs its cell anyway.
//
//	go test ./postgres -run '^$' -bench Locate
func BenchmarkLocate(b *testing.B) {
	tx := dbtest.Tx(b)
	grids, units := loadDemo(b, tx)
	district, err := demo.District()
	if err != nil {
		b.Fatal(err)
	}
	pts := pointsIn(district, 10000)
	ctx := context.Background()

	for _, pixelM := range []float64{2.5, 5, 10} {
		l, err := grid.NewLocator(grids, units, grid.LocatorOptions{PixelM: pixelM})
		if err != nil {
			b.Fatal(err)
		}
		name := fmt.Sprintf("pixel-%gm", pixelM)
		b.Run("memory/assign/"+name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if _, err := l.Assign(pts[i%len(pts)], "E0501"); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
		})
		b.Run("memory/locate-full/"+name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if _, err := l.Locate(pts[i%len(pts)], "E0501"); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
		})
	}
	b.Run("h3/CellAt-res9", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := geo.CellAt(pts[i%len(pts)], 9); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
	})
	b.Run("postgis/one-query-per-point", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			p := pts[i%len(pts)]
			var code string
			if err := tx.QueryRow(ctx, locateOneSQL, p[0], p[1]).Scan(&code); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
	})
	b.Run("postgis/batch-1000", func(b *testing.B) {
		batch := pts[:1000]
		for b.Loop() {
			coversCodes(b, tx, batch)
		}
		b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "points/s")
	})
}

// pointsIn returns n random points inside mp.
func pointsIn(mp orb.MultiPolygon, n int) []orb.Point {
	rng := rand.New(rand.NewPCG(5, 8))
	b := mp.Bound()
	var out []orb.Point
	for len(out) < n {
		p := orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
		if geo.Covers(mp, p) {
			out = append(out, p)
		}
	}
	return out
}
