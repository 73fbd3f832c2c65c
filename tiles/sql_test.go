package tiles_test

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"

	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/demo"
	"citygrid/geo"
	"citygrid/grid"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
	"citygrid/tiles"
)

// TestMain gives the package the database that sql_test.go checks the
// tiles against. The in-memory tests never ask for it, so they pay nothing.
func TestMain(m *testing.M) {
	dbtest.MainMigrated(m)
}

// sqlCases is how many demo cases the SQL cross-checks store.
const sqlCases = 4000

// sqlFixture is the demo district and demo cases on a test transaction
// (rolled back when the test ends), the indexes the tiles draw from loaded
// from it the way serve loads them, and a tile service over those.
type sqlFixture struct {
	tx    pgx.Tx
	idx   *grid.Index
	svc   *tiles.Service
	bound orb.Bound // of the top-level grids
	cases []sqlCase // every stored case, by id
}

// sqlCase is a stored case as SQL returns it.
type sqlCase struct {
	id       int64
	loc      orb.Point
	status   string
	category string
}

func newSQLFixture(t *testing.T) *sqlFixture {
	t.Helper()
	ctx := context.Background()
	tx := dbtest.Tx(t)
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM grids`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		if _, err := demo.Load(ctx, tx, nil); err != nil {
			t.Fatal("load the demo district:", err)
		}
	}
	idx := grid.NewIndex(grid.LocatorOptions{})
	if err := idx.Rebuild(ctx, postgres.NewGridStore(tx)); err != nil {
		t.Fatal(err)
	}
	l := idx.Locator()

	// The demo cases, made as demo.LoadCases makes them but located with
	// the index just built (LoadCases would build a second locator, which
	// takes seconds).
	store := postgres.NewCaseStore(tx)
	cats, err := store.Categories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cal, err := store.Calendar(ctx)
	if err != nil {
		t.Fatal(err)
	}
	district, err := demo.District()
	if err != nil {
		t.Fatal(err)
	}
	gen := demo.NewCaseGenerator(district, cats, cal, l, testNow, demo.Seed)
	batch := make([]*cases.Case, 0, sqlCases)
	for i := range sqlCases {
		c, err := gen.Case(i)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, c)
	}
	if _, err := store.InsertCases(ctx, batch); err != nil {
		t.Fatal("insert demo cases:", err)
	}
	x := caseindex.New()
	if err := store.LoadCaseIndex(ctx, x); err != nil {
		t.Fatal(err)
	}

	f := &sqlFixture{tx: tx, idx: idx, svc: tiles.New(idx, x, fakeHotspots(x), tiles.Options{}, func() time.Time { return testNow })}
	for i, g := range l.TopLevel() {
		b, _ := l.Bound(g.Code)
		if i == 0 {
			f.bound = b
		} else {
			f.bound = f.bound.Union(b)
		}
	}
	rows, err := tx.Query(ctx, `SELECT id, ST_X(geom), ST_Y(geom), status, category FROM cases ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	f.cases, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (sqlCase, error) {
		var c sqlCase
		err := r.Scan(&c.id, &c.loc[0], &c.loc[1], &c.status, &c.category)
		return c, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.cases) < sqlCases || x.Len() != len(f.cases) {
		t.Fatalf("%d cases stored, %d indexed, want at least %d", len(f.cases), x.Len(), sqlCases)
	}
	return f
}

// layer renders tile and decodes its source layer name (nil: none).
func (f *sqlFixture) layer(t *testing.T, layer string, tile geo.Tile, p tiles.Params) *mvt.Layer {
	t.Helper()
	enc, _, err := f.svc.Tile(context.Background(), layer, tile, p)
	if err != nil {
		t.Fatalf("%s %s: %v", layer, tile, err)
	}
	if len(enc.Raw) == 0 {
		return nil
	}
	ls, err := mvt.Unmarshal(enc.Raw)
	if err != nil {
		t.Fatalf("%s %s: decode: %v", layer, tile, err)
	}
	return layerNamed(ls, layer)
}

// sqlFilter is a case filter both as tile parameters and as SQL
// arguments.
type sqlFilter struct {
	name     string
	statuses []string // nil: any
	prefix   string   // category prefix
}

