package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid/analysis"
	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/demo"
	"citygrid/geo"
	"citygrid/postgres"
	"citygrid/tiles"
)

// BenchmarkScale grows the cases table through each size of the run
// (1,000,000 and 10,000,000 by default; CITYGRID_BENCH_SCALE="n1,n2,…"
// to change) and measures at each, in one run, what issue 14 asks of ten
// million cases on one machine:
//
//   - heap-B/case: heap the case index holds per case (after a GC);
//   - ready-s: time to ready by a full database load (the grid index
//     rebuilt, then the case index read); a snapshot start is measured by
//     the snapshot's own benchmark (package snapshot), not here;
//   - z10…z16 cold-p99-ms: the cases layer rendered by a fresh tiles
//     service (nothing cached) over random tiles of the district;
//   - hotspots res9/res10 p99-ms: GET /v1/hotspots over every case (a
//     window of a year) and over the last 30 days;
//   - hotspots-engine: the same analyses called directly, without HTTP
//     and the GeoJSON reply;
//   - box1km2 p50/p99-ms: the newest 100 cases of a 1 km² box and how
//     many in all from the case index (Newest; newest-only: NewestUpTo,
//     what a map tile asks), and the same by plain PostGIS SQL on the
//     same table (a GiST index on the points built for it): their ratio;
//   - ingest cases/s: a batch posted to /v1/cases/bulk at that size.
//
// The last sub-benchmark reports each figure's growth, largest size over
// smallest. The first million cases are made by the demo generator (as
// every benchmark here) and COPYed in, without histories; beyond them the
// database copies them (see generatedCases).
//
//	go test ./internal/bench -run '^$' -bench Scale -benchtime 1x -timeout 3h
func BenchmarkScale(b *testing.B) {
	sizes := scaleSizes(b)
	e := setup(b)
	ctx := context.Background()
	e.truncate(b)
	b.Cleanup(func() { _, _ = e.pool.Exec(context.Background(), `DROP INDEX IF EXISTS bench_cases_geom_gist`) })
	figures := make([]map[string]float64, len(sizes))
	for k, n := range sizes {
		b.Run(sizeName(n), func(b *testing.B) {
			for b.Loop() {
				figures[k] = e.scaleAt(b, ctx, n)
			}
			for name, v := range figures[k] {
				b.ReportMetric(v, name)
			}
		})
	}
	reportGrowth(b, sizes, figures)
}

// scaleSizes are the sizes of a scale run: 1 M and 10 M, or those of
// CITYGRID_BENCH_SCALE ("n1,n2,…").
func scaleSizes(b *testing.B) []int {
	sizes := []int{1_000_000, 10_000_000}
	if v := os.Getenv("CITYGRID_BENCH_SCALE"); v != "" {
		sizes = sizes[:0]
		for _, s := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n <= 0 {
				b.Fatalf("CITYGRID_BENCH_SCALE: %q is no size", s)
			}
			sizes = append(sizes, n)
		}
	}
	return sizes
}

// reportGrowth reports each figure of the largest size over the smallest.
func reportGrowth(b *testing.B, sizes []int, figures []map[string]float64) {
	if len(sizes) < 2 || figures[0] == nil || figures[len(sizes)-1] == nil {
		return
	}
	b.Run(fmt.Sprintf("growth-%s-over-%s", sizeName(sizes[len(sizes)-1]), sizeName(sizes[0])), func(b *testing.B) {
		for b.Loop() {
		}
		small, large := figures[0], figures[len(sizes)-1]
		for name, v := range large {
			if strings.HasSuffix(name, "-ratio") || small[name] == 0 {
				continue
			}
			b.ReportMetric(v/small[name], name)
		}
	})
}

func sizeName(n int) string {
	if n%1_000_000 == 0 {
		return fmt.Sprintf("%dM", n/1_000_000)
	}
	return fmt.Sprintf("%dk", n/1000)
}

