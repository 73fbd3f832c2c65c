package tiles_test

import (
	"context"
	"maps"
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

// TestMain gives the package the database that the sql_*_test.go files check the
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
	var p tiles.Params
	if f.prefix != "" {
		p.Filter.Categories = []string{f.prefix}
	}
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