func (f sqlFilter) params() tiles.Params {
	p := tiles.Params{Filter: caseindex.Filter{Category: f.prefix}}
	for _, s := range f.statuses {
		p.Filter.Statuses = append(p.Filter.Statuses, cases.Status(s))
	}
	return p
}

var sqlFilters = []sqlFilter{
	{name: "none"},
	{name: "open", statuses: []string{"reported", "accepted", "dispatched", "in_progress"}},
	{name: "category E05", prefix: "E05"},
	{name: "closed E01", statuses: []string{"closed"}, prefix: "E01"},
}

// casesInTileSQL is the independent answer for a point tile: the cases in
// the tile's envelope grown by the 64-unit buffer, in Web Mercator, edges
// included. It must be ST_Intersects, not &&: && compares bounding boxes
// stored as float4, rounded outwards, which near x = 1.34e7 m is a metre
// (13 units at z17) of slop.
const casesInTileSQL = `
SELECT id FROM cases
WHERE ST_Intersects(ST_Transform(geom, 3857), ST_TileEnvelope($1::int, $2::int, $3::int, margin => 64.0 / 4096))
  AND ($4::text[] IS NULL OR status = ANY ($4))
  AND starts_with(category, $5)
ORDER BY id`

// pointTiles are the tiles at z around every planted hotspot (the densest
// places), at random cases and at random points of the district.
func (f *sqlFixture) pointTiles(z int, rng *rand.Rand) []geo.Tile {
	set := map[geo.Tile]bool{}
	n := uint32(1) << z
	for _, h := range demo.Hotspots {
		c := tileOf(h.Center, z)
		for dx := -1; dx <= 1; dx++ {
			for dy := -1; dy <= 1; dy++ {
				if x, y := int(c.X)+dx, int(c.Y)+dy; x >= 0 && y >= 0 && x < int(n) && y < int(n) {
					set[geo.Tile{Z: uint32(z), X: uint32(x), Y: uint32(y)}] = true
				}
			}
		}
	}
	for range 10 {
		set[tileOf(f.cases[rng.IntN(len(f.cases))].loc, z)] = true
	}
	for range 5 {
		p := orb.Point{f.bound.Min[0] + rng.Float64()*(f.bound.Max[0]-f.bound.Min[0]), f.bound.Min[1] + rng.Float64()*(f.bound.Max[1]-f.bound.Min[1])}
		set[tileOf(p, z)] = true
	}
	out := slices.Collect(maps.Keys(set))
	slices.SortFunc(out, func(a, b geo.Tile) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// TestTilesAgainstSQL checks every layer's tiles, drawn from memory,
// against independent PostGIS queries over the stored demo district and
// demo cases.
func TestTilesAgainstSQL(t *testing.T) {
	f := newSQLFixture(t)
	t.Run("points", f.testPoints)
	t.Run("clusters", f.testClusters)
	t.Run("grids", f.testGrids)
	t.Run("no cracks", f.testNoCracks)
}

// testPoints: at point zooms the case ids in a tile are exactly those SQL
// finds in the buffered tile envelope, for every filter.
func (f *sqlFixture) testPoints(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(4, 14))
	byID := map[int64]sqlCase{}
	for _, c := range f.cases {
		byID[c.id] = c
	}
	checked, nonEmpty := 0, 0
	for _, z := range []int{14, 15, 17} {
		for _, tile := range f.pointTiles(z, rng) {
			for _, flt := range sqlFilters {
				rows, err := f.tx.Query(ctx, casesInTileSQL, tile.Z, tile.X, tile.Y, flt.statuses, flt.prefix)
				if err != nil {
					t.Fatal(err)
				}
				want, err := pgx.CollectRows(rows, pgx.RowTo[int64])
				if err != nil {
					t.Fatal(err)
				}
				var got []int64
				if l := f.layer(t, tiles.LayerCases, tile, flt.params()); l != nil {
					for _, feat := range l.Features {
						id := int64(feat.Properties["id"].(float64))
						if feat.ID == nil || int64(feat.ID.(float64)) != id {
							t.Errorf("%s: feature id %v, property id %d", tile, feat.ID, id)
						}
						c := byID[id]
						if feat.Properties["status"] != c.status || feat.Properties["category"] != c.category {
							t.Errorf("%s: case %d drawn as %v/%v, stored %s/%s", tile, id, feat.Properties["status"], feat.Properties["category"], c.status, c.category)
						}
						got = append(got, id)
					}
				}
				slices.Sort(got)
				checked++
				if len(want) > 0 {
					nonEmpty++
				}
				if !slices.Equal(got, want) {
					t.Errorf("z%d %s filter %s: %d cases in the tile, SQL finds %d; %s",
						z, tile, flt.name, len(got), len(want), f.describeDiff(tile, got, want, byID))
				}
			}
		}
	}
	if nonEmpty < checked/2 {
		t.Errorf("only %d of %d tile/filter pairs had cases: the check says little", nonEmpty, checked)
	}
	t.Logf("%d tile/filter pairs at z14, z15, z17 equal to SQL (%d with cases)", checked, nonEmpty)
}

// describeDiff names the cases only one side has, with where they lie in
// tile units.
func (f *sqlFixture) describeDiff(tile geo.Tile, got, want []int64, byID map[int64]sqlCase) string {
	pr := geo.NewProjector(tile, tiles.Extent)
	where := func(ids []int64) string {
		var parts []string
		for _, id := range ids {
			x, y := pr.Project(byID[id].loc)
			parts = append(parts, fmt.Sprintf("%d at (%.6f, %.6f)", id, x, y))
			if len(parts) == 5 {
				parts = append(parts, "...")
				break
			}
		}
		return strings.Join(parts, ", ")
	}
	var extra, missing []int64
	for _, id := range got {
		if _, ok := slices.BinarySearch(want, id); !ok {
			extra = append(extra, id)
		}
	}
	for _, id := range want {
		if _, ok := slices.BinarySearch(got, id); !ok {
			missing = append(missing, id)
		}
	}
	return fmt.Sprintf("only in the tile: [%s]; only in SQL: [%s]", where(extra), where(missing))
}

// clusterCentresInTileSQL picks, of the cases given with their cluster
// cells' centres, those whose centre lies in the buffered tile envelope,
// with their stored status; $7 filters on status as tiles do.
const clusterCentresInTileSQL = `
SELECT c.id, c.status
FROM unnest($1::bigint[], $2::float8[], $3::float8[]) AS cc (id, lng, lat)
JOIN cases c ON c.id = cc.id
WHERE ST_Intersects(ST_Transform(ST_SetSRID(ST_MakePoint(cc.lng, cc.lat), 4326), 3857),
                    ST_TileEnvelope($4::int, $5::int, $6::int, margin => 64.0 / 4096))
  AND ($7::text[] IS NULL OR c.status = ANY ($7))`

// clusterLoad is one cluster's counts.
type clusterLoad struct {
	count    int
	byStatus map[string]int
}

// testClusters: at cluster zooms every tile's clusters count exactly the
// cases whose cluster cell (caseindex.Cell at ClusterRes(z)) has its centre in the buffered tile, SQL deciding the
// "in"; each cell is drawn with the same counts in every tile showing it;
// and the cells of a zoom count every case once.
func (f *sqlFixture) testClusters(t *testing.T) {
	ctx := context.Background()
	for _, flt := range []sqlFilter{sqlFilters[0], sqlFilters[1]} {
		var total int
		if err := f.tx.QueryRow(ctx, `SELECT count(*) FROM cases WHERE $1::text[] IS NULL OR status = ANY ($1)`, flt.statuses).Scan(&total); err != nil {
			t.Fatal(err)
		}
		for z := 10; z <= 13; z++ {
			res := tiles.ClusterRes(uint32(z))
			ids := make([]int64, len(f.cases))
			lngs := make([]float64, len(f.cases))
			lats := make([]float64, len(f.cases))
			cellOf := map[int64]geo.Cell{}
			set := map[geo.Tile]bool{}
			for _, tl := range geo.TilesCovering(f.bound, z) {
				set[tl] = true
			}
			for i, c := range f.cases {
				cell, err := caseindex.Cell(c.loc, res)
				if err != nil {
					t.Fatal(err)
				}
				centre := cell.Center()
				ids[i], lngs[i], lats[i], cellOf[c.id] = c.id, centre[0], centre[1], cell
				for _, tl := range geo.TilesAt(centre, z, tiles.Extent, tiles.Buffer) {
					set[tl] = true
				}
			}
			seen := map[string]int{} // cell → count, over the zoom
			for tile := range set {
				rows, err := f.tx.Query(ctx, clusterCentresInTileSQL, ids, lngs, lats, tile.Z, tile.X, tile.Y, flt.statuses)
				if err != nil {
					t.Fatal(err)
				}
				want := map[string]*clusterLoad{}
				var id int64
				var status string
				if _, err := pgx.ForEachRow(rows, []any{&id, &status}, func() error {
					cell := cellOf[id].String()
					if want[cell] == nil {
						want[cell] = &clusterLoad{byStatus: map[string]int{}}
					}
					want[cell].count++
					want[cell].byStatus[status]++
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				got := map[string]*clusterLoad{}
				if l := f.layer(t, tiles.LayerCases, tile, flt.params()); l != nil {
					for _, feat := range l.Features {
						cell := feat.Properties["h3"].(string)
						if feat.Properties["cluster"] != true {
							t.Fatalf("z%d %s: feature %v is not a cluster", z, tile, feat.Properties)
						}
						load := &clusterLoad{count: int(feat.Properties["count"].(float64)), byStatus: map[string]int{}}
						sum := 0
						for _, st := range cases.Statuses {
							if n := int(feat.Properties[string(st)].(float64)); n > 0 {
								load.byStatus[string(st)] = n
								sum += n
							}
						}
						if sum != load.count {
							t.Errorf("z%d %s cell %s: statuses sum to %d, count %d", z, tile, cell, sum, load.count)
						}
						if n, ok := seen[cell]; ok && n != load.count {
							t.Errorf("z%d cell %s: count %d in %s, %d in another tile", z, cell, load.count, tile, n)
						}
						seen[cell] = load.count
						got[cell] = load
					}
				}
				gotSum, wantSum := 0, 0
				for _, l := range got {
					gotSum += l.count
				}
				for _, l := range want {
					wantSum += l.count
				}
				if gotSum != wantSum {
					t.Errorf("filter %s z%d %s: the clusters count %d cases, SQL %d", flt.name, z, tile, gotSum, wantSum)
				}
				for cell, w := range want {
					if g := got[cell]; g == nil || g.count != w.count || !maps.Equal(g.byStatus, w.byStatus) {
						t.Errorf("filter %s z%d %s cell %s: drawn %+v, SQL %+v", flt.name, z, tile, cell, g, w)
					}
				}
				for cell := range got {
					if want[cell] == nil {
						t.Errorf("filter %s z%d %s: cell %s drawn, but SQL puts none of its cases' centres in the tile", flt.name, z, tile, cell)
					}
				}
			}
			sum := 0
			for _, n := range seen {
				sum += n
			}
			if sum != total {
				t.Errorf("filter %s z%d: the clusters of all %d tiles count %d cases, SQL %d", flt.name, z, len(set), sum, total)
			}
		}
	}
}

// gridsInTileSQL is the independent answer for a grids tile: the grids of
// the given levels meeting the buffered tile envelope.
const gridsInTileSQL = `
SELECT code FROM grids
WHERE level = ANY ($4::smallint[])
  AND ST_Intersects(ST_Transform(geom, 3857), ST_TileEnvelope($1::int, $2::int, $3::int, margin => 64.0 / 4096))
ORDER BY code`

// gridSliverSQL reports, for a grid SQL and the tile disagree on, whether
// its part in the buffered envelope is thinner than one tile unit (so that
// snapping to the tile's integer grid may erase it), and how far it is from
// the envelope in tile units.
const gridSliverSQL = `
WITH e AS (SELECT ST_TileEnvelope($1::int, $2::int, $3::int, margin => 64.0 / 4096) AS env,
                  (ST_XMax(ST_TileEnvelope($1::int, $2::int, $3::int)) - ST_XMin(ST_TileEnvelope($1::int, $2::int, $3::int))) / 4096 AS unit),
g AS (SELECT ST_Transform(geom, 3857) AS geom FROM grids WHERE code = $4)
SELECT ST_IsEmpty(ST_Buffer(ST_Intersection(g.geom, e.env), -e.unit)), ST_Distance(g.geom, e.env) / e.unit
FROM e, g`

// LevelsAt is tiles.LevelsAt, unexported there: what a grids tile shows by
// zoom.
func LevelsAt(z int) []int16 {
	switch {
	case z <= 11:
		return []int16{int16(grid.LevelDistrict), int16(grid.LevelStreet)}
	case z <= 14:
		return []int16{int16(grid.LevelCommunity)}
	default:
		return []int16{int16(grid.LevelGrid)}
	}
}

// testGrids: a grids tile draws exactly the grids of its zoom's levels that
// SQL finds meeting the buffered envelope, except those whose part in it
// is a sliver under a unit wide (snapping may erase it) or that only touch
// it (within a unit).
func (f *sqlFixture) testGrids(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 16))
	l := f.idx.Locator()
	tolerated, drawn := 0, 0
	for z := 10; z <= 16; z++ {
		ts := geo.TilesCovering(f.bound, z)
		if z == 16 {
			rng.Shuffle(len(ts), func(i, j int) { ts[i], ts[j] = ts[j], ts[i] })
			ts = ts[:60]
		}
		levels := LevelsAt(z)
		for _, tile := range ts {
			rows, err := f.tx.Query(ctx, gridsInTileSQL, tile.Z, tile.X, tile.Y, levels)
			if err != nil {
				t.Fatal(err)
			}
			want, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			if lay := f.layer(t, tiles.LayerGrids, tile, tiles.Params{}); lay != nil {
				for _, feat := range lay.Features {
					code := feat.Properties["code"].(string)
					g, ok := l.Grid(code)
					if !ok {
						t.Fatalf("%s: unknown grid %q drawn", tile, code)
					}
					if feat.Properties["level"] != g.Level.String() || !slices.Contains(levels, int16(g.Level)) {
						t.Errorf("z%d %s: grid %s of level %v drawn", z, tile, code, feat.Properties["level"])
					}
					got = append(got, code)
				}
			}
			slices.Sort(got)
			drawn += len(got)
			if slices.Equal(got, want) {
				continue
			}
			for _, code := range symmetricDiff(got, want) {
				var thin bool
				var dist float64
				if err := f.tx.QueryRow(ctx, gridSliverSQL, tile.Z, tile.X, tile.Y, code).Scan(&thin, &dist); err != nil {
					t.Fatal(err)
				}
				_, inSQL := slices.BinarySearch(want, code)
				switch {
				case inSQL && thin:
					tolerated++ // meets the envelope in a sliver: erased by snapping
				case !inSQL && dist > 0 && dist < 1:
					tolerated++ // touches the envelope within a unit: rounding
				case inSQL:
					t.Errorf("z%d %s: grid %s meets the envelope (more than a sliver), but is not drawn", z, tile, code)
				default:
					t.Errorf("z%d %s: grid %s drawn, but is %.2f units from the buffered envelope", z, tile, code, dist)
				}
			}
		}
	}
	t.Logf("%d grid features at z10–z16 checked against SQL; %d differences were slivers or touches under a unit", drawn, tolerated)
}

func symmetricDiff(a, b []string) []string {
	var out []string
	for _, s := range a {
		if _, ok := slices.BinarySearch(b, s); !ok {
			out = append(out, s)
		}
	}
	for _, s := range b {
		if _, ok := slices.BinarySearch(a, s); !ok {
			out = append(out, s)
		}
	}
	return out
}

// tileRings are a decoded polygon's rings in doubled tile units, so that
// the midpoint of two tile points is a whole number too.
type tileRings [][][2]int64

func ringsOf(t *testing.T, g orb.Geometry) tileRings {
	t.Helper()
	var polys []orb.Polygon
	switch g := g.(type) {
	case orb.Polygon:
		polys = []orb.Polygon{g}
	case orb.MultiPolygon:
		polys = g
	default:
		t.Fatalf("grid geometry %T, want a polygon", g)
	}
	var out tileRings
	for _, poly := range polys {
		for _, r := range poly {
			ring := make([][2]int64, 0, len(r))
			for _, p := range r {
				ring = append(ring, [2]int64{2 * int64(p[0]), 2 * int64(p[1])})
			}
			out = append(out, ring)
		}
	}
	return out
}

// on reports whether p (doubled units) lies on an edge of rs, exactly.
func (rs tileRings) on(p [2]int64) bool {
	for _, r := range rs {
		for i := range r {
			a, b := r[i], r[(i+1)%len(r)]
			if (b[0]-a[0])*(p[1]-a[1])-(b[1]-a[1])*(p[0]-a[0]) != 0 {
				continue
			}
			if min(a[0], b[0]) <= p[0] && p[0] <= max(a[0], b[0]) && min(a[1], b[1]) <= p[1] && p[1] <= max(a[1], b[1]) {
				return true
			}
		}
	}
	return false
}

// distance is how far p (tile units) is from the nearest edge of rs.
func (rs tileRings) distance(p [2]float64) float64 {
	best := math.Inf(1)
	for _, r := range rs {
		for i := range r {
			a := [2]float64{float64(r[i][0]) / 2, float64(r[i][1]) / 2}
			b := [2]float64{float64(r[(i+1)%len(r)][0]) / 2, float64(r[(i+1)%len(r)][1]) / 2}
			best = math.Min(best, segmentDistance(p, a, b))
		}
	}
	return best
}

func segmentDistance(p, a, b [2]float64) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	s := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		s = math.Max(0, math.Min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l))
	}
	return math.Hypot(a[0]+s*dx-p[0], a[1]+s*dy-p[1])
}