// scaleAt grows the table to n cases and measures every figure there.
func (e *env) scaleAt(b *testing.B, ctx context.Context, n int) map[string]float64 {
	out := map[string]float64{}
	var have int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM cases`).Scan(&have); err != nil {
		b.Fatal(err)
	}
	if have < n {
		start := time.Now()
		if generated := min(n, generatedCases); have < generated {
			e.copyGenerated(b, have, generated)
		}
		e.replicate(b, ctx, n)
		_, _ = e.pool.Exec(ctx, `VACUUM ANALYZE cases`)
		b.Logf("%d cases: %d stored in %s", n, n-have, time.Since(start).Round(time.Second))
	}
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM cases`).Scan(&have); err != nil {
		b.Fatal(err)
	}

	// Time to ready by a full load, and the heap the case index holds.
	e.caseIndex.Replace(caseindex.New())
	start := time.Now()
	if err := e.index.Rebuild(ctx, postgres.NewGridStore(e.pool)); err != nil {
		b.Fatal(err)
	}
	gridsAt := time.Since(start)
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	t0 := time.Now()
	if err := e.cases.LoadCaseIndex(ctx, e.caseIndex); err != nil {
		b.Fatal(err)
	}
	ready := gridsAt + time.Since(t0)
	runtime.GC()
	runtime.ReadMemStats(&m1)
	out["ready-s"] = ready.Seconds()
	out["heap-B/case"] = float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / float64(e.caseIndex.Len())
	b.Logf("%d cases: ready in %s (grids %s), case index heap %.0f B/case", have, ready.Round(time.Millisecond), gridsAt.Round(time.Millisecond), out["heap-B/case"])

	e.memoryFigures(b, n, out)

	// Hotspots through HTTP, as a client asks for them.
	now := time.Now().UTC()
	for _, res := range []int{9, 10} {
		for _, w := range []struct {
			name string
			span time.Duration
		}{{"all", 365 * 24 * time.Hour}, {"30d", 30 * 24 * time.Hour}} {
			url := fmt.Sprintf("%s/v1/hotspots?res=%d&from=%s&to=%s", e.srv.URL, res,
				now.Add(-w.span).Format(time.RFC3339), now.Format(time.RFC3339))
			get(b, url) // the study area is built once per resolution
			var lat []time.Duration
			for range 30 {
				t0 := time.Now()
				get(b, url)
				lat = append(lat, time.Since(t0))
			}
			p50, p99 := percentiles(lat)
			out[fmt.Sprintf("hotspots-res%d-%s-p50-ms", res, w.name)], out[fmt.Sprintf("hotspots-res%d-%s-p99-ms", res, w.name)] = p50, p99
		}
	}

	// A 1 km² box: the 100 newest and how many in all, from the index and
	// by plain PostGIS on the same table.
	if _, err := e.pool.Exec(ctx, `CREATE INDEX IF NOT EXISTS bench_cases_geom_gist ON cases USING gist (geom)`); err != nil {
		b.Fatal(err)
	}
	_, _ = e.pool.Exec(ctx, `ANALYZE cases`)
	rng := rand.New(rand.NewPCG(uint64(n), 15))
	boxes := make([]orb.Bound, 200)
	for i := range boxes {
		boxes[i] = e.kmBox(rng)
	}
	var sql []time.Duration
	for _, box := range boxes {
		t0 := time.Now()
		rows, err := e.pool.Query(ctx, boxSQL, box.Min[0], box.Min[1], box.Max[0], box.Max[1])
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
		}
		rows.Close()
		if rows.Err() != nil {
			b.Fatal(rows.Err())
		}
		sql = append(sql, time.Since(t0))
	}
	out["box1km2-postgis-p50-ms"], out["box1km2-postgis-p99-ms"] = percentiles(sql)
	out["box1km2-postgis-over-memory-p50-ratio"] = out["box1km2-postgis-p50-ms"] / out["box1km2-p50-ms"]

	// Ingest through the HTTP bulk endpoint into a table of n cases.
	const batch = 20000
	body, _ := e.ndjson(b, batch, fmt.Sprintf("scale-ingest-%d-%d-", n, time.Now().UnixNano()))
	t0 = time.Now()
	resp, err := http.Post(e.srv.URL+"/v1/cases/bulk", "application/x-ndjson", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	var res cases.IngestResult
	_ = json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	out["ingest-cases/s"] = float64(batch) / time.Since(t0).Seconds()
	if res.Accepted != batch {
		b.Fatalf("bulk accepted %d of %d", res.Accepted, batch)
	}
	// The batch may set off a reload of the index in the background: let
	// it end before the next size is loaded and measured.
	deadline := time.Now().Add(5 * time.Minute)
	for e.caseIndex.Len() < have+batch && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	for k, v := range out {
		if strings.HasSuffix(k, "-ms") || strings.HasSuffix(k, "-s") {
			out[k] = math.Round(v*1000) / 1000
		}
	}
	return out
}

