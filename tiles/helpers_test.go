package tiles_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"

	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/geo"
	"citygrid/grid"
	"citygrid/tiles"
)

// testNow is the fixed clock of these tests.
var testNow = time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)

// square is a lng/lat rectangle as a one-ring polygon.
func square(x0, y0, x1, y1 float64) orb.Polygon {
	return orb.Polygon{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}
}

// district builds a 0.08° × 0.06° district near Qingdao split 2×2 into
// streets, each street 2×2 into communities, each community 4×4 into unit
// grids: neighbours share their edges exactly.
func district(t testing.TB) *grid.Index {
	t.Helper()
	const x0, y0, w, h = 120.34, 36.07, 0.08, 0.06
	grids := []*grid.Grid{{Code: "D", Name: "测试区", Level: grid.LevelDistrict, Geometry: square(x0, y0, x0+w, y0+h)}}
	var split func(parent string, level grid.Level, bx, by, bw, bh float64, n int)
	split = func(parent string, level grid.Level, bx, by, bw, bh float64, n int) {
		for i := range n {
			for j := range n {
				code := fmt.Sprintf("%s%d%d", parent, i, j)
				cx, cy, cw, ch := bx+float64(i)*bw/float64(n), by+float64(j)*bh/float64(n), bw/float64(n), bh/float64(n)
				grids = append(grids, &grid.Grid{Code: code, Name: "格" + code, Level: level, Parent: parent, Unit: "U" + code[:min(3, len(code))],
					Geometry: square(cx, cy, cx+cw, cy+ch)})
				switch level {
				case grid.LevelStreet:
					split(code, grid.LevelCommunity, cx, cy, cw, ch, 2)
				case grid.LevelCommunity:
					split(code, grid.LevelGrid, cx, cy, cw, ch, 4)
				}
			}
		}
	}
	split("D", grid.LevelStreet, x0, y0, w, h, 2)
	l, err := grid.NewLocator(grids, nil, grid.LocatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x := grid.NewIndex(grid.LocatorOptions{})
	x.Set(l)
	return x
}

// fillCases puts n random cases into the district, with statuses,
// categories and deadlines spread.
func fillCases(t testing.TB, idx *grid.Index, x *caseindex.Index, n int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	l := idx.Locator()
	b, _ := l.Bound("D")
	cats := []string{"E0101", "E0501", "C0104", "E0301"}
	for i := range n {
		p := orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
		gridCode, unit := assign(t, l, p)
		reported := testNow.Add(-time.Duration(rng.IntN(60*24)) * time.Hour)
		c := caseindex.Entry{ID: int64(i + 1), Location: p, ReportedAt: reported, DueAt: reported.Add(time.Duration(4+rng.IntN(200)) * time.Hour),
			Category: cats[rng.IntN(len(cats))], Status: cases.Statuses[rng.IntN(len(cases.Statuses))], Priority: 1 + rng.IntN(5),
			Source: []string{"patrol", "hotline"}[rng.IntN(2)], Unit: unit, Grid: gridCode}
		if _, err := x.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
}

// fakeHotspots classes cells by count: enough to draw, no statistics.
func fakeHotspots(x *caseindex.Index) tiles.HotspotFunc {
	return func(_ context.Context, q tiles.HotspotQuery) ([]tiles.HotCell, error) {
		loads := x.Clusters(q.Res, func(geo.Cell) bool { return true }, q.Filter, testNow)
		var out []tiles.HotCell
		for c, l := range loads {
			class := "none"
			if l.Count > 3 {
				class = "hot_95"
			}
			out = append(out, tiles.HotCell{Cell: c, Count: float64(l.Count), DensityKM2: float64(l.Count) / (c.AreaM2() / 1e6), GiZ: float64(l.Count) / 3, Class: class})
		}
		// In cell order, as the analysis gives them: a tile's bytes are
		// then the same on every render.
		slices.SortFunc(out, func(a, b tiles.HotCell) int { return cmp.Compare(a.Cell, b.Cell) })
		return out, nil
	}
}

type fixture struct {
	idx   *grid.Index
	cases *caseindex.Index
	svc   *tiles.Service
	now   time.Time
}

func newFixture(t testing.TB, n int, opt tiles.Options) *fixture {
	idx := district(t)
	x := caseindex.New()
	fillCases(t, idx, x, n, 7)
	f := &fixture{idx: idx, cases: x, now: testNow}
	f.svc = tiles.New(idx, x, fakeHotspots(x), opt, func() time.Time { return f.now })
	return f
}

// decode renders and decodes one tile.
func (f *fixture) decode(t testing.TB, layer string, tile geo.Tile, p tiles.Params) (mvt.Layers, *tiles.Encoded) {
	t.Helper()
	enc, _, err := f.svc.Tile(context.Background(), layer, tile, p)
	if err != nil {
		t.Fatalf("%s %s: %v", layer, tile, err)
	}
	if len(enc.Raw) == 0 {
		return nil, enc
	}
	layers, err := mvt.Unmarshal(enc.Raw)
	if err != nil {
		t.Fatalf("%s %s: decode: %v", layer, tile, err)
	}
	return layers, enc
}

func layerNamed(ls mvt.Layers, name string) *mvt.Layer {
	for _, l := range ls {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// districtTiles are the tiles at z covering the test district.
func (f *fixture) districtTiles(z int) []geo.Tile {
	b, _ := f.idx.Locator().Bound("D")
	return geo.TilesCovering(b, z)
}

func mvtUnmarshal(b []byte) (mvt.Layers, error) { return mvt.Unmarshal(b) }

// assign returns p's grid and unit codes.
func assign(t testing.TB, l *grid.Locator, p orb.Point) (gridCode, unit string) {
	t.Helper()
	a, err := l.Assign(p, "")
	if err != nil {
		t.Fatal(err)
	}
	if a.Grid != nil {
		gridCode = a.Grid.Code
	}
	if a.Owner != nil {
		unit = a.Owner.Unit.Code
	}
	return gridCode, unit
}