// testNoCracks: at z15–z17, neighbouring unit grids meet without cracks in
// the tile. The check is exact and only uses what the source guarantees:
// where two grids share a vertex in the stored data, its snapped position
// lies on both drawn boundaries; where they share an edge (consecutive
// shared vertices), the drawn edge's midpoint lies on both boundaries too.
// Vertices near the buffer's edge are left out (clipping moves them).
// Where a vertex of one grid lies on the other's edge without being its
// vertex (a T-junction, within 1e-9° in the demo data), exact sharing is
// impossible for any snapping; its distance to the neighbour's drawn edge
// must stay under 1.5 units (the two roundings' bound) and is logged.
func (f *sqlFixture) testNoCracks(t *testing.T) {
	l := f.idx.Locator()
	rng := rand.New(rand.NewPCG(6, 17))
	var ts []geo.Tile
	ts = append(ts, geo.TilesCovering(f.bound, 15)...)
	for _, z := range []int{16, 17} {
		more := geo.TilesCovering(f.bound, z)
		rng.Shuffle(len(more), func(i, j int) { more[i], more[j] = more[j], more[i] })
		ts = append(ts, more[:40]...)
	}
	var vertices, edges, tjunctions, gone int
	worstT := 0.0
	for _, tile := range ts {
		lay := f.layer(t, tiles.LayerGrids, tile, tiles.Params{})
		if lay == nil {
			continue
		}
		drawn := map[string]tileRings{}
		var codes []string
		for _, feat := range lay.Features {
			code := feat.Properties["code"].(string)
			drawn[code] = ringsOf(t, feat.Geometry)
			codes = append(codes, code)
		}
		// Who has which source vertex, among the unit grids near the tile.
		owners := map[orb.Point][]string{}
		var near []*grid.Grid
		bound := tile.Bound(tiles.Extent, tiles.Buffer)
		l.AtLevel(grid.LevelGrid, func(g *grid.Grid, b orb.Bound) {
			if !b.Intersects(bound) {
				return
			}
			near = append(near, g)
			for _, poly := range g.MultiPolygon() {
				for _, r := range poly {
					for _, p := range r[:len(r)-1] {
						if !slices.Contains(owners[p], g.Code) {
							owners[p] = append(owners[p], g.Code)
						}
					}
				}
			}
		})
		pr := geo.NewProjector(tile, tiles.Extent)
		inside := func(p orb.Point) ([2]int64, [2]float64, bool) {
			x, y := pr.Project(p)
			lo, hi := float64(-tiles.Buffer+2), float64(tiles.Extent+tiles.Buffer-2)
			return [2]int64{2 * int64(math.Round(x)), 2 * int64(math.Round(y))}, [2]float64{x, y}, x > lo && x < hi && y > lo && y < hi
		}
		for _, code := range codes {
			g, _ := l.Grid(code)
			mine := drawn[code]
			for _, poly := range g.MultiPolygon() {
				for _, r := range poly {
					n := len(r) - 1 // closed ring
					for i := range n {
						v, w := r[i], r[(i+1)%n]
						vs, vf, vIn := inside(v)
						if !vIn {
							continue
						}
						ws, _, wIn := inside(w)
						for _, other := range owners[v] {
							theirs, ok := drawn[other]
							if other == code {
								continue
							}
							if !ok {
								gone++ // erased by snapping: nothing to crack
								continue
							}
							vertices++
							if !mine.on(vs) || !theirs.on(vs) {
								t.Errorf("%s: vertex %v shared by %s and %s is drawn at %v, on %s's boundary %t, on %s's %t",
									tile, v, code, other, [2]float64{float64(vs[0]) / 2, float64(vs[1]) / 2}, code, mine.on(vs), other, theirs.on(vs))
							}
							if !wIn || !slices.Contains(owners[w], other) || !hasEdge(l, other, v, w) {
								continue
							}
							edges++
							mid := [2]int64{(vs[0] + ws[0]) / 2, (vs[1] + ws[1]) / 2}
							if !mine.on(mid) || !theirs.on(mid) {
								t.Errorf("%s: edge %v–%v shared by %s and %s: drawn midpoint %v not on both boundaries (%t, %t)",
									tile, v, w, code, other, [2]float64{float64(mid[0]) / 2, float64(mid[1]) / 2}, mine.on(mid), theirs.on(mid))
							}
						}
						// T-junctions: on a neighbour's edge, not its vertex.
						for _, q := range near {
							theirs, ok := drawn[q.Code]
							if !ok || q.Code == code || slices.Contains(owners[v], q.Code) || !onSourceEdge(q, v, 1e-8) {
								continue
							}
							tjunctions++
							d := theirs.distance([2]float64{float64(vs[0]) / 2, float64(vs[1]) / 2})
							worstT = math.Max(worstT, d)
							if d > 1.5 {
								t.Errorf("%s: vertex %v of %s on %s's edge is drawn %.2f units from it (at %v, unsnapped %v)", tile, v, code, q.Code, d, vs, vf)
							}
						}
					}
				}
			}
		}
	}
	if vertices < 10000 || edges < 5000 {
		t.Errorf("only %d shared vertices and %d shared edges checked: the check says little", vertices, edges)
	}
	t.Logf("%d tiles at z15–z17: %d shared vertices and %d shared edges checked; %d neighbours erased; %d T-junctions, at most %.2f units off",
		len(ts), vertices, edges, gone, tjunctions, worstT)
}

// hasEdge reports whether v–w (either way) is an edge of grid code's
// stored geometry.
func hasEdge(l *grid.Locator, code string, v, w orb.Point) bool {
	g, _ := l.Grid(code)
	for _, poly := range g.MultiPolygon() {
		for _, r := range poly {
			for i := 0; i+1 < len(r); i++ {
				if (r[i] == v && r[i+1] == w) || (r[i] == w && r[i+1] == v) {
					return true
				}
			}
		}
	}
	return false
}

// onSourceEdge reports whether p lies within tol degrees of an edge of g.
func onSourceEdge(g *grid.Grid, p orb.Point, tol float64) bool {
	if !g.Geometry.Bound().Pad(tol).Contains(p) {
		return false
	}
	for _, poly := range g.MultiPolygon() {
		for _, r := range poly {
			for i := 0; i+1 < len(r); i++ {
				if segmentDistance([2]float64(p), [2]float64(r[i]), [2]float64(r[i+1])) < tol {
					return true
				}
			}
		}
	}
	return false
}