// memoryFigures measures what the case index answers alone, with n
// cases in it: cold tiles, hotspots without HTTP, 1 km² boxes.
func (e *env) memoryFigures(b *testing.B, n int, out map[string]float64) {
	ctx := context.Background()
	now := time.Now().UTC()
	// Cold tiles: every render by a fresh service, so nothing is cached.
	rng := rand.New(rand.NewPCG(uint64(n), 14))
	district := e.bounds.Bound()
	for _, z := range []int{10, 12, 14, 16} {
		all := geo.TilesCovering(district, z)
		var lat []time.Duration
		for i := range max(100, min(300, len(all))) {
			t := all[rng.IntN(len(all))]
			if len(all) <= 300 && i < len(all) {
				t = all[i] // every tile once, then random ones again
			}
			svc := tiles.New(e.index, e.caseIndex, nil, tiles.Options{}, nil)
			t0 := time.Now()
			if _, _, err := svc.Tile(ctx, tiles.LayerCases, t, tiles.Params{}); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		p50, p99 := percentiles(lat)
		out[fmt.Sprintf("z%d-cold-p50-ms", z)], out[fmt.Sprintf("z%d-cold-p99-ms", z)] = p50, p99
	}

	// The same analyses without HTTP: what the case index and the
	// statistics cost, apart from encoding the reply.
	an := analysis.New(e.index, e.caseIndex)
	for _, res := range []int{9, 10} {
		for _, w := range []struct {
			name string
			span time.Duration
		}{{"all", 365 * 24 * time.Hour}, {"30d", 30 * 24 * time.Hour}} {
			q := analysis.Query{Res: res, K: 1, FDR: true, Filter: caseindex.Filter{From: now.Add(-w.span), To: now}}
			var lat []time.Duration
			for range 31 {
				t0 := time.Now()
				if _, err := an.Hotspots(q); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			p50, p99 := percentiles(lat[1:]) // the first builds the study area
			out[fmt.Sprintf("hotspots-engine-res%d-%s-p50-ms", res, w.name)], out[fmt.Sprintf("hotspots-engine-res%d-%s-p99-ms", res, w.name)] = p50, p99
		}
	}

	rng = rand.New(rand.NewPCG(uint64(n), 16))
	var mem, upTo []time.Duration
	for range 200 {
		box := e.kmBox(rng)
		t0 := time.Now()
		_, _ = e.caseIndex.Newest(box, caseindex.Filter{}, 100)
		mem = append(mem, time.Since(t0))
		t0 = time.Now()
		_, _ = e.caseIndex.NewestUpTo(box, caseindex.Filter{}, 100)
		upTo = append(upTo, time.Since(t0))
	}
	out["box1km2-p50-ms"], out["box1km2-p99-ms"] = percentiles(mem)
	out["box1km2-newest-only-p50-ms"], out["box1km2-newest-only-p99-ms"] = percentiles(upTo)
}

// BenchmarkScaleMemory is BenchmarkScale's in-memory half without the
// database's: the case index built straight from generated cases (the
// first million by the demo generator, the rest copies of them under new
// ids, as BenchmarkScale's table grows), then heap per case, the build
// time, cold tiles, hotspots without HTTP and 1 km² boxes at each size,
// and their growth. It needs minutes where BenchmarkScale needs an hour.
//
//	go test ./internal/bench -run '^$' -bench ScaleMemory -benchtime 1x -timeout 1h
func BenchmarkScaleMemory(b *testing.B) {
	sizes := scaleSizes(b)
	e := setup(b)
	base := e.generatedEntries(b, min(slices.Max(sizes), generatedCases))
	figures := make([]map[string]float64, len(sizes))
	for k, n := range sizes {
		b.Run(sizeName(n), func(b *testing.B) {
			for b.Loop() {
				out := map[string]float64{}
				e.caseIndex.Replace(caseindex.New())
				runtime.GC()
				var m0, m1 runtime.MemStats
				runtime.ReadMemStats(&m0)
				t0 := time.Now()
				fresh := caseindex.New()
				fresh.BeginLoad()
				for i := range n {
					c := base[i%len(base)]
					c.ID = int64(i + 1)
					if _, err := fresh.Apply(c); err != nil {
						b.Fatal(err)
					}
				}
				e.caseIndex.Replace(fresh)
				fresh = nil
				out["index-build-s"] = time.Since(t0).Seconds()
				runtime.GC()
				runtime.ReadMemStats(&m1)
				out["heap-B/case"] = float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / float64(n)
				e.memoryFigures(b, n, out)
				figures[k] = out
			}
			for name, v := range figures[k] {
				b.ReportMetric(v, name)
			}
		})
	}
	reportGrowth(b, sizes, figures)
}

// generatedEntries makes n demo cases as the case index keeps them, on
// both cores.
func (e *env) generatedEntries(b *testing.B, n int) []caseindex.Entry {
	const chunk = 50000
	out := make([]caseindex.Entry, n)
	starts := make(chan int)
	go func() {
		defer close(starts)
		for s := 0; s < n; s += chunk {
			starts <- s
		}
	}()
	var wg sync.WaitGroup
	var failed error
	var mu sync.Mutex
	for range 2 {
		wg.Go(func() {
			for from := range starts {
				gen := demo.NewCaseGenerator(e.bounds, e.cats, e.cal, e.loc, time.Now(), uint64(from)+42)
				for i := from; i < min(from+chunk, n); i++ {
					c, err := gen.Case(i)
					if err != nil {
						mu.Lock()
						failed = err
						mu.Unlock()
						return
					}
					out[i] = caseindex.EntryOf(c)
				}
			}
		})
	}
	wg.Wait()
	if failed != nil {
		b.Fatal(failed)
	}
	return out
}

// boxSQL is what a plain PostGIS query of a box does: the newest 100 and
// how many in all.
const boxSQL = `
SELECT id, category, status, reported_at, count(*) OVER () AS total
FROM cases
WHERE geom && ST_MakeEnvelope($1, $2, $3, $4, 4326) AND merged_into IS NULL
ORDER BY reported_at DESC, id DESC
LIMIT 100`

// kmBox is a 1 km² box around a random point of the district.
func (e *env) kmBox(rng *rand.Rand) orb.Bound {
	box := e.bounds.Bound()
	for {
		p := orb.Point{box.Min[0] + rng.Float64()*(box.Max[0]-box.Min[0]), box.Min[1] + rng.Float64()*(box.Max[1]-box.Min[1])}
		if !geo.Covers(e.bounds, p) {
			continue
		}
		const half = 500.0 / 110574
		dLon := half / math.Cos(p[1]*math.Pi/180)
		return orb.Bound{Min: orb.Point{p[0] - dLon, p[1] - half}, Max: orb.Point{p[0] + dLon, p[1] + half}}
	}
}

// percentiles returns p50 and p99 in milliseconds.
func percentiles(lat []time.Duration) (float64, float64) {
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return ms(lat[len(lat)/2]), ms(lat[min(len(lat)-1, len(lat)*99/100)])
}

func get(b *testing.B, url string) {
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("%s: %d %s", url, resp.StatusCode, body)
	}
}

// generatedCases are made by the demo generator; beyond them the table
// grows by copies of them, made by the database (generating and sending
// nine million more took over an hour on the shared two-core machine):
// the same places, cells, grids, statuses and times, ten cases where the
// million has one, so the spatial and temporal spread is the million's.
const generatedCases = 1_000_000

// replicate copies the generated cases, under new external ids, until the
// table holds n cases.
func (e *env) replicate(b *testing.B, ctx context.Context, n int) {
	for round := 1; ; round++ {
		var have int
		if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM cases`).Scan(&have); err != nil {
			b.Fatal(err)
		}
		if have >= n {
			return
		}
		t0 := time.Now()
		tag, err := e.pool.Exec(ctx, replicateSQL, min(n-have, generatedCases), fmt.Sprintf("~%d", round))
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("copy %d: %d cases in %s", round, tag.RowsAffected(), time.Since(t0).Round(time.Second))
	}
}

const replicateSQL = `
INSERT INTO cases (source, external_id, category, title, priority, geom, h3, grid, unit, status, reported_at, due_at)
SELECT source, external_id || $2, category, title, priority, geom, h3, grid, unit, status, reported_at, due_at
FROM (SELECT * FROM cases WHERE external_id ~ '^scale-[0-9]+$' ORDER BY id LIMIT $1) c`

// copyGenerated COPYs generated demo cases from..to into cases, in
// chunks of the generator (each with its own seed, so that two cores
// generate while the database stores), stored in order.
func (e *env) copyGenerated(b *testing.B, from, to int) {
	const chunk = 50000
	type job struct {
		start int
		out   chan generated
	}
	jobs := make(chan job)
	inOrder := make(chan chan generated, 3)
	go func() {
		defer close(jobs)
		defer close(inOrder)
		for s := from; s < to; s += chunk {
			j := job{s, make(chan generated, 1)}
			inOrder <- j.out // bounds the chunks generated ahead
			jobs <- j
		}
	}()
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for j := range jobs {
				j.out <- e.generateCSV(j.start, min(j.start+chunk, to))
			}
		})
	}
	defer wg.Wait()
	conn, err := e.pool.Acquire(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	for c := range inOrder {
		r := <-c
		if r.err != nil {
			b.Fatal(r.err)
		}
		if _, err := conn.Conn().PgConn().CopyFrom(context.Background(), r.buf,
			`COPY cases (source, external_id, category, title, priority, geom, h3, grid, unit, status, reported_at, due_at) FROM STDIN (FORMAT csv)`); err != nil {
			b.Fatal(err)
		}
	}
}

type generated struct {
	buf *bytes.Buffer
	err error
}

// generateCSV renders the demo cases i in [from, to) as COPY rows; a chunk
// of the generator starts at from with a seed of its own.
func (e *env) generateCSV(from, to int) (out generated) {
	gen := demo.NewCaseGenerator(e.bounds, e.cats, e.cal, e.loc, time.Now(), uint64(from)+42)
	out.buf = &bytes.Buffer{}
	for i := from; i < to; i++ {
		c, err := gen.Case(i)
		if err != nil {
			out.err = err
			return out
		}
		due := ""
		if !c.DueAt.IsZero() {
			due = c.DueAt.Format(time.RFC3339Nano)
		}
		fmt.Fprintf(out.buf, "%s,scale-%d,%s,%s,%d,SRID=4326;POINT(%v %v),%d,%s,%s,%s,%s,%s\n",
			c.Source, i, c.Category, c.Title, c.Priority, c.Location[0], c.Location[1], int64(c.Cell),
			c.Grid, c.Unit, c.Status, c.ReportedAt.Format(time.RFC3339Nano), due)
	}
	return out
}
