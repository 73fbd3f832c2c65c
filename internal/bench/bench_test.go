// Package bench holds citygrid's end-to-end benchmarks: bulk ingest through
// the HTTP endpoint against plain COPY, and area-query latency at a million
// stored cases. They load the demo district into the test database.
//
//	go test ./internal/bench -run '^$' -bench . -benchtime 1x
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"

	"citygrid/access"
	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/demo"
	"citygrid/geo"
	"citygrid/grid"
	"citygrid/httpapi"
	"citygrid/internal/app"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

func TestMain(m *testing.M) {
	dbtest.MainMigrated(m)
}

// env is the demo district on the shared database with a running server.
type env struct {
	pool   *pgxpool.Pool
	srv    *httptest.Server
	loc    *grid.Locator
	cats   *cases.Categories
	cal    *cases.Calendar
	bounds orb.MultiPolygon

	caseIndex *caseindex.Index
	cases     *postgres.CaseStore
	index     *grid.Index
	keys      *postgres.KeyStore
	admin     string // an admin key's token: requests without a credential speak with it
}

func setup(tb testing.TB) *env {
	tb.Helper()
	pool := dbtest.Pool(tb)
	ctx := context.Background()
	grids := postgres.NewGridStore(pool)
	existing, err := grids.FindGrids(ctx, grid.Filter{Limit: 1})
	if err != nil {
		tb.Fatal(err)
	}
	if len(existing) == 0 {
		if _, err := demo.Load(ctx, pool, nil); err != nil {
			tb.Fatal(err)
		}
	}
	index := grid.NewIndex(grid.LocatorOptions{})
	if err := index.Rebuild(ctx, grids); err != nil {
		tb.Fatal(err)
	}
	caseStore := postgres.NewCaseStore(pool)
	caseIndex := caseindex.New()
	if err := caseStore.LoadCaseIndex(ctx, caseIndex); err != nil {
		tb.Fatal(err)
	}
	e := &env{pool: pool, loc: index.Locator(), caseIndex: caseIndex, cases: caseStore, index: index, keys: postgres.NewKeyStore(pool)}
	e.admin = e.key(tb, access.Key{Name: "bench admin", Role: access.RoleAdmin})
	api := e.handler(httpapi.Config{MaxImportBytes: 1 << 30}, httpapi.Deps{
		Grids: grids, Cases: caseStore, Stats: caseStore, Index: index, App: app.New(index, caseIndex, caseStore, app.Config{}), Ready: pool.Ping,
	})
	e.srv = httptest.NewServer(api)
	tb.Cleanup(e.srv.Close)
	e.cats, _ = caseStore.Categories(ctx)
	e.cal, _ = caseStore.Calendar(ctx)
	e.bounds, _ = demo.District()
	return e
}

// key makes an API key in the bench database and returns its token.
func (e *env) key(tb testing.TB, k access.Key) string {
	tb.Helper()
	_, token, err := httpapi.CreateKey(context.Background(), e.keys, k, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return token
}

// handler is a server with the bench database's keys, and no rate limit
// (the benchmarks ask as fast as they can), whose requests without a
// credential speak as the admin.
func (e *env) handler(cfg httpapi.Config, d httpapi.Deps) http.Handler {
	cfg.RateLimit = -1
	d.Keys = e.keys
	if d.Logger == nil {
		d.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	api := httpapi.New(cfg, d)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			r.Header.Set("Authorization", "Bearer "+e.admin)
		}
		api.ServeHTTP(w, r)
	})
}

func (e *env) truncate(tb testing.TB) {
	// campaign_sites: issue 18; CASCADE: projects' case links and dispute
	// settlements (issue 17) name cases too.
	if _, err := e.pool.Exec(context.Background(), `TRUNCATE campaign_sites, case_events, cases CASCADE`); err != nil {
		tb.Fatal(err)
	}
}

// ndjson renders n demo cases as NDJSON lines, with their prepared form.
func (e *env) ndjson(tb testing.TB, n int, prefix string) ([]byte, []*cases.Case) {
	gen := demo.NewCaseGenerator(e.bounds, e.cats, e.cal, e.loc, time.Now(), 42)
	var buf bytes.Buffer
	batch := make([]*cases.Case, 0, n)
	enc := json.NewEncoder(&buf)
	for i := range n {
		c, err := gen.Case(i)
		if err != nil {
			tb.Fatal(err)
		}
		c.ExternalID = prefix + c.ExternalID
		batch = append(batch, c)
		_ = enc.Encode(map[string]any{
			"source": c.Source, "external_id": c.ExternalID, "category": c.Category, "title": c.Title,
			"priority": c.Priority, "location": []float64{c.Location[0], c.Location[1]}, "reported_at": c.ReportedAt,
		})
	}
	return buf.Bytes(), batch
}

