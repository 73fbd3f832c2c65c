package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"citygrid/geo"
	"citygrid/httpapi"
	"citygrid/internal/app"
	"citygrid/tiles"
)

// BenchmarkTiles sweeps every tile covering the demo district at z10–z17 at
// a million cases through HTTP: the cases layer cold (a fresh server, empty
// cache) and warm (the same tiles again), and, on the same tiles, the way
// generic PostGIS tile servers do it: one ST_AsMVT(ST_AsMVTGeom(...)) query
// per tile over the raw points, with a GiST index on the points built for
// it (and dropped after). Each zoom reports tiles/s, p50 and p99 latency
// and raw bytes per tile; a last run measures warm throughput of the
// handler itself with as many clients as cores.
//
//	go test ./internal/bench -run '^$' -bench Tiles -benchtime 1x -timeout 30m
func BenchmarkTiles(b *testing.B) {
	e := setup(b)
	e.loadMillion(b)
	ctx := context.Background()
	b.Log("building a GiST index on cases.geom for the PostGIS baseline")
	if _, err := e.pool.Exec(ctx, `CREATE INDEX IF NOT EXISTS bench_cases_geom_gist ON cases USING gist (geom)`); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _, _ = e.pool.Exec(context.Background(), `DROP INDEX IF EXISTS bench_cases_geom_gist`) })
	_, _ = e.pool.Exec(ctx, `ANALYZE cases`)
	// The baseline must use the index, as a tuned tile server would.
	if rows, err := e.pool.Query(ctx, "EXPLAIN "+stAsMVTSQL, 14, 13670, 6428); err == nil {
		var plan []string
		for rows.Next() {
			var line string
			_ = rows.Scan(&line)
			plan = append(plan, line)
		}
		rows.Close()
		b.Logf("baseline plan at z14:\n%s", strings.Join(plan, "\n"))
	}

	district := e.bounds.Bound()
	newServer := func() *httptest.Server {
		srv := httptest.NewServer(e.handler(httpapi.Config{}, httpapi.Deps{
			Index: e.index, App: app.New(e.index, e.caseIndex, nil, app.Config{}),
		}))
		b.Cleanup(srv.Close)
		return srv
	}
	var all []geo.Tile
	for z := 10; z <= 17; z++ {
		zoomTiles := geo.TilesCovering(district, z)
		all = append(all, zoomTiles...)
		cold := newServer()
		for _, pass := range []string{"cold", "warm"} {
			b.Run(fmt.Sprintf("z%d/%s", z, pass), func(b *testing.B) {
				for b.Loop() {
					sweep(b, zoomTiles, func(t geo.Tile) (int, error) {
						return getTile(cold.URL, t)
					})
				}
			})
		}
		// The renderer alone, without HTTP and gzip decoding in the client:
		// what compares with the baseline's bare query.
		b.Run(fmt.Sprintf("z%d/engine-cold", z), func(b *testing.B) {
			for b.Loop() {
				svc := tiles.New(e.index, e.caseIndex, nil, tiles.Options{}, nil)
				sweep(b, zoomTiles, func(t geo.Tile) (int, error) {
					enc, _, err := svc.Tile(ctx, tiles.LayerCases, t, tiles.Params{})
					if err != nil {
						return 0, err
					}
					return len(enc.Raw), nil
				})
			}
		})
		// The baseline at the street zooms has thousands of tiles of a
		// second each: a random sample of 200 tells its rate.
		sample := zoomTiles
		if len(sample) > 200 {
			rng := rand.New(rand.NewPCG(uint64(z), 1))
			sample = make([]geo.Tile, 200)
			for i, j := range rng.Perm(len(zoomTiles))[:200] {
				sample[i] = zoomTiles[j]
			}
		}
		b.Run(fmt.Sprintf("z%d/postgis-st_asmvt", z), func(b *testing.B) {
			for b.Loop() {
				sweep(b, sample, func(t geo.Tile) (int, error) {
					var tile []byte
					err := e.pool.QueryRow(ctx, stAsMVTSQL, t.Z, t.X, t.Y).Scan(&tile)
					return len(tile), err
				})
			}
		})
	}
	b.Run("warm-handler-throughput", func(b *testing.B) {
		api := e.handler(httpapi.Config{}, httpapi.Deps{Index: e.index, App: app.New(e.index, e.caseIndex, nil, app.Config{})})
		reqs := make([]*http.Request, len(all))
		for i, t := range all {
			reqs[i] = httptest.NewRequest(http.MethodGet, fmt.Sprintf("/tiles/cases/%d/%d/%d.mvt", t.Z, t.X, t.Y), nil)
			reqs[i].Header.Set("Accept-Encoding", "gzip")
			api.ServeHTTP(&discard{}, reqs[i]) // fill the cache
		}
		var served atomic.Int64
		start := time.Now()
		for b.Loop() {
			var wg sync.WaitGroup
			for w := range runtime.GOMAXPROCS(0) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < len(reqs); i += runtime.GOMAXPROCS(0) {
						api.ServeHTTP(&discard{}, reqs[i])
						served.Add(1)
					}
				}()
			}
			wg.Wait()
		}
		b.ReportMetric(float64(served.Load())/time.Since(start).Seconds(), "tiles/s")
	})
}

// stAsMVTSQL is what a generic tile server runs per tile: the tile's box
// transformed to the table's SRID for the index, every point in it encoded.
const stAsMVTSQL = `
SELECT COALESCE(ST_AsMVT(t, 'cases', 4096, 'geom', 'id'), ''::bytea) FROM (
    SELECT id, category, status, priority, unit, grid,
           (extract(epoch FROM now() - reported_at) / 3600)::int AS age_hours,
           ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope($1, $2, $3), 4096, 64, true) AS geom
    FROM cases
    WHERE geom && ST_Transform(ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096), 4326)
) t`

// sweep fetches every tile once and reports the rate, latency and size.
func sweep(b *testing.B, ts []geo.Tile, fetch func(geo.Tile) (int, error)) {
	lat := make([]time.Duration, 0, len(ts))
	var bytes, biggest int
	start := time.Now()
	for _, t := range ts {
		t0 := time.Now()
		n, err := fetch(t)
		if err != nil {
			b.Fatalf("%s: %v", t, err)
		}
		lat = append(lat, time.Since(t0))
		bytes += n
		biggest = max(biggest, n)
	}
	elapsed := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(len(ts)), "tiles")
	b.ReportMetric(float64(len(ts))/elapsed.Seconds(), "tiles/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(bytes)/float64(len(ts))/1024, "KB/tile")
	b.ReportMetric(float64(biggest)/1024, "KB-max")
}

// getTile fetches one tile uncompressed and returns its size.
func getTile(base string, t geo.Tile) (int, error) {
	resp, err := http.Get(fmt.Sprintf("%s/tiles/cases/%d/%d/%d.mvt", base, t.Z, t.X, t.Y))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	return int(n), err
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header {
	if d.h == nil {
		d.h = http.Header{}
	}
	return d.h
}
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}