// copyPlain is the limit: COPY of the same, already prepared rows straight
// into cases, with nothing parsed, validated or located.
func (e *env) copyPlain(tb testing.TB, batch []*cases.Case) {
	var buf bytes.Buffer
	for _, c := range batch {
		fmt.Fprintf(&buf, "%s,%s,%s,%s,%d,SRID=4326;POINT(%v %v),%d,%s,%s,%s,%s,%s\n",
			c.Source, c.ExternalID, c.Category, c.Title, c.Priority, c.Location[0], c.Location[1], int64(c.Cell),
			c.Grid, c.Unit, c.Status, c.ReportedAt.Format(time.RFC3339Nano), c.DueAt.Format(time.RFC3339Nano))
	}
	conn, err := e.pool.Acquire(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Release()
	_, err = conn.Conn().PgConn().CopyFrom(context.Background(), &buf,
		`COPY cases (source, external_id, category, title, priority, geom, h3, grid, unit, status, reported_at, due_at) FROM STDIN (FORMAT csv)`)
	if err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkIngest posts N cases as NDJSON to /v1/cases/bulk and COPYs the
// same rows, each into an empty table, and reports both rates.
func BenchmarkIngest(b *testing.B) {
	e := setup(b)
	n := 200000
	if v, err := strconv.Atoi(os.Getenv("CITYGRID_BENCH_INGEST")); err == nil {
		n = v
	}
	body, batch := e.ndjson(b, n, "ingest-")
	var httpRate, copyRate float64
	for b.Loop() {
		e.truncate(b)
		start := time.Now()
		resp, err := http.Post(e.srv.URL+"/v1/cases/bulk", "application/x-ndjson", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		var res cases.IngestResult
		_ = json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		httpRate = float64(n) / time.Since(start).Seconds()
		if res.Accepted != n {
			b.Fatalf("bulk accepted %d of %d: %+v", res.Accepted, n, res.Rejected[:min(3, len(res.Rejected))])
		}
		e.truncate(b)
		start = time.Now()
		e.copyPlain(b, batch)
		copyRate = float64(n) / time.Since(start).Seconds()
	}
	e.truncate(b)
	b.ReportMetric(httpRate, "http-cases/s")
	b.ReportMetric(copyRate, "copy-cases/s")
	b.ReportMetric(100*httpRate/copyRate, "%-of-copy")
}

// loadMillion makes sure n demo cases are stored and indexed.
func (e *env) loadMillion(b *testing.B) {
	ctx := context.Background()
	n := 1000000
	if v, err := strconv.Atoi(os.Getenv("CITYGRID_BENCH_CASES")); err == nil {
		n = v
	}
	var have int
	_ = e.pool.QueryRow(ctx, `SELECT count(*) FROM cases`).Scan(&have)
	if have < n {
		e.truncate(b)
		start := time.Now()
		if _, err := demo.LoadCases(ctx, e.pool, n, time.Now(), nil); err != nil {
			b.Fatal(err)
		}
		_, _ = e.pool.Exec(ctx, `VACUUM ANALYZE cases`)
		b.Logf("loaded %d demo cases in %s", n, time.Since(start).Round(time.Second))
	}
	start := time.Now()
	if err := e.cases.LoadCaseIndex(ctx, e.caseIndex); err != nil {
		b.Fatal(err)
	}
	b.Logf("case index: %d cases loaded in %s", e.caseIndex.Len(), time.Since(start).Round(time.Millisecond))
}

// latency runs get b.N times and reports p50 and p99.
func latency(b *testing.B, get func() string) {
	var lat []time.Duration
	for b.Loop() {
		url := get()
		start := time.Now()
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(start))
		if resp.StatusCode != 200 {
			b.Fatalf("%s: %d %s", url, resp.StatusCode, body)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkHotspots measures GET /v1/hotspots at a million cases, with no
// filter and with a category and a 30-day window, and the same counts by a
// plain GROUP BY in PostGIS (res 9: the stored cell column), and emerging
// hot spots over 52 weekly steps.
//
//	go test ./internal/bench -run '^$' -bench Hotspots -benchtime 100x
func BenchmarkHotspots(b *testing.B) {
	e := setup(b)
	e.loadMillion(b)
	ctx := context.Background()
	now := time.Now().UTC()
	month := "&from=" + now.Add(-30*24*time.Hour).Format(time.RFC3339) + "&to=" + now.Format(time.RFC3339)
	year := "&from=" + now.Add(-365*24*time.Hour).Format(time.RFC3339) + "&to=" + now.Format(time.RFC3339)
	for _, res := range []int{9, 10} {
		for _, f := range []struct{ name, q string }{{"all", year}, {"category-30d", "&category=E05" + month}} {
			b.Run(fmt.Sprintf("res%d/%s", res, f.name), func(b *testing.B) {
				url := fmt.Sprintf("%s/v1/hotspots?res=%d%s", e.srv.URL, res, f.q)
				latency(b, func() string { return url })
			})
		}
	}
	for _, f := range []struct {
		name string
		sql  string
		args []any
	}{
		{"postgis-groupby/res9/all", `SELECT h3, count(*) FROM cases WHERE reported_at >= $1 AND reported_at < $2 GROUP BY h3`, []any{now.Add(-365 * 24 * time.Hour), now}},
		{"postgis-groupby/res9/category-30d", `SELECT h3, count(*) FROM cases WHERE reported_at >= $1 AND reported_at < $2 AND starts_with(category, 'E05') GROUP BY h3`, []any{now.Add(-30 * 24 * time.Hour), now}},
	} {
		b.Run(f.name, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				rows, err := e.pool.Query(ctx, f.sql, f.args...)
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
				}
				rows.Close()
				lat = append(lat, time.Since(start))
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
	b.Run("emerging/res9/52-weeks", func(b *testing.B) {
		url := fmt.Sprintf("%s/v1/hotspots/emerging?res=9&step=week&from=%s&to=%s", e.srv.URL,
			now.Add(-52*7*24*time.Hour).Format(time.RFC3339), now.Format(time.RFC3339))
		latency(b, func() string { return url })
	})
}

// BenchmarkAreaQuery loads a million demo cases (once; they stay for later
// runs) and measures 1 km² box and radius queries of 100 results through
// HTTP, reporting p50 and p99.
func BenchmarkAreaQuery(b *testing.B) {
	e := setup(b)
	e.loadMillion(b)
	rng := rand.New(rand.NewPCG(3, 3))
	box := e.bounds.Bound()
	randomPoint := func() orb.Point {
		for {
			p := orb.Point{box.Min[0] + rng.Float64()*(box.Max[0]-box.Min[0]), box.Min[1] + rng.Float64()*(box.Max[1]-box.Min[1])}
			if geo.Covers(e.bounds, p) {
				return p
			}
		}
	}
	// Half a kilometre each way: a 1 km² box; a radius of 564 m: a 1 km² disc.
	const halfDegLat = 500.0 / 110574
	queries := map[string]func(p orb.Point) string{
		"bbox-1km2": func(p orb.Point) string {
			dLon := halfDegLat / math.Cos(p[1]*math.Pi/180)
			return fmt.Sprintf("bbox=%f,%f,%f,%f&limit=100", p[0]-dLon, p[1]-halfDegLat, p[0]+dLon, p[1]+halfDegLat)
		},
		"radius-1km2": func(p orb.Point) string { return fmt.Sprintf("near=%f,%f&radius=564&limit=100", p[0], p[1]) },
		"bbox-1km2-open-category": func(p orb.Point) string {
			dLon := halfDegLat / math.Cos(p[1]*math.Pi/180)
			return fmt.Sprintf("bbox=%f,%f,%f,%f&limit=100&status=reported,accepted,dispatched,in_progress&category=E", p[0]-dLon, p[1]-halfDegLat, p[0]+dLon, p[1]+halfDegLat)
		},
	}
	names := make([]string, 0, len(queries))
	for name := range queries {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		q := queries[name]
		b.Run(name, func(b *testing.B) {
			latency(b, func() string { return e.srv.URL + "/v1/cases?" + q(randomPoint()) })
		})
	}
}

// TestIngestSmoke keeps this package's plumbing honest in ordinary test
// runs: a small bulk ingest through HTTP lands every case.
func TestIngestSmoke(t *testing.T) {
	e := setup(t)
	body, _ := e.ndjson(t, 500, fmt.Sprintf("smoke-%d-", time.Now().UnixNano()))
	resp, err := http.Post(e.srv.URL+"/v1/cases/bulk", "application/x-ndjson", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res cases.IngestResult
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || res.Accepted != 500 || len(res.Rejected) != 0 {
		t.Errorf("bulk ingest = %d %+v", resp.StatusCode, res)
	}
}
